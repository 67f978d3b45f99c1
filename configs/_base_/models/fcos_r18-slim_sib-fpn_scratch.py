# FCOS, CPU sized (slim R-18 from scratch), neck = SIB + FPN (P3-P7, SIB on C3-C5), GN head.
_base_ = './r18-slim_parts.py'

model = dict(
    type='FCOS',
    data_preprocessor=_base_.slim_data_preprocessor,
    backbone=_base_.slim_backbone,
    neck=[
        _base_.slim_sib_c3,
        dict(_base_.slim_fpn_c3, relu_before_extra_convs=True),
    ],
    bbox_head=dict(
        type='FCOSHead', num_classes=5, in_channels=64, stacked_convs=2, feat_channels=64,
        strides=[8, 16, 32, 64, 128], norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='IoULoss', loss_weight=1.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    test_cfg=dict(
        nms_pre=500, min_bbox_size=0, score_thr=0.01, nms=dict(type='nms', iou_threshold=0.5),
        max_per_img=50))
