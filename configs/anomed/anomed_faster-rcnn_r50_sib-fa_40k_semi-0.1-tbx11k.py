# AnoMed at paper scale on TBX11K (2 tuberculosis classes, 10% labels): R-50, SIB + FA, 512 px
# (448-576 jitter), 40k iterations on 8 GPUs x 5 images. Data layout:
# configs/_base_/datasets/semi_tbx11k_detection.py. Untuned for TBX11K: the VinDr-CXR schedule.
_base_ = [
    '../_base_/semi/anomed_faster-rcnn_r50_sib-fa_40k.py',
    '../_base_/datasets/semi_tbx11k_detection.py',
]

model = dict(detector=dict(roi_head=dict(bbox_head=dict(num_classes=2))))
