# MeanTeacher continued from the supervised FPN trunk for 300 iterations: the baseline of the PLO
# ablation (docs/plo.md), same trunk, data, schedule and teacher hooks as
# configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_semi-0.1-synth-cxr.py.
_base_ = ['./mean-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py', '../_base_/semi/finetune_cpu-0.3k.py']

train_cfg = _base_.finetune.train_cfg
param_scheduler = _base_.finetune.param_scheduler
optim_wrapper = _base_.finetune.optim_wrapper
custom_hooks = _base_.finetune.custom_hooks
default_hooks = _base_.finetune.default_hooks
