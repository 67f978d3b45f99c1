# Faster R-CNN R-50 with SIB placed before mmdet's FPN (ablation of FA; see docs/necks.md).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

model = dict(
    neck=[
        dict(type='SIB', in_channels=[256, 512, 1024, 2048]),
        dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=5),
    ])
