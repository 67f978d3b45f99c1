# ATSS, CPU sized (slim R-18 from scratch), neck = SIB + FPN (P3-P7, SIB on C3-C5).
_base_ = './r18-slim_parts.py'

model = dict(
    type='ATSS',
    data_preprocessor=_base_.slim_data_preprocessor,
    backbone=_base_.slim_backbone,
    neck=[_base_.slim_sib_c3, _base_.slim_fpn_c3],
    bbox_head=dict(
        type='ATSSHead', num_classes=5, in_channels=64, stacked_convs=2, feat_channels=64,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        anchor_generator=dict(
            type='AnchorGenerator', ratios=[1.0], octave_base_scale=8, scales_per_octave=1,
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0),
        loss_centerness=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(assigner=dict(type='ATSSAssigner', topk=9), allowed_border=-1, pos_weight=-1,
                   debug=False),
    test_cfg=dict(
        nms_pre=500, min_bbox_size=0, score_thr=0.01, nms=dict(type='nms', iou_threshold=0.6),
        max_per_img=50))
