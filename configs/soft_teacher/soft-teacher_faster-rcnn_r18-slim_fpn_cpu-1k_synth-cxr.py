# Baseline: mmdet's SoftTeacher (its COCO settings: pseudo boxes > 0.9 for RPN and R-CNN
# classification, box jitter uncertainty < 0.02 for regression, unsup weight 4) with the same
# detector, data and schedule as configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py.
_base_ = [
    '../_base_/models/faster-rcnn_r18-slim_fpn_scratch.py',
    '../_base_/datasets/semi_synth_cxr_detection_cpu.py',
    '../_base_/schedules/schedule_cpu-1k.py',
    '../_base_/semi/teacher_student_runtime.py',
]

detector = _base_.model
model = dict(
    _delete_=True,
    type='SoftTeacher',
    detector=detector,
    data_preprocessor=dict(type='MultiBranchDataPreprocessor', data_preprocessor=detector.data_preprocessor),
    semi_train_cfg=dict(
        freeze_teacher=True, sup_weight=1.0, unsup_weight=4.0,
        pseudo_label_initial_score_thr=0.5, rpn_pseudo_thr=0.9, cls_pseudo_thr=0.9,
        reg_pseudo_thr=0.02, jitter_times=10, jitter_scale=0.06, min_pseudo_bbox_wh=(1e-2, 1e-2)),
    semi_test_cfg=dict(predict_on='teacher'))
val_cfg = dict(type='TeacherStudentValLoop')
default_hooks = dict(checkpoint=dict(interval=500))
