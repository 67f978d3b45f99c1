# RetinaNet, CPU sized: slim ResNet-18 from scratch (as the Faster R-CNN base), 64-channel FPN
# from C3, two stacked head convs, smaller anchors (octave base 2: 16 px at stride 8).
_base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py', './r18-slim_parts.py']

model = dict(
    data_preprocessor=_base_.slim_data_preprocessor,
    backbone=_base_.slim_backbone,
    neck=dict(in_channels=_base_.slim_channels, out_channels=64, start_level=1,
              add_extra_convs='on_input', num_outs=5),
    bbox_head=dict(num_classes=5, in_channels=64, feat_channels=64, stacked_convs=2,
                   anchor_generator=dict(octave_base_scale=2)),
    test_cfg=dict(nms_pre=500, score_thr=0.01, max_per_img=50))
