# FCOS, CPU sized (slim R-18 from scratch), neck = SIB + FPN (P3-P7, SIB on C3-C5), GN head.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='FCOS',
    data_preprocessor=dict(
        type='DetDataPreprocessor', mean=[128.0, 128.0, 128.0], std=[64.0, 64.0, 64.0],
        bgr_to_rgb=False, pad_size_divisor=32),
    backbone=dict(
        type='ResNet', depth=18, base_channels=32, num_stages=4, out_indices=(0, 1, 2, 3),
        frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, style='pytorch', init_cfg=None),
    neck=[
        dict(type='SIB', in_channels=[32, 64, 128, 256], mid_channels=32,
             enhance_indices=(1, 2, 3)),
        dict(type='FPN', in_channels=[32, 64, 128, 256], out_channels=64, start_level=1,
             add_extra_convs='on_output', num_outs=5, relu_before_extra_convs=True),
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
