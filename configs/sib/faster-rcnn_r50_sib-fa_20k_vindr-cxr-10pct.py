# Supervised reference for AnoMed on VinDr-CXR (5 classes): the AnoMed detector (Faster R-CNN, ImageNet
# R-50 through init_cfg, neck = SIB + FA) trained on the labelled 10% only, with the labelled
# images and augmentation of the semi-supervised config; 20k iterations on 8 GPUs x 2 images.
# Data layout: configs/_base_/datasets/semi_vindr_cxr_detection.py.
_base_ = [
    '../_base_/models/faster-rcnn_r50_sib-fa.py',
    '../_base_/datasets/vindr_cxr_detection.py',
    '../_base_/schedules/schedule_iter.py',
    '../_base_/default_runtime.py',
]

model = dict(roi_head=dict(bbox_head=dict(num_classes=5)))
# 8 GPUs x 2 images = mmdet's batch 16 for SGD 0.02
optim_wrapper = dict(optimizer=dict(lr=0.02), clip_grad=dict(max_norm=35, norm_type=2))
default_hooks = dict(checkpoint=dict(interval=2000, save_best='coco/bbox_mAP', rule='greater'))
