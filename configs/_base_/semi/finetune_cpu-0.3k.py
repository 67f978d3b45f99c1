# A 300-iteration semi-supervised stage continued from a supervised checkpoint (load_from=...),
# the same for every method (MeanTeacher, SoftTeacher, AnoMed): fine-tuning learning rate, a
# fast EMA teacher (momentum 0.01) and batch-norm statistics frozen at the trunk's values, so
# that no method's teacher labels with statistics of the strong views. Held under one key
# (mmengine forbids the same key in two bases); children copy its entries.
_iters = 300
finetune = dict(
    train_cfg=dict(max_iters=_iters, val_interval=_iters),
    param_scheduler=[dict(type='MultiStepLR', begin=0, end=_iters, by_epoch=False, milestones=[250], gamma=0.1)],
    optim_wrapper=dict(optimizer=dict(lr=2e-4)),
    custom_hooks=[
        dict(type='BurnInMeanTeacherHook', momentum=0.01, interval=1, skip_buffer=False),
        dict(type='FreezeBNStatsHook'),
    ],
    default_hooks=dict(checkpoint=dict(interval=_iters)))
