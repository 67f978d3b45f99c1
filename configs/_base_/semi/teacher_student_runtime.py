# Runtime of every teacher-student config (MeanTeacher, SoftTeacher, AnoMed): EMA teacher and
# best checkpoint on the teacher's metric. Children also set
# val_cfg = dict(type='TeacherStudentValLoop') (it would clash with the schedule's val_cfg here).
_base_ = ['../default_runtime.py']

custom_hooks = [
    # mmdet's MeanTeacherHook plus: teacher := student (weights and buffers) at the end of the
    # detector's burn_in_iters (AnoMed); identical to mmdet's hook without a burn-in.
    # skip_buffer=False: the teacher also averages BN running statistics (our CPU backbones
    # train their BN layers). Runs that start from a trained trunk (or after a burn-in) add
    # dict(type='FreezeBNStatsHook') so no method's statistics follow the strong views.
    dict(type='BurnInMeanTeacherHook', momentum=0.001, interval=1, skip_buffer=False),
]
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, max_keep_ckpts=2,
                    save_best='teacher/coco/bbox_mAP', rule='greater'))
