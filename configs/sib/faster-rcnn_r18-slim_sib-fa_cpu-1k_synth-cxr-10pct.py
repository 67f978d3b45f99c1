# The AnoMed detector (neck = SIB + FA) trained supervised on the labelled 10% only: the
# supervised reference for AnoMed with the same labelled images (and the burn-in `make demo`
# starts AnoMed from).
_base_ = './faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py'

train_dataloader = dict(dataset=dict(ann_file='annotations/train_labeled.json'))
