# The AnoMed detector at paper scale (supervised): Faster R-CNN, ImageNet R-50 (torchvision,
# downloaded on first use through init_cfg), neck = SIB + FA, 512 px synthetic CXR, 20k iters.
_base_ = [
    '../_base_/models/faster-rcnn_r50_sib-fa.py',
    '../_base_/datasets/synth_cxr_detection.py',
    '../_base_/schedules/schedule_iter.py',
    '../_base_/default_runtime.py',
]

model = dict(roi_head=dict(bbox_head=dict(num_classes=5)))
# batch 4 (dataset default): linear scaling of mmdet's 0.02 for batch 16
optim_wrapper = dict(optimizer=dict(lr=0.005), clip_grad=dict(max_norm=35, norm_type=2))
