# AnoMed without SIB (PLO on the FPN Faster R-CNN) continued from the supervised FPN trunk
# (configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-0.5k_synth-cxr-10pct.py, --cfg-options
# load_from=...) for 300 iterations: the PLO ablation of docs/plo.md.
_base_ = ['./anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py', '../_base_/semi/finetune_cpu-0.3k.py']

train_cfg = _base_.finetune.train_cfg
param_scheduler = _base_.finetune.param_scheduler
optim_wrapper = _base_.finetune.optim_wrapper
custom_hooks = _base_.finetune.custom_hooks
default_hooks = _base_.finetune.default_hooks
