"""Pseudo-label quality: matching and bucket precision / recall."""
import math

import numpy as np
import pytest

from tools.analysis_tools.ssod_benchmark.pseudo_labels import PseudoLabelQuality, bucket_of, match


def test_match_is_one_to_one_and_class_aware():
    gt = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    preds = np.array([[0, 0, 10, 10], [0, 0, 10, 9], [20, 20, 30, 30], [40, 40, 50, 50]], float)
    # second box duplicates the first GT (already taken); third has the wrong class
    assert match(preds, np.array([0, 0, 0, 1]), gt, np.array([0, 1])).tolist() == [True, False, False, False]
    assert match(preds[:0], np.array([], int), gt, np.array([0, 1])).tolist() == []


def test_buckets_at_the_thresholds():
    assert bucket_of(np.array([0.7, 0.69, 0.3, 0.29]), 0.7, 0.3).tolist() == [0, 1, 1, 2]


def test_precision_and_recall_per_bucket():
    q = PseudoLabelQuality(['a', 'b'], t1=0.7, t2=0.3)
    gt = [[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]]
    # a confident hit, a confident false positive, a hesitant hit (class b), a scrap hit
    q.add([[0, 0, 10, 10], [60, 60, 70, 70], [20, 20, 30, 31], [40, 40, 50, 50]], [0.9, 0.8, 0.5, 0.1],
          [0, 0, 1, 0], gt, [0, 1, 0])
    rows = {(r['bucket'], r['cls']): r for r in q.summary()}
    assert rows['confident', 'all']['boxes'] == 2 and rows['confident', 'all']['precision'] == 0.5
    assert rows['confident', 'a']['recall'] == pytest.approx(0.5)  # 1 of the 2 'a' GT boxes
    assert rows['hesitant', 'b']['precision'] == 1.0 and rows['hesitant', 'b']['recall'] == 1.0
    assert rows['scrap', 'all']['precision'] == 1.0 and rows['scrap', 'all']['recall'] == pytest.approx(1 / 3)
    assert math.isnan(rows['hesitant', 'a']['precision'])  # no hesitant 'a' box
    with pytest.raises(ValueError):
        PseudoLabelQuality(['a'], t1=0.3, t2=0.7)


def test_buckets_given_by_the_plo_override_the_global_thresholds():
    q = PseudoLabelQuality(['a'], t1=0.7, t2=0.3)
    gt = [[0, 0, 10, 10]]
    # the PLO put the 0.9 box in scrap (e.g. capped) and the 0.2 box in confident (its class's t1)
    q.add([[0, 0, 10, 10], [20, 20, 30, 30]], [0.2, 0.9], [0, 0], gt, [0], buckets=[0, 2])
    rows = {(r['bucket'], r['cls']): r for r in q.summary()}
    assert rows['confident', 'a']['boxes'] == 1 and rows['confident', 'a']['precision'] == 1.0
    assert rows['scrap', 'a']['boxes'] == 1 and rows['scrap', 'a']['precision'] == 0.0
