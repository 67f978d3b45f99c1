"""The PLO's split: boundaries, per-class / adaptive / calibrated thresholds, alignment, stats."""
import pytest
import torch
from mmengine.structures import InstanceData

from mmdet.registry import MODELS

from anomed_mmdet.models.plo import CONFIDENT, HESITANT, SCRAP, PseudoLabelOptimizer


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
    assert stats['plo_score_confident'] == pytest.approx((0.7 + 0.95) / 2)
    assert stats['plo_score_scrap'] == pytest.approx(0.2999)
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


@pytest.mark.parametrize('min_ratio', [1.0, 0.5])
def test_distribution_alignment_boosts_an_under_predicted_class_within_its_bound(min_ratio):
    plo = PseudoLabelOptimizer(num_classes=2, confident_thr=0.7, scrap_thr=0.3,
                               dist_align=dict(momentum=0.0, alpha=1.0, max_ratio=2.0, min_ratio=min_ratio))
    plo.update_gt_distribution([torch.tensor([0, 1, 1, 1])])  # labelled prior: 2/6, 4/6 (smoothed)
    plo([preds([0.9, 0.9, 0.9, 0.5], [0, 0, 0, 1])])  # teacher's score mass: 2.7 / 0.5
    (out,), _ = plo([preds([0.5, 0.3], [0, 1])])
    by_label = {int(lab): float(s) for lab, s in zip(out.labels, out.scores)}
    assert by_label[1] == pytest.approx(0.6)  # x2: bounded (unbounded it would be x3.6)
    if min_ratio == 1.0:
        assert by_label[0] == pytest.approx(0.5)  # by default no class is suppressed
    else:
        assert 0 not in by_label  # x0.5: 0.25 is scrap


def test_alignment_starts_from_the_labelled_distribution():
    plo = PseudoLabelOptimizer(num_classes=3, dist_align=dict(momentum=0.99))
    plo.update_gt_distribution([torch.tensor([0, 0, 0, 1])])
    assert torch.allclose(plo.dist_align.ratio(), torch.ones(3))
    plo([preds([0.6, 0.6, 0.6, 0.6], [0, 0, 0, 1])])  # first batch: ratio still 1, then moves
    (out,), _ = plo([preds([0.6], [2])])
    assert torch.allclose(plo.dist_align.pl_dist.sum(), torch.tensor(1.0))


def test_alignment_never_turns_a_noise_class_into_confident_labels():
    """A teacher that only emits low-score noise for class 2 (a class the labels do have)."""
    g = torch.Generator().manual_seed(0)
    plo = PseudoLabelOptimizer(num_classes=3, confident_thr=0.7, scrap_thr=0.3,
                               dist_align=dict(momentum=0.99, alpha=1.0))
    confident_noise = 0
    for _ in range(300):
        plo.update_gt_distribution([torch.tensor([0, 1, 2, 2])])
        batch = []
        for _ in range(4):
            noise = (0.02 + 0.18 * torch.rand(6, generator=g)).tolist()
            batch.append(preds([0.9, 0.85] + noise, [0, 1] + [2] * 6))
        out, stats = plo(batch)
        confident_noise += int(stats['plo_confident_c2'])
        assert stats['plo_confident_c0'] + stats['plo_confident_c1'] > 0  # real classes keep labels
    assert confident_noise == 0
    assert 1.0 < plo.dist_align.ratio()[2] <= 2.0  # boosted, within the bound


def test_calibrated_thresholds_follow_measured_precision():
    """Class 0: boxes at 0.9 all true, at 0.6 half true, at 0.3 none; class 1 never true;
    class 2 unseen (keeps the defaults)."""
    plo = PseudoLabelOptimizer(num_classes=3, confident_thr=0.7, scrap_thr=0.3, class_thrs='calibrated',
                               calibration=dict(targets=(0.8, 0.6), num_bins=20, momentum=1.0, min_boxes=5,
                                                t1_bounds=(0.5, 0.95), t2_bounds=(0.2, 0.9)))
    assert plo.needs_labelled_predictions
    gt_boxes = [[40.0 * i, 0.0, 40.0 * i + 20, 20.0] for i in range(10)]
    far = [[40.0 * i, 100.0, 40.0 * i + 20, 120.0] for i in range(10)]
    for score, n_true in ((0.9, 10), (0.6, 5), (0.3, 0)):
        boxes = gt_boxes[:n_true] + far[:10 - n_true]
        pred = preds([score] * 10 + [0.9] * 5, [0] * 10 + [1] * 5, boxes + far[:5])
        gt = InstanceData(bboxes=torch.tensor(gt_boxes), labels=torch.zeros(10, dtype=torch.long))
        plo.calibrate([pred], [gt])
    t1, t2 = plo.thresholds()
    # class 0: precision of boxes >= s is 1.0 down to 0.65 (no box in 0.65-0.9), 0.75 down to
    # 0.35, 0.5 below: t1 = 0.65 (target 0.8), t2 = 0.35 (target 0.6)
    assert t1[0] == pytest.approx(0.65) and t2[0] == pytest.approx(0.35)
    assert t1[1] == pytest.approx(0.95) and t2[1] == pytest.approx(0.9)  # never precise: upper bounds
    assert t1[2] == pytest.approx(0.7) and t2[2] == pytest.approx(0.3)  # no data: defaults
    (out,), stats = plo([preds([0.66, 0.5, 0.9], [0, 0, 1])])
    assert [int(g) for g in out.plo_group] == [CONFIDENT, HESITANT, HESITANT]
    assert stats['plo_t1_c0'] == pytest.approx(0.65)


def test_calibration_counts_a_second_prediction_on_one_lesion_as_false():
    plo = PseudoLabelOptimizer(num_classes=1, class_thrs='calibrated', calibration=dict(momentum=1.0))
    gt = InstanceData(bboxes=torch.tensor([[0.0, 0.0, 20.0, 20.0]]), labels=torch.tensor([0]))
    plo.calibrate([preds([0.9, 0.8], [0, 0], [[0, 0, 20, 20], [1, 1, 21, 21]])], [gt])
    assert plo.calibration.num.sum() == 2 and plo.calibration.true.sum() == 1


def test_the_plo_is_built_from_the_registry():
    plo = MODELS.build(dict(type='PseudoLabelOptimizer', num_classes=2, class_thrs='calibrated'))
    assert isinstance(plo, PseudoLabelOptimizer) and plo.calibration is not None
    (out,), stats = plo([preds([0.9, 0.1], [0, 1])])
    assert int(stats['plo_num_scrap']) == 1 and SCRAP not in out.plo_group.tolist()


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
    (dict(dist_align=dict(type='histogram')), 'dist_align type'),
    (dict(dist_align=dict(max_ratio=0.5)), 'max_ratio'),
    (dict(dist_align=dict(min_ratio=0.0)), 'min_ratio'),
    (dict(class_thrs='calibrated', calibration=dict(targets=(0.4, 0.8))), 'calibration targets'),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PseudoLabelOptimizer(num_classes=2, **kwargs)


def test_running_statistics_are_saved_with_the_model():
    kw = dict(num_classes=2, class_thrs='calibrated', dist_align=dict(momentum=0.0),
              calibration=dict(min_boxes=1, momentum=1.0))
    plo = PseudoLabelOptimizer(**kw)
    plo.update_gt_distribution([torch.tensor([0, 1, 1])])
    plo([preds([0.9, 0.5], [0, 1])])
    gt = InstanceData(bboxes=torch.tensor([[0.0, 0.0, 20.0, 20.0]]), labels=torch.tensor([0]))
    plo.calibrate([preds([0.9, 0.6], [0, 0], [[0, 0, 20, 20], [50, 50, 60, 60]])], [gt])
    state = plo.state_dict()
    assert {'prior.gt_count', 'dist_align.pl_dist', 'calibration.num', 'calibration.true'} <= set(state)
    fresh = PseudoLabelOptimizer(**kw)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.thresholds()[0], plo.thresholds()[0])
    assert torch.equal(fresh.dist_align.ratio(), plo.dist_align.ratio())


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
