# AnoMed at paper scale on VinDr-CXR (5 classes, 10% labels): Faster R-CNN, ImageNet R-50
# (torchvision weights through init_cfg, downloaded on first use), neck = SIB + FA, 1024 px,
# 40k iterations on 8 GPUs x 5 images (1 labelled + 4 unlabelled):
#   bash tools/dist_train.sh configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-vindr-cxr.py 8
# Short name: configs/anomed_vindr.py. Data layout: configs/_base_/datasets/semi_vindr_cxr_detection.py.
_base_ = [
    '../_base_/semi/anomed_faster-rcnn_r50_sib-fa_40k.py',
    '../_base_/datasets/semi_vindr_cxr_detection.py',
]

model = dict(detector=dict(roi_head=dict(bbox_head=dict(num_classes=5))))
