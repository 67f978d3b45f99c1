"""The PLO's split: boundaries, per-class / adaptive thresholds, Soft-NMS, alignment, stats."""
import pytest
import torch
from mmengine.structures import InstanceData

from anomed_mmdet.models.plo import CONFIDENT, HESITANT, PseudoLabelOptimizer


def preds(scores, labels, boxes=None):
    n = len(scores)
    if boxes is None:  # far-apart boxes so no NMS interaction
        boxes = [[40.0 * i, 0.0, 40.0 * i + 20, 20.0] for i in range(n)]
    return InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                        scores=torch.tensor(scores, dtype=torch.float32),
                        labels=torch.tensor(labels, dtype=torch.long))


def groups(out):
    return {round(float(s), 4): int(g) for s, g in zip(out.scores, out.plo_group)}


def test_split_at_the_threshold_boundaries():
    plo = PseudoLabelOptimizer(num_classes=2, confident_thr=0.7, scrap_thr=0.3)
    (out,), stats = plo([preds([0.3, 0.2999, 0.7, 0.6999, 0.95], [0, 0, 1, 1, 0])])
    assert groups(out) == {0.3: HESITANT, 0.7: CONFIDENT, 0.6999: HESITANT, 0.95: CONFIDENT}
    assert len(out) == 4  # the scrap box is dropped
    assert stats['plo_num_confident'] == 2 and stats['plo_num_hesitant'] == 2 and stats['plo_num_scrap'] == 1
    assert stats['plo_conf_confident'] == pytest.approx((0.7 + 0.95) / 2)
    assert stats['plo_conf_scrap'] == pytest.approx(0.2999)
    assert stats['plo_confident_c1'] == 1 and stats['plo_hesitant_c0'] == 1


def test_per_class_thresholds():
    plo = PseudoLabelOptimizer(num_classes=2, class_thrs=[(0.9, 0.5), (0.4, 0.2)])
    (out,), _ = plo([preds([0.8, 0.8, 0.45, 0.3, 0.1], [0, 1, 0, 1, 1])])
    got = [(int(lab), round(float(s), 2), int(g)) for lab, s, g in zip(out.labels, out.scores, out.plo_group)]
    assert got == [(0, 0.8, HESITANT), (1, 0.8, CONFIDENT), (1, 0.3, HESITANT)]


def test_adaptive_thresholds_lower_the_bar_for_a_shy_class():
    plo = PseudoLabelOptimizer(num_classes=2, confident_thr=0.8, scrap_thr=0.4, class_thrs='adaptive',
                               adaptive_momentum=0.0, adaptive_floor=0.5)
    t1, t2 = plo.thresholds()
    assert torch.allclose(t1, torch.tensor([0.8, 0.8])) and torch.allclose(t2, torch.tensor([0.4, 0.4]))
    plo([preds([0.9, 0.9, 0.45, 0.45], [0, 0, 1, 1])])  # class 1: teacher only half as sure
    t1, t2 = plo.thresholds()
    assert t1[0] == pytest.approx(0.8) and t1[1] == pytest.approx(0.8 * 0.5)
    assert t2[1] == pytest.approx(0.4 * 0.5)
    (out,), _ = plo([preds([0.45], [1])])
    assert int(out.plo_group[0]) == CONFIDENT  # would be hesitant with global thresholds


def test_distribution_alignment_boosts_an_under_predicted_class():
    plo = PseudoLabelOptimizer(num_classes=2, confident_thr=0.7, scrap_thr=0.3,
                               dist_align=dict(momentum=0.0, alpha=1.0))
    plo.update_gt_distribution([torch.tensor([0, 1, 1, 1])])  # labelled prior: 25% / 75%
    plo([preds([0.9, 0.9, 0.9, 0.5], [0, 0, 0, 1])])  # teacher: 75% / 25%
    (out,), _ = plo([preds([0.5, 0.5], [0, 1])])
    by_label = {int(lab): float(s) for lab, s in zip(out.labels, out.scores)}
    assert by_label[1] > 0.5 > by_label.get(0, 0.0)


def test_soft_nms_decays_an_overlapping_duplicate():
    plo = PseudoLabelOptimizer(num_classes=1, confident_thr=0.7, scrap_thr=0.3,
                               soft_nms=dict(type='soft_nms', iou_threshold=0.3, min_score=0.0))
    boxes = [[0, 0, 20, 20], [1, 1, 21, 21]]
    (out,), _ = plo([preds([0.9, 0.8], [0, 0], boxes)])
    scores = sorted(out.scores.tolist(), reverse=True)
    assert scores[0] == pytest.approx(0.9) and (len(scores) == 1 or scores[1] < 0.8)


def test_empty_predictions_give_empty_pseudo_labels_and_zero_stats():
    plo = PseudoLabelOptimizer(num_classes=3, class_thrs='adaptive', dist_align=dict())
    out, stats = plo([preds([], []), preds([], [])])
    assert all(len(o) == 0 for o in out)
    assert all(torch.isfinite(v).all() for v in stats.values())
    assert stats['plo_num_confident'] == 0


def test_max_per_img_keeps_the_highest_scores():
    plo = PseudoLabelOptimizer(num_classes=1, max_per_img=2)
    (out,), _ = plo([preds([0.5, 0.9, 0.8, 0.4], [0, 0, 0, 0])])
    assert sorted(out.scores.tolist()) == pytest.approx([0.8, 0.9])


@pytest.mark.parametrize('kwargs,match', [
    (dict(confident_thr=0.2, scrap_thr=0.5), 'scrap_thr'),
    (dict(class_thrs='sometimes'), 'class_thrs'),
    (dict(class_thrs=[(0.5, 0.2)]), '1 pairs for 2 classes'),
    (dict(class_thrs=[(0.5, 0.2), (0.1, 0.3)]), r'class_thrs\[1\]'),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PseudoLabelOptimizer(num_classes=2, **kwargs)


def test_running_statistics_are_saved_with_the_model():
    plo = PseudoLabelOptimizer(num_classes=2, class_thrs='adaptive', dist_align=dict(momentum=0.0))
    plo([preds([0.9, 0.5], [0, 1])])
    state = plo.state_dict()
    assert {'class_score_ema', 'gt_class_dist', 'pl_class_dist'} <= set(state)
    fresh = PseudoLabelOptimizer(num_classes=2, class_thrs='adaptive', dist_align=dict(momentum=0.0))
    fresh.load_state_dict(state)
    assert torch.equal(fresh.thresholds()[0], plo.thresholds()[0])


def test_a_hesitant_duplicate_of_a_confident_box_is_dropped():
    boxes = [[0, 0, 40, 40], [2, 2, 42, 42], [100, 100, 120, 120]]
    plo = PseudoLabelOptimizer(num_classes=3)
    (out,), stats = plo([preds([0.9, 0.5, 0.5], [0, 2, 1], boxes)])
    assert [int(g) for g in out.plo_group] == [CONFIDENT, HESITANT]
    assert out.bboxes[1].tolist() == [100, 100, 120, 120]  # the separate hesitant box stays
    assert stats['plo_num_scrap'] == 1
    keep_all = PseudoLabelOptimizer(num_classes=3, hesitant_dedup_iou=None)
    (out,), _ = keep_all([preds([0.9, 0.5, 0.5], [0, 2, 1], boxes)])
    assert len(out) == 3
