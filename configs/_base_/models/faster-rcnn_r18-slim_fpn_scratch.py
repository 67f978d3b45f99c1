# Faster R-CNN, CPU sized: a half-width ResNet-18 (base_channels=32) trained from scratch (nothing
# is downloaded), a 64-channel FPN and a light RoI head. Grayscale radiographs are read as three
# equal channels; anchors start at 8 px (scale 2 at stride 4) and the RPN's best anchor of a box
# is a positive down to IoU 0.05, so the 2-4 px calcifications of the 320 px inputs get positives
# (why: docs/plo.md, "16 px anchors"). RoIAlign uses a fixed sampling ratio and proposals are
# capped: both dominate CPU time otherwise.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py', './r18-slim_parts.py']

model = dict(
    data_preprocessor=_base_.slim_data_preprocessor,
    backbone=_base_.slim_backbone,
    neck=dict(in_channels=_base_.slim_channels, out_channels=64),
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        anchor_generator=dict(scales=[2], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64])),
    roi_head=dict(
        bbox_roi_extractor=dict(
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2), out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=5)),
    train_cfg=dict(
        rpn=dict(assigner=dict(min_pos_iou=0.05)),
        rpn_proposal=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=300),
        rcnn=dict(score_thr=0.01, max_per_img=50)))
