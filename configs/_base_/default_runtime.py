# Runtime shared by every AnoMed-MMDet config: mmdet's defaults + our plugin + iteration logs.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['anomed_mmdet'], allow_failed_imports=False)

# AtomicCheckpointHook: mmengine's CheckpointHook whose .pth and last_checkpoint writes survive a
# kill (temporary file + fsync + rename). NonFiniteGuardHook: on an iteration whose optimizer
# step SkipNonFiniteOptimWrapper (configs/_base_/schedules/schedule_iter.py) skipped because
# of a NaN / Inf, the EMA teacher is not updated either. ExactResumeHook: the RNG states travel
# in each checkpoint, so a resumed run equals an unbroken one with a fixed seed and
# deterministic=True. MainProcessLoggerHook: mmengine's LoggerHook, but the test metrics JSON is
# written by rank 0 alone (mmengine's ranks race on that file under dist_test.sh). See
# docs/reliability.md.
default_hooks = dict(
    logger=dict(type='MainProcessLoggerHook', interval=20),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2),
    nonfinite=dict(type='NonFiniteGuardHook'),
    exact_resume=dict(type='ExactResumeHook'),
    visualization=dict(type='DetVisualizationHook'))
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=False)

# Scalars and metrics go to <work_dir>/<timestamp>/vis_data/scalars.json (LocalVisBackend) and
# to TensorBoard event files beside it: `tensorboard --logdir <work_dir>`. To turn TensorBoard
# off, drop its entry here or pass --cfg-options visualizer.vis_backends.1.type=LocalVisBackend.
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
