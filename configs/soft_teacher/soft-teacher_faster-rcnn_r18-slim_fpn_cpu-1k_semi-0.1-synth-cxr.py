# Baseline: mmdet's SoftTeacher (its COCO settings: pseudo boxes > 0.9 for RPN and R-CNN
# classification, box jitter uncertainty < 0.02 for regression, unsup weight 4) with the same
# detector, data and schedule as configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py:
# the MeanTeacher config with SoftTeacher's detector type and pseudo-label settings.
_base_ = '../mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py'

model = dict(
    type='SoftTeacher',
    semi_train_cfg=dict(
        _delete_=True,
        freeze_teacher=True, sup_weight=1.0, unsup_weight=4.0,
        pseudo_label_initial_score_thr=0.5, rpn_pseudo_thr=0.9, cls_pseudo_thr=0.9,
        reg_pseudo_thr=0.02, jitter_times=10, jitter_scale=0.06, min_pseudo_bbox_wh=(1e-2, 1e-2)))
