# The AnoMed detector on the CPU: Faster R-CNN (slim R-18) with neck = SIB + FA, trained by the
# PLO on the synthetic chest X-rays (10% labels, 320 px, 1k iterations, batch 1 + 4).
_base_ = ['./anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py']

model = dict(detector=dict(neck=_base_.slim_sib_fa_neck))  # _base_/models/r18-slim_parts.py
