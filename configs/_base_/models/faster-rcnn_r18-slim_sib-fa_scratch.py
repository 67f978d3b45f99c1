# The AnoMed detector, CPU sized: the slim R-18 Faster R-CNN (stage widths 32-256, from scratch)
# with neck = SIB (N=3, EDM depth 3, 32-channel internal width, GN) + FA (5 levels of 64).
# The neck is defined once, in ./r18-slim_parts.py (slim_sib_fa_neck), and inherited by every
# config that uses it.
_base_ = './faster-rcnn_r18-slim_fpn_scratch.py'

model = dict(neck=_base_.slim_sib_fa_neck)  # defined in ./r18-slim_parts.py
