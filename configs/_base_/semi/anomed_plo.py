# AnoMed's pseudo-label optimizer and semi-supervised training settings; detector configs
# read them as _base_.plo / _base_.semi_train_cfg / _base_.semi_test_cfg.
plo = dict(
    confident_thr=0.7,          # t1: confident at or above
    scrap_thr=0.3,              # t2: scrap (background) below; hesitant in between
    class_thrs='adaptive',      # per-class thresholds scaled by the teacher's per-class confidence
    soft_nms=dict(type='soft_nms', iou_threshold=0.5, min_score=0.05),
    dist_align=dict(momentum=0.99, alpha=1.0),  # pseudo-label class distribution -> labelled one
    hesitant=dict(cls=True, obj=True, bbox=False, weight='score', loss_weight=1.0))
semi_train_cfg = dict(
    freeze_teacher=True,
    sup_weight=1.0,
    unsup_weight=1.0,
    burn_in_iters=0,            # >0: supervised-only warm-up, the teacher is not run
    min_pseudo_bbox_wh=(1e-2, 1e-2))
semi_test_cfg = dict(predict_on='teacher')
