# AnoMed (PLO) in its one-stage form: RetinaNet (slim R-18, FPN) on the synthetic chest X-rays,
# 10% labels, 320 px, 1k iterations. Hesitant boxes: focal classification on their anchors,
# weighted by the teacher's confidence (RetinaNet has no separate objectness).
_base_ = [
    '../_base_/models/retinanet_r18-slim_fpn_scratch.py',
    '../_base_/datasets/semi_synth_cxr_detection_cpu.py',
    '../_base_/schedules/schedule_cpu-1k.py',
    '../_base_/semi/teacher_student_runtime.py',
    '../_base_/semi/anomed_plo.py',
]

detector = _base_.model
detector.train_cfg.assigner.update(_base_.hesitant_assigner)

model = dict(
    _delete_=True,
    type='AnoMed',
    detector=detector,
    data_preprocessor=dict(type='MultiBranchDataPreprocessor', data_preprocessor=detector.data_preprocessor),
    plo=_base_.plo,
    semi_train_cfg=_base_.semi_train_cfg,
    semi_test_cfg=_base_.semi_test_cfg)
val_cfg = dict(type='TeacherStudentValLoop')  # validates teacher and student
default_hooks = dict(checkpoint=dict(interval=500))
