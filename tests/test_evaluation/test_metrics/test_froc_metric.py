"""FROCMetric on hand-computed cases (every expected number is worked out in the comments)."""
import logging

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger

from anomed_mmdet.evaluation import FROCMetric
from anomed_mmdet.evaluation.functional import froc_curve, match_image, sensitivity_at
from anomed_mmdet.evaluation.metrics.froc_metric import _key

RATES = ('0.125', '0.25', '0.5', '1', '2', '4', '8')
A, B = [0, 0, 100, 100], [200, 200, 260, 260]   # two lesions
FAR = [400, 400, 450, 450]                        # a box that hits nothing


def shift(box, d):
    return [v + d for v in box]


def sample(gt=(), gt_labels=None, preds=(), scores=(), labels=None, ignored=(), ignored_labels=None):
    """A data sample as mmengine's Evaluator hands it to a metric (a dict of tensors)."""
    def boxes(b):
        return torch.tensor(b, dtype=torch.float32).reshape(-1, 4)

    def lab(x, n):
        return torch.tensor([0] * n if x is None else x, dtype=torch.int64)
    return dict(
        gt_instances=dict(bboxes=boxes(gt), labels=lab(gt_labels, len(gt))),
        ignored_instances=dict(bboxes=boxes(ignored), labels=lab(ignored_labels, len(ignored))),
        pred_instances=dict(bboxes=boxes(preds), scores=torch.tensor(scores, dtype=torch.float32).reshape(-1),
                            labels=lab(labels, len(preds))))


def evaluate(samples, classes=('lesion',), **kwargs):
    kwargs.setdefault('plot', False)
    metric = FROCMetric(**kwargs)
    metric.dataset_meta = dict(classes=classes)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def sens(metrics, prefix='froc/'):
    return [metrics[f'{prefix}sens@{r}'] for r in RATES]


def test_perfect_detector_finds_every_lesion_at_every_rate():
    samples = [sample(gt=[A], preds=[A], scores=[0.9]) for _ in range(4)]
    m = evaluate(samples)
    assert sens(m) == [1.0] * 7 and m['froc/cpm'] == 1.0 and m['froc/lesion_cpm'] == 1.0


def test_all_false_predictions_give_zero():
    samples = [sample(gt=[A], preds=[FAR, B], scores=[0.9, 0.4]) for _ in range(2)]
    m = evaluate(samples)
    assert sens(m) == [0.0] * 7 and m['froc/cpm'] == 0.0


@pytest.mark.parametrize('fp_first', [False, True])
def test_tied_scores_enter_together(fp_first):
    # image 1: a TP and a FP both at 0.8; image 2: a FP at 0.9, a TP at 0.5. 2 images, 2 lesions.
    # curve: (0, 0) -> 0.9: (0.5 FP/img, 0) -> 0.8 (both enter): (1, 0.5) -> 0.5: (1, 1).
    # Breaking the tie TP-first would add (0.5, 0.5), i.e. sens@0.5 = 0.5; here it stays 0.
    preds, scores = ([FAR, A], [0.8, 0.8]) if fp_first else ([A, FAR], [0.8, 0.8])
    samples = [sample(gt=[A], preds=preds, scores=scores),
               sample(gt=[A], preds=[FAR, A], scores=[0.9, 0.5])]
    m = evaluate(samples)
    assert sens(m) == [0, 0, 0, 1, 1, 1, 1]
    assert m['froc/cpm'] == pytest.approx(4 / 7)


def test_normal_images_add_false_positives_and_count_as_images():
    # 4 images: one lesion found at 0.6; two normal images with a FP at 0.95; one normal image
    # with nothing. Curve: (0, 0) -> 0.95: (2/4, 0) -> 0.6: (0.5, 1). sens@0.5 = 1: the empty
    # normal image counts (with 3 images the FP rate would be 2/3 and sens@0.5 = 0).
    samples = [sample(gt=[A], preds=[A], scores=[0.6]),
               sample(preds=[FAR], scores=[0.95]),
               sample(preds=[FAR], scores=[0.95]),
               sample()]
    m = evaluate(samples)
    assert sens(m) == [0, 0, 1, 1, 1, 1, 1]
    assert m['froc/cpm'] == pytest.approx(5 / 7)


def test_second_prediction_on_a_lesion_is_a_false_positive():
    # one image, lesions A and B; A found twice (0.9, then 0.8 slightly shifted), B at 0.7.
    # curve: (0, 1/2) -> 0.8: (1, 1/2) -> 0.7: (1, 1). Below 1 FP/img: 0.5, from 1 on: 1.
    preds = [A, shift(A, 5), B]
    assert match_image(np.array(preds, float), np.array([0.9, 0.8, 0.7]), np.zeros(3, int),
                       np.array([A, B], float), np.zeros(2, int)).tolist() == [1, 0, 1]
    m = evaluate([sample(gt=[A, B], preds=preds, scores=[0.9, 0.8, 0.7])])
    assert sens(m) == [0.5, 0.5, 0.5, 1, 1, 1, 1]
    assert m['froc/cpm'] == pytest.approx(5.5 / 7)


def test_centre_hit_and_iou_hit():
    # the prediction's centre (90, 90) lies in A; IoU = 60*60 / (2*100*100 - 60*60) = 0.2195
    pred = [40, 40, 140, 140]
    samples = [sample(gt=[A], preds=[pred], scores=[0.9])]
    assert evaluate(samples, hit='center')['froc/cpm'] == 1.0
    assert evaluate(samples, hit='iou', iou_thr=0.5)['froc/cpm'] == 0.0
    assert evaluate(samples, hit='iou', iou_thr=0.2)['froc/cpm'] == 1.0
    with pytest.raises(ValueError, match='hit'):
        FROCMetric(hit='overlap')


def test_a_prediction_takes_the_free_lesion_it_overlaps_most():
    # p1 (0.9) overlaps A2 more than A1: it takes A2; p2 (0.8) hits only A1: also a TP
    a1, a2 = [0, 0, 100, 100], [10, 0, 110, 100]
    status = match_image(np.array([[12, 0, 112, 100], [0, 0, 95, 100]], float), np.array([0.9, 0.8]),
                         np.zeros(2, int), np.array([a1, a2], float), np.zeros(2, int), iou_thr=0.8)
    assert status.tolist() == [1, 1]


def test_per_class_values():
    # classes nodule (0), mass (1). Image 1: nodule N1 = A, mass M1 = B; image 2: nodule N2 = A.
    # preds: N1 as nodule 0.9 (TP); M1 as nodule 0.8 (FP: wrong class); N2 as nodule 0.7 (TP);
    # a mass at 0.6 on nothing (FP).
    samples = [sample(gt=[A, B], gt_labels=[0, 1], preds=[A, B], scores=[0.9, 0.8], labels=[0, 0]),
               sample(gt=[A], gt_labels=[0], preds=[A, FAR], scores=[0.7, 0.6], labels=[0, 1])]
    m = evaluate(samples, classes=('nodule', 'mass'))
    # nodule: 2 lesions, 0.9 TP, 0.8 FP, 0.7 TP -> (0, 1/2), (1/2, 1/2), (1/2, 1)
    assert sens(m, 'froc/nodule_') == [0.5, 0.5, 1, 1, 1, 1, 1]
    assert m['froc/nodule_cpm'] == pytest.approx(6 / 7)
    # mass: 1 lesion, never found
    assert sens(m, 'froc/mass_') == [0] * 7 and m['froc/mass_cpm'] == 0.0
    # overall: 3 lesions -> (0, 1/3), (1/2, 1/3), (1/2, 2/3), (1, 2/3)
    assert sens(m) == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert m['froc/cpm'] == pytest.approx(4 / 7)
    # class-agnostic overall: M1 found by the 0.8 box -> 3 of 3 before any FP
    agnostic = evaluate(samples, classes=('nodule', 'mass'), class_agnostic=True)
    assert agnostic['froc/cpm'] == 1.0 and agnostic['froc/nodule_cpm'] == pytest.approx(6 / 7)
    assert 'froc/mass_cpm' not in evaluate(samples, classes=('nodule', 'mass'), classwise=False)


def test_class_names_become_keys_and_classes_without_lesions_give_minus_one():
    assert _key('Nodule/Mass') == 'Nodule_Mass' and _key('Aortic enlargement') == 'Aortic_enlargement'
    m = evaluate([sample(gt=[A], preds=[A], scores=[0.9])], classes=('Nodule/Mass', 'Other lesion'))
    assert m['froc/Nodule_Mass_cpm'] == 1.0 and m['froc/Other_lesion_cpm'] == -1.0
    assert evaluate([sample(preds=[A], scores=[0.9])])['froc/cpm'] == -1.0


def test_predictions_on_ignored_regions_are_left_out():
    # a 0.9 box on an ignored (crowd) region: left out, so the lesion is found at 0 FP/img;
    # counted as a FP it would push the finding to 1 FP/img (sens@0.5 = 0)
    s = sample(gt=[A], preds=[B, A], scores=[0.9, 0.5], ignored=[B])
    assert evaluate([s])['froc/cpm'] == 1.0
    s = sample(gt=[A], preds=[B, A], scores=[0.9, 0.5])
    assert sens(evaluate([s])) == [0, 0, 0, 1, 1, 1, 1]


def test_ground_truth_from_dataset_instances():
    s = sample(preds=[A, B], scores=[0.9, 0.8])
    del s['gt_instances'], s['ignored_instances']
    s['instances'] = [dict(bbox=A, bbox_label=0, ignore_flag=0), dict(bbox=B, bbox_label=0, ignore_flag=1)]
    assert evaluate([s])['froc/cpm'] == 1.0  # B is ignored, A found
    del s['instances']
    with pytest.raises(ValueError, match='LoadAnnotations'):
        evaluate([s])


def test_curve_and_read_out():
    scores = np.array([0.9, 0.8, 0.8, 0.5])
    fppi, sens_, thr = froc_curve(scores, np.array([0, 1, 0, 1]), num_lesions=2, num_images=2)
    assert fppi.tolist() == [0, 0.5, 1, 1] and sens_.tolist() == [0, 0, 0.5, 1]
    assert thr.tolist() == [np.inf, 0.9, 0.8, 0.5]
    assert sensitivity_at(fppi, sens_, [0.25, 0.5, 1, 3]).tolist() == [0, 0, 1, 1]


def _mixed_samples():
    """12 images: lesions found at varied scores, misses, FPs on normal and abnormal images."""
    rng = np.random.default_rng(1)
    out = []
    for i in range(12):
        gt = [A] if i % 3 else []
        preds = [A] * (i % 2 == 0 and bool(gt)) + [FAR] * (i % 4 == 1) + [B] * (i % 5 == 0)
        out.append(sample(gt=gt, preds=preds, scores=rng.uniform(0.1, 1.0, len(preds)).round(3).tolist()))
    return out


def test_bootstrap_interval_contains_the_estimate_and_is_reproducible():
    samples = _mixed_samples()
    m1 = evaluate(samples, bootstrap=300, seed=7)
    m2 = evaluate(samples, bootstrap=300, seed=7)
    m3 = evaluate(samples, bootstrap=300, seed=8)
    assert m1 == m2
    assert m1['froc/cpm_ci_low'] <= m1['froc/cpm'] <= m1['froc/cpm_ci_high']
    assert m1['froc/cpm_ci_low'] < m1['froc/cpm_ci_high']
    for r in RATES:
        assert m1[f'froc/sens@{r}_ci_low'] <= m1[f'froc/sens@{r}_ci_high']
    assert (m1['froc/cpm_ci_low'], m1['froc/cpm_ci_high']) != (m3['froc/cpm_ci_low'], m3['froc/cpm_ci_high'])
    assert 'froc/cpm_ci_low' not in evaluate(samples)  # no bootstrap by default


def test_png_written_to_the_prefix_or_beside_the_log(tmp_path, monkeypatch):
    samples = _mixed_samples()
    evaluate(samples, plot=True, outfile_prefix=str(tmp_path / 'out' / 'run'), bootstrap=20)
    png = tmp_path / 'out' / 'run.froc.png'
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # without a prefix: beside the current log file (work_dir/<timestamp>/ under a Runner)
    log_dir = tmp_path / 'work' / '20260101_000000'
    log_dir.mkdir(parents=True)
    logger, handler = logging.getLogger('froc_png_test'), logging.FileHandler(log_dir / 'run.log')
    logger.addHandler(handler)
    monkeypatch.setattr(MMLogger, 'get_current_instance', classmethod(lambda cls: logger))
    try:
        evaluate(samples, plot=True, prefix='froc_centre', hit='center')
        assert (log_dir / 'froc_centre.png').read_bytes()[:4] == b'\x89PNG'
    finally:
        logger.removeHandler(handler)
        handler.close()
