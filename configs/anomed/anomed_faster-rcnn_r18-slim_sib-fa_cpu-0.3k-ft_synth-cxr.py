# `make demo`, step 2: AnoMed (PLO, SIB + FA) continued from the step-1 checkpoint
# (--cfg-options load_from=...) on labelled + unlabelled images, 300 iterations (~6 minutes on
# 2 cores). A short schedule needs a faster-moving teacher (EMA momentum 0.01) and a
# fine-tuning learning rate; with a teacher this weak (10% labels, 500 iterations) the 4
# unlabelled images per labelled one are weighted 0.25 each (unsup_weight 1.0 made the student
# forget pleural effusion and cardiomegaly in a 300-iteration trial).
_base_ = './anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py'

max_iters = 300
train_cfg = dict(max_iters=max_iters, val_interval=300)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, milestones=[250], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=2e-4))
model = dict(semi_train_cfg=dict(unsup_weight=0.25))
custom_hooks = [dict(type='MeanTeacherHook', momentum=0.01, interval=1, skip_buffer=False)]
default_hooks = dict(checkpoint=dict(interval=300))
