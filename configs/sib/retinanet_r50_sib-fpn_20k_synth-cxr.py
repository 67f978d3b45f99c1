# RetinaNet at paper scale with SIB before its FPN: ImageNet R-50 (torchvision, through
# init_cfg), SIB on C3-C5 (FPN starts at C3), 512 px synthetic CXR, 20k iterations.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    '../_base_/datasets/synth_cxr_detection.py',
    '../_base_/schedules/schedule_iter.py',
    '../_base_/default_runtime.py',
]

model = dict(
    neck=[
        dict(type='SIB', in_channels=[256, 512, 1024, 2048], enhance_indices=(1, 2, 3)),
        dict(type='FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, start_level=1,
             add_extra_convs='on_input', num_outs=5),
    ],
    bbox_head=dict(num_classes=5))
optim_wrapper = dict(optimizer=dict(lr=0.0025), clip_grad=dict(max_norm=35, norm_type=2))
