# Baseline: MeanTeacher (mmdet's plain SemiBaseDetector: pseudo boxes above one threshold are
# hard labels, the rest background) with the same detector, data and schedule as
# configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py.
_base_ = [
    '../_base_/models/faster-rcnn_r18-slim_fpn_scratch.py',
    '../_base_/datasets/semi_synth_cxr_detection_cpu.py',
    '../_base_/schedules/schedule_cpu-1k.py',
    '../_base_/semi/teacher_student_runtime.py',
]

detector = _base_.model
model = dict(
    _delete_=True,
    type='SemiBaseDetector',
    detector=detector,
    data_preprocessor=dict(type='MultiBranchDataPreprocessor', data_preprocessor=detector.data_preprocessor),
    semi_train_cfg=dict(freeze_teacher=True, sup_weight=1.0, unsup_weight=1.0, cls_pseudo_thr=0.7,
                        min_pseudo_bbox_wh=(1e-2, 1e-2)),
    semi_test_cfg=dict(predict_on='teacher'))
val_cfg = dict(type='TeacherStudentValLoop')
default_hooks = dict(checkpoint=dict(interval=500))
