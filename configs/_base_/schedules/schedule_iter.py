# Iteration-based schedule (the semi-supervised samplers are infinite, so everything is
# iteration-based); children set max_iters, val_interval and the LR milestones.
max_iters = 20000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[16000, 19000], gamma=0.1),
]
# A NaN / Inf loss or gradient skips that iteration's step (weights, buffers and EMA teacher
# kept, logged); max_consecutive skips in a row stop the run (docs/reliability.md).
optim_wrapper = dict(
    type='SkipNonFiniteOptimWrapper',
    max_consecutive=3,
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)
