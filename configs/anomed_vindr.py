# The short name: python tools/train.py configs/anomed_vindr.py
# (AnoMed, Faster R-CNN R-50 + SIB + FA, VinDr-CXR 5 classes, 10% labels; see the full config).
_base_ = ['./anomed/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-vindr-cxr.py']
