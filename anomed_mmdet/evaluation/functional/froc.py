"""FROC analysis in numpy: lesion matching per image, the FROC curve, sensitivity at FP rates.

A prediction *hits* a ground-truth lesion of its class when their IoU is at least ``iou_thr``
(``hit='iou'``) or when its box centre lies inside the lesion's box (``hit='center'``, borders
included). Per image, predictions are matched greedily in descending score order (equal scores
keep their input order): each takes the unmatched lesion it hits with the highest IoU (lowest
index on equal IoU). A prediction that hits only lesions already taken is a false positive (a
lesion is found once); one that hits no lesion but an ignored region (``iscrowd`` /
``ignore_flag``) is left out; every other one is a false positive. Since a prediction's outcome
depends only on predictions scored at least as high, one matching serves every threshold.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

FP_RATES: Tuple[float, ...] = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
TP, FP, LEFT_OUT = 1, 0, -1


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of (N, 4) and (M, 4) ``x1, y1, x2, y2`` boxes: an (N, M) array."""
    a, b = a.reshape(-1, 4).astype(np.float64), b.reshape(-1, 4).astype(np.float64)
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def hit_matrix(pred: np.ndarray, gt: np.ndarray, hit: str, iou_thr: float) -> Tuple[np.ndarray, np.ndarray]:
    """(hits, iou): whether each prediction hits each box under the rule, and their IoU."""
    iou = box_iou(pred, gt)
    if hit == 'iou':
        return iou >= iou_thr, iou
    if hit == 'center':
        pred, gt = pred.reshape(-1, 4), gt.reshape(-1, 4)
        cx, cy = (pred[:, 0] + pred[:, 2]) / 2, (pred[:, 1] + pred[:, 3]) / 2
        inside = ((cx[:, None] >= gt[None, :, 0]) & (cx[:, None] <= gt[None, :, 2])
                  & (cy[:, None] >= gt[None, :, 1]) & (cy[:, None] <= gt[None, :, 3]))
        return inside, iou
    raise ValueError(f"hit must be 'iou' or 'center', got {hit!r}")


def match_image(pred_boxes: np.ndarray, pred_scores: np.ndarray, pred_labels: np.ndarray,
                gt_boxes: np.ndarray, gt_labels: np.ndarray,
                ignore_boxes: Optional[np.ndarray] = None, ignore_labels: Optional[np.ndarray] = None,
                hit: str = 'iou', iou_thr: float = 0.5) -> np.ndarray:
    """The outcome of each prediction of one image: ``TP`` (1), ``FP`` (0) or ``LEFT_OUT`` (-1)."""
    n = len(pred_scores)
    status = np.full(n, FP, dtype=np.int8)
    hits, iou = hit_matrix(pred_boxes, gt_boxes, hit, iou_thr)
    hits &= np.asarray(pred_labels)[:, None] == np.asarray(gt_labels)[None, :]
    if ignore_boxes is not None and len(ignore_boxes):
        on_ignored, _ = hit_matrix(pred_boxes, ignore_boxes, hit, iou_thr)
        on_ignored = (on_ignored & (np.asarray(pred_labels)[:, None] == np.asarray(ignore_labels)[None, :])).any(1)
    else:
        on_ignored = np.zeros(n, dtype=bool)
    taken = np.zeros(hits.shape[1], dtype=bool)
    for i in np.argsort(-np.asarray(pred_scores, dtype=np.float64), kind='stable'):
        free = np.flatnonzero(hits[i] & ~taken)
        if len(free):
            taken[free[np.argmax(iou[i, free])]] = True
            status[i] = TP
        elif not hits[i].any() and on_ignored[i]:
            status[i] = LEFT_OUT
    return status


def froc_curve(scores: np.ndarray, is_tp: np.ndarray, num_lesions: float, num_images: float,
               weights: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fppi, sensitivity, thresholds) at every distinct score, plus the start (0, 0, +inf).

    ``scores`` must be sorted in descending order; predictions of equal score enter together.
    ``weights`` (one per prediction) count a prediction several times (bootstrap).
    """
    is_tp = np.asarray(is_tp, dtype=np.float64)
    w = np.ones_like(is_tp) if weights is None else np.asarray(weights, dtype=np.float64)
    cum_tp, cum_fp = np.cumsum(w * is_tp), np.cumsum(w * (1 - is_tp))
    last = np.flatnonzero(np.r_[scores[1:] != scores[:-1], True]) if len(scores) else np.zeros(0, int)
    fppi = np.r_[0.0, cum_fp[last]] / num_images
    sens = np.r_[0.0, cum_tp[last]] / num_lesions if num_lesions > 0 else np.full(len(last) + 1, np.nan)
    return fppi, sens, np.r_[np.inf, np.asarray(scores, dtype=np.float64)[last]]


def sensitivity_at(fppi: np.ndarray, sens: np.ndarray, rates: Sequence[float] = FP_RATES) -> np.ndarray:
    """The highest sensitivity reached with at most ``rate`` false positives per image, per rate.

    No interpolation: the curve is a staircase; a detector whose predictions all together stay
    under a rate gets its final sensitivity there.
    """
    idx = np.searchsorted(fppi, np.asarray(rates, dtype=np.float64) + 1e-9, side='right') - 1
    return sens[idx]


def bootstrap_ci(scores: np.ndarray, is_tp: np.ndarray, image_index: np.ndarray,
                 lesions_per_image: np.ndarray, num_samples: int, seed: Optional[int],
                 rates: Sequence[float] = FP_RATES, level: float = 0.95) -> np.ndarray:
    """Percentile confidence intervals over images: a (2, len(rates) + 1) array, rows low / high,
    columns the sensitivity at each rate then their mean (CPM).

    Each sample draws as many images as there are, with replacement; a prediction counts as
    often as its image was drawn. Samples without any lesion are skipped.
    """
    rng = np.random.default_rng(seed)
    n = len(lesions_per_image)
    values = np.full((num_samples, len(rates) + 1), np.nan)
    for k in range(num_samples):
        counts = np.bincount(rng.integers(0, n, n), minlength=n)
        lesions = float(counts @ lesions_per_image)
        if lesions == 0:
            continue
        fppi, sens, _ = froc_curve(scores, is_tp, lesions, n, weights=counts[image_index])
        values[k, :-1] = sensitivity_at(fppi, sens, rates)
        values[k, -1] = values[k, :-1].mean()
    tail = (1 - level) / 2 * 100
    if np.isnan(values).all():
        return np.full((2, values.shape[1]), np.nan)
    return np.nanpercentile(values, [tail, 100 - tail], axis=0)
