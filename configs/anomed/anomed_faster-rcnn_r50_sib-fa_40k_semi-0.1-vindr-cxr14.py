# AnoMed at paper scale on VinDr-CXR with the 14 Kaggle classes (10% labels): the recipe of
# anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-vindr-cxr.py (R-50, SIB + FA, 1024 px, 40k iterations,
# 8 GPUs x 5 images). Data layout: configs/_base_/datasets/semi_vindr_cxr14_detection.py.
_base_ = [
    '../_base_/semi/anomed_faster-rcnn_r50_sib-fa_40k.py',
    '../_base_/datasets/semi_vindr_cxr14_detection.py',
]

model = dict(detector=dict(roi_head=dict(bbox_head=dict(num_classes=14))))
