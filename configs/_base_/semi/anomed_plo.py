# AnoMed's pseudo-label optimizer and semi-supervised training settings; detector configs read
# them as _base_.plo / _base_.semi_train_cfg / _base_.semi_test_cfg, and their assigners as
# _base_.hesitant_assigner. Every value and the val evidence behind it: docs/plo.md.
plo = dict(
    type='PseudoLabelOptimizer',
    confident_thr=0.7,          # t1 default (global, and per class until calibration has data)
    scrap_thr=0.3,              # t2 default: scrap (background) below; hesitant in between
    class_thrs=None,            # global; 'calibrated' (per class, at the scores where the teacher's
    # precision on the labelled batch reaches calibration.targets) lost 2.1 AP on val: docs/plo.md
    calibration=dict(targets=(0.8, 0.4), t1_bounds=(0.5, 0.95), t2_bounds=(0.2, 0.9)),
    soft_nms=None,              # dict(type='soft_nms', iou_threshold=0.5, min_score=0.05): teacher's NMS
    # distribution alignment: off; bounded score rescaling, dict(type='scores', momentum=0.99,
    # alpha=1.0, max_ratio=2.0, min_ratio=1.0, min_score=0.05), lost 5.0 AP on val (docs/plo.md)
    dist_align=None,
    hesitant=dict(cls=True, obj=True, bbox=False, target='soft'))  # False: no hesitant branch
# hesitant boxes reach the assigners as ignored instances: they only turn negatives into ignored
hesitant_assigner = dict(type='HesitantMaxIoUAssigner', ignore_iof_thr=0.5)
semi_train_cfg = dict(
    freeze_teacher=True,
    sup_weight=1.0,
    unsup_weight=1.0,
    burn_in_iters=0,            # >0: supervised-only warm-up inside the run, then teacher := student
    min_pseudo_bbox_wh=(1e-2, 1e-2))
semi_test_cfg = dict(predict_on='teacher')
