# The FPN trunk of the PLO ablation (docs/plo.md): Faster R-CNN (slim R-18, FPN) on the labelled
# 10% only, 500 iterations. MeanTeacher, SoftTeacher and AnoMed without SIB continue from it.
_base_ = './faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr-10pct.py'

max_iters = 500
train_cfg = dict(max_iters=max_iters, val_interval=500)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, milestones=[400, 470], gamma=0.1),
]
