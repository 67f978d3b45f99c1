"""How good are a teacher's pseudo labels? Precision of the confident / hesitant / scrap boxes
against the ground truth that the unlabelled images really have (the synthetic set keeps it).

A predicted box is a hit when it overlaps a ground-truth box of the same class with IoU >= the
threshold (one-to-one, best scores first, as COCO matching). Each box's bucket is given (the
PLO's own split, see ``tools/analysis_tools/pseudo_label_quality.py``) or, without one, read
from global thresholds (t1, t2).
"""
from typing import Dict, List, Sequence

import numpy as np
import torch
from mmdet.structures.bbox import bbox_overlaps

BUCKETS = ('confident', 'hesitant', 'scrap')


def match(pred_boxes: np.ndarray, pred_labels: np.ndarray, gt_boxes: np.ndarray, gt_labels: np.ndarray,
          iou_thr: float = 0.5) -> np.ndarray:
    """Per prediction (given best score first): does it take an unmatched same-class GT box?"""
    hits = np.zeros(len(pred_boxes), dtype=bool)
    if len(pred_boxes) == 0 or len(gt_boxes) == 0:
        return hits
    ious = bbox_overlaps(torch.as_tensor(pred_boxes, dtype=torch.float32),
                         torch.as_tensor(gt_boxes, dtype=torch.float32)).numpy()
    ious[pred_labels[:, None] != gt_labels[None, :]] = 0.0
    taken = np.zeros(len(gt_boxes), dtype=bool)
    for i in range(len(pred_boxes)):
        cand = np.where(~taken & (ious[i] >= iou_thr))[0]
        if len(cand):
            j = cand[np.argmax(ious[i, cand])]
            taken[j] = hits[i] = True
    return hits


def bucket_of(scores: np.ndarray, t1: float, t2: float) -> np.ndarray:
    """0 confident (>= t1), 1 hesitant ([t2, t1)), 2 scrap (< t2)."""
    return np.where(scores >= t1, 0, np.where(scores >= t2, 1, 2))


class PseudoLabelQuality:
    """Accumulates hits per bucket and class over images; :meth:`summary` gives the table rows."""

    def __init__(self, classes: Sequence[str], t1: float, t2: float, iou_thr: float = 0.5) -> None:
        if not 0.0 <= t2 <= t1 <= 1.0:
            raise ValueError(f'need 0 <= t2 <= t1 <= 1, got t1={t1}, t2={t2}')
        self.classes, self.t1, self.t2, self.iou_thr = list(classes), t1, t2, iou_thr
        self.n = np.zeros((3, len(classes)), dtype=np.int64)      # boxes per bucket and class
        self.hit = np.zeros((3, len(classes)), dtype=np.int64)    # of which true
        self.gt = np.zeros(len(classes), dtype=np.int64)
        self.gt_found = np.zeros((3, len(classes)), dtype=np.int64)  # GT boxes found per bucket

    def add(self, pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels, buckets=None) -> None:
        """One image: predictions (any order), its ground truth and optionally each box's bucket
        (0 confident, 1 hesitant, 2 scrap; default: from t1 / t2)."""
        pred_boxes, pred_scores = np.asarray(pred_boxes, float).reshape(-1, 4), np.asarray(pred_scores, float)
        pred_labels, gt_labels = np.asarray(pred_labels, int), np.asarray(gt_labels, int)
        gt_boxes = np.asarray(gt_boxes, float).reshape(-1, 4)
        order = np.argsort(-pred_scores, kind='stable')
        pred_boxes, pred_scores, pred_labels = pred_boxes[order], pred_scores[order], pred_labels[order]
        hits = match(pred_boxes, pred_labels, gt_boxes, gt_labels, self.iou_thr)
        if buckets is None:
            buckets = bucket_of(pred_scores, self.t1, self.t2)
        else:
            buckets = np.asarray(buckets, dtype=np.int64).reshape(-1)[order]
        np.add.at(self.n, (buckets, pred_labels), 1)
        np.add.at(self.hit, (buckets, pred_labels), hits.astype(np.int64))
        np.add.at(self.gt, gt_labels, 1)
        np.add.at(self.gt_found, (buckets[hits], pred_labels[hits]), 1)

    def summary(self) -> List[Dict[str, object]]:
        """Rows (bucket, class or 'all'): boxes, precision, share of the GT boxes they find."""
        rows = []
        for b, name in enumerate(BUCKETS):
            for c, cls in [(None, 'all')] + list(enumerate(self.classes)):
                n = int(self.n[b].sum() if c is None else self.n[b, c])
                hit = int(self.hit[b].sum() if c is None else self.hit[b, c])
                gt = int(self.gt.sum() if c is None else self.gt[c])
                found = int(self.gt_found[b].sum() if c is None else self.gt_found[b, c])
                rows.append(dict(bucket=name, cls=cls, boxes=n, precision=hit / n if n else float('nan'),
                                 recall=found / gt if gt else float('nan')))
        return rows
