# `make demo`, step 2: AnoMed (PLO, SIB + FA) continued from the step-1 checkpoint
# (--cfg-options load_from=...) on labelled + unlabelled images, 300 iterations (~6 minutes on
# 2 cores), with the fine-tuning stage every method shares (_base_/semi/finetune_cpu-0.3k.py:
# lr 2e-4, EMA momentum 0.01, BN statistics frozen at the trunk's). The unsupervised weight is
# the PLO default (chosen on val, docs/plo.md).
_base_ = ['./anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py', '../_base_/semi/finetune_cpu-0.3k.py']

train_cfg = _base_.finetune.train_cfg
param_scheduler = _base_.finetune.param_scheduler
optim_wrapper = _base_.finetune.optim_wrapper
custom_hooks = _base_.finetune.custom_hooks
default_hooks = _base_.finetune.default_hooks
