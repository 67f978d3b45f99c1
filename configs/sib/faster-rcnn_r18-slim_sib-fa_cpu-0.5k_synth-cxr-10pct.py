# `make demo`, step 1: the AnoMed detector (SIB + FA) trained on the labelled 10% only, 500
# iterations (~5 minutes on 2 cores). It is the supervised reference the demo prints and the
# burn-in AnoMed starts from.
# The FPN trunk's recipe (../faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-0.5k_synth-cxr-10pct.py)
# with the slim SIB + FA neck.
_base_ = '../faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-0.5k_synth-cxr-10pct.py'

model = dict(neck=_base_.slim_sib_fa_neck)  # _base_/models/r18-slim_parts.py
