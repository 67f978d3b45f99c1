"""Per-class thresholds that follow the teacher's measured precision, not its mean score.

The labelled images of each iteration have ground truth, so the teacher's predictions on them
give a running, per-class histogram of boxes and true boxes by score. A class's confident
threshold ``t1`` is the lowest score at which the precision of its boxes scoring at least that
reaches ``targets[0]``; ``t2`` likewise for ``targets[1]``. Both are bounded; a class with too
few boxes in all (``min_boxes``) keeps the configured default; a class that never reaches a
target gets the upper bound. The teacher has trained on the labelled images, so the precision measured there is
optimistic: the targets are set above the precision wanted on unlabelled images
(``docs/plo.md`` measures the gap with ``tools/analysis_tools/pseudo_label_quality.py``).
"""
from typing import List, Sequence, Tuple

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor, nn


def match_predictions(pred: InstanceData, gt: InstanceData, iou_thr: float = 0.5) -> Tensor:
    """Per prediction: does it take a not yet taken same-class GT box (best scores first)?"""
    hits = torch.zeros(len(pred), dtype=torch.bool, device=pred.scores.device)
    if len(pred) == 0 or len(gt) == 0:
        return hits
    ious = bbox_overlaps(pred.bboxes, gt.bboxes.to(pred.bboxes))
    ious[pred.labels[:, None] != gt.labels.to(pred.labels)[None, :]] = 0.0
    taken = torch.zeros(len(gt), dtype=torch.bool, device=hits.device)
    for i in pred.scores.argsort(descending=True).tolist():
        cand = ious[i].masked_fill(taken, 0.0)
        j = int(cand.argmax())
        if cand[j] >= iou_thr:
            taken[j] = hits[i] = True
    return hits


class PrecisionCalibration(nn.Module):
    """Running per-class precision by score; thresholds at target precisions.

    Args:
        num_classes: number of foreground classes.
        targets: precision wanted of confident (``t1``) and non-scrap (``t2``) boxes.
        num_bins: score bins over [0, 1].
        momentum: decay of the counts per update (0.995: a window of a few hundred iterations).
        min_boxes: boxes of a class (any score) needed before its thresholds are calibrated.
        t1_bounds / t2_bounds: ``(low, high)`` of each threshold.
        iou_thr: a prediction is true when it takes a same-class GT box at this IoU.
    """

    def __init__(self, num_classes: int, targets: Sequence[float] = (0.8, 0.4), num_bins: int = 20,
                 momentum: float = 0.995, min_boxes: float = 10.0,
                 t1_bounds: Sequence[float] = (0.5, 0.95), t2_bounds: Sequence[float] = (0.2, 0.9),
                 iou_thr: float = 0.5) -> None:
        super().__init__()
        if not 0.0 < targets[1] <= targets[0] <= 1.0:
            raise ValueError(f'calibration targets must be (confident, hesitant) with 0 < hesitant <= '
                             f'confident <= 1, got {tuple(targets)}')
        self.num_classes, self.targets, self.num_bins = num_classes, tuple(targets), num_bins
        self.momentum, self.min_boxes, self.iou_thr = momentum, min_boxes, iou_thr
        self.t1_bounds, self.t2_bounds = tuple(t1_bounds), tuple(t2_bounds)
        self.register_buffer('num', torch.zeros(num_classes, num_bins))
        self.register_buffer('true', torch.zeros(num_classes, num_bins))

    @torch.no_grad()
    def update(self, preds: List[InstanceData], gts: List[InstanceData]) -> None:
        """Add one batch: teacher predictions (scores as the PLO sees them) and their GT."""
        num, true = torch.zeros_like(self.num), torch.zeros_like(self.true)
        for pred, gt in zip(preds, gts):
            if len(pred) == 0:
                continue
            hits = match_predictions(pred, gt, self.iou_thr).float().to(num)
            bins = (pred.scores * self.num_bins).long().clamp(0, self.num_bins - 1).to(num.device)
            flat = pred.labels.long().to(num.device) * self.num_bins + bins
            num.view(-1).index_add_(0, flat, torch.ones_like(hits))
            true.view(-1).index_add_(0, flat, hits)
        self.num.mul_(self.momentum).add_(num)
        self.true.mul_(self.momentum).add_(true)

    def precision_at_or_above(self) -> Tuple[Tensor, Tensor]:
        """``(precision, count)`` of the boxes scoring at or above each bin's lower edge."""
        cum_n = self.num.flip(1).cumsum(1).flip(1)
        cum_t = self.true.flip(1).cumsum(1).flip(1)
        return cum_t / cum_n.clamp(min=1e-9), cum_n

    def _threshold(self, target: float, bounds: Tuple[float, float], default: Tensor) -> Tensor:
        prec, count = self.precision_at_or_above()
        ok = (count > 0) & (prec >= target)
        edges = torch.arange(self.num_bins, device=prec.device, dtype=prec.dtype) / self.num_bins
        lowest = torch.where(ok, edges.expand_as(prec), torch.full_like(prec, 2.0)).min(1).values
        known = count[:, 0] >= self.min_boxes  # enough boxes of the class in all
        t = torch.where(lowest <= 1.0, lowest, torch.full_like(lowest, bounds[1]))
        t = torch.where(known, t, default.to(t))
        return t.clamp(*bounds)

    def thresholds(self, default_t1: Tensor, default_t2: Tensor) -> Tuple[Tensor, Tensor]:
        """Per-class ``(t1, t2)``; ``t2 <= t1`` always."""
        t1 = self._threshold(self.targets[0], self.t1_bounds, default_t1)
        t2 = self._threshold(self.targets[1], self.t2_bounds, default_t2)
        return t1, torch.minimum(t1, t2)
