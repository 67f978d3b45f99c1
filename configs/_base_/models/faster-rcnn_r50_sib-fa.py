# The AnoMed detector at paper scale: Faster R-CNN, ImageNet-initialised R-50 (torchvision,
# through init_cfg), neck = SIB (defaults: N=3 EDM levels of depth 3, 64-channel internal width,
# all four maps enhanced, GN) then FA (FPN output contract: 5 levels of 256 channels).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

model = dict(
    neck=[
        dict(type='SIB', in_channels=[256, 512, 1024, 2048]),
        dict(type='FA', in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=5),
    ])
