# `make demo`, step 1: the AnoMed detector (SIB + FA) trained on the labelled 10% only, 500
# iterations (~5 minutes on 2 cores). It is the supervised reference the demo prints and the
# burn-in AnoMed starts from.
_base_ = './faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr-10pct.py'

max_iters = 500
train_cfg = dict(max_iters=max_iters, val_interval=500)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, milestones=[400, 470], gamma=0.1),
]
