# The AnoMed detector (supervised), CPU sized: Faster R-CNN, slim R-18 from scratch,
# neck = SIB + FA, same data and recipe as the FPN baseline it inherits from
# (configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py), so the two compare.
_base_ = '../faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'

model = dict(neck=_base_.slim_sib_fa_neck)  # _base_/models/r18-slim_parts.py
