# Runtime of every teacher-student config (MeanTeacher, SoftTeacher, AnoMed): EMA teacher and
# best checkpoint on the teacher's metric. Children also set
# val_cfg = dict(type='TeacherStudentValLoop') (it would clash with the schedule's val_cfg here).
_base_ = ['../default_runtime.py']

custom_hooks = [
    # skip_buffer=False: the teacher also averages BN running statistics (our CPU backbones
    # train their BN layers); with GN-only models it makes no difference.
    dict(type='MeanTeacherHook', momentum=0.001, interval=1, skip_buffer=False),
]
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, max_keep_ckpts=2,
                    save_best='teacher/coco/bbox_mAP', rule='greater'))
