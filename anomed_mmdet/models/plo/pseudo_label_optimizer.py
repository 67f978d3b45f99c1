"""Pseudo-Label Optimizer (PLO): split a teacher's boxes into confident, hesitant and scrap.

For every unlabelled image the teacher's boxes (its own NMS, Soft-NMS when ``soft_nms`` is set:
AnoMed swaps it into the teacher's test-time NMS, where it acts) go through (optional) bounded
distribution alignment of their scores, then per-class thresholds ``t1 >= t2``::

    score >= t1        -> confident  (hard pseudo label: classification, objectness, box)
    t2 <= score < t1   -> hesitant   (soft label: the score is its target; ignored as a negative)
    score < t2         -> scrap      (dropped: background)

Thresholds (``class_thrs``): ``None`` (global ``confident_thr`` / ``scrap_thr``), a list of
``(t1, t2)`` per class, ``'calibrated'`` (per class, at the score where the teacher's precision
measured on the labelled images of each iteration reaches ``calibration.targets``, see
:class:`PrecisionCalibration`) or ``'adaptive'`` (kept for comparison: scaled by the teacher's
mean score per class; it lowers the bar for the classes the teacher is least precise on).

Running statistics are buffers, so they are saved in checkpoints and restored on resume.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor, nn

from .distribution_alignment import LabelledClassPrior, ScoreAlignment
from .threshold_calibration import PrecisionCalibration

# values of the `plo_group` field of pseudo instances
SCRAP, CONFIDENT, HESITANT = -1, 0, 1
GROUP_NAMES = (('confident', CONFIDENT), ('hesitant', HESITANT), ('scrap', SCRAP))
CLASS_THR_MODES = (None, 'adaptive', 'calibrated')


@MODELS.register_module()
class PseudoLabelOptimizer(nn.Module):
    """Split teacher predictions into confident / hesitant / scrap pseudo labels.

    Args:
        num_classes: number of foreground classes.
        confident_thr: ``t1``; boxes at or above it are confident (the default per class).
        scrap_thr: ``t2``; boxes below it are scrap (the default per class).
        class_thrs: ``None``, ``'calibrated'``, ``'adaptive'`` or a list of ``(t1, t2)``.
        calibration: :class:`PrecisionCalibration` arguments (``'calibrated'``).
        adaptive_momentum / adaptive_floor: ``'adaptive'`` mode settings.
        soft_nms: ``None`` or an mmcv NMS config, e.g. ``dict(type='soft_nms',
            iou_threshold=0.5, min_score=0.05)``; replaces the teacher's NMS while it labels.
        dist_align: ``None``, ``dict(type='scores', momentum, alpha, max_ratio, min_score)``
            (bounded score rescaling) or ``dict(type='loss', loss_weight)`` (the paper's
            alignment loss on the student, added by AnoMed).
        max_per_img: keep at most this many non-scrap boxes per image (highest scores).
        log_per_class: also report per-class confident / hesitant counts and thresholds.
        hesitant_dedup_iou: a hesitant box overlapping a confident box at this IoU or more is
            dropped as scrap (a leftover of the same lesion). ``None`` keeps every hesitant box.
    """

    def __init__(self,
                 num_classes: int,
                 confident_thr: float = 0.7,
                 scrap_thr: float = 0.3,
                 class_thrs: Union[None, str, Sequence[Tuple[float, float]]] = None,
                 calibration: Optional[dict] = None,
                 adaptive_momentum: float = 0.99,
                 adaptive_floor: float = 0.5,
                 soft_nms: Optional[dict] = None,
                 dist_align: Optional[dict] = None,
                 max_per_img: int = 100,
                 log_per_class: bool = True,
                 hesitant_dedup_iou: Optional[float] = 0.5) -> None:
        super().__init__()
        if not 0.0 <= scrap_thr <= confident_thr <= 1.0:
            raise ValueError(f'need 0 <= scrap_thr <= confident_thr <= 1, got scrap_thr={scrap_thr}, '
                             f'confident_thr={confident_thr}')
        if isinstance(class_thrs, str) and class_thrs not in CLASS_THR_MODES:
            raise ValueError(f"class_thrs must be None, 'calibrated', 'adaptive' or a list of (t1, t2); "
                             f'got {class_thrs!r}')
        if isinstance(class_thrs, (list, tuple)):
            if len(class_thrs) != num_classes:
                raise ValueError(f'class_thrs has {len(class_thrs)} pairs for {num_classes} classes')
            for c, (t1, t2) in enumerate(class_thrs):
                if not 0.0 <= t2 <= t1 <= 1.0:
                    raise ValueError(f'class_thrs[{c}] = ({t1}, {t2}): need 0 <= t2 <= t1 <= 1')
        self.num_classes = num_classes
        self.confident_thr, self.scrap_thr = confident_thr, scrap_thr
        self.class_thrs = class_thrs
        self.adaptive_momentum, self.adaptive_floor = adaptive_momentum, adaptive_floor
        self.soft_nms = dict(soft_nms) if soft_nms else None
        self.max_per_img = max_per_img
        self.log_per_class = log_per_class
        self.hesitant_dedup_iou = hesitant_dedup_iou
        self.prior = LabelledClassPrior(num_classes)
        self.dist_align = self._build_alignment(dist_align)
        self.calibration = (PrecisionCalibration(num_classes, **(calibration or {}))
                            if class_thrs == 'calibrated' else None)
        # running statistics (buffers: saved with the model, restored on resume)
        self.register_buffer('class_score_ema', torch.full((num_classes,), -1.0))

    def _build_alignment(self, cfg: Optional[dict]) -> Optional[ScoreAlignment]:
        self.align_loss_weight = 0.0
        if not cfg:
            return None
        cfg = dict(cfg)
        kind = cfg.pop('type', 'scores')
        if kind == 'loss':
            self.align_loss_weight = float(cfg.pop('loss_weight', 1.0))
            if cfg:
                raise ValueError(f"dist_align type='loss' takes only loss_weight, got {sorted(cfg)}")
            return None
        if kind != 'scores':
            raise ValueError(f"dist_align type must be 'scores' or 'loss', got {kind!r}")
        return ScoreAlignment(self.prior, **cfg)

    @property
    def needs_labelled_predictions(self) -> bool:
        """Whether the teacher's predictions on labelled images must be fed to :meth:`calibrate`."""
        return self.calibration is not None

    # ------------------------------------------------------------------ thresholds
    def thresholds(self) -> Tuple[Tensor, Tensor]:
        """Per-class ``(t1, t2)`` tensors currently in force."""
        dev = self.class_score_ema.device
        if isinstance(self.class_thrs, (list, tuple)):
            t = torch.tensor(self.class_thrs, dtype=torch.float32, device=dev)
            return t[:, 0], t[:, 1]
        t1 = torch.full((self.num_classes,), self.confident_thr, device=dev)
        t2 = torch.full((self.num_classes,), self.scrap_thr, device=dev)
        if self.calibration is not None:
            return self.calibration.thresholds(t1, t2)
        if self.class_thrs == 'adaptive' and (self.class_score_ema > 0).any():
            ema = self.class_score_ema
            scale = torch.where(ema > 0, ema / ema.max(), torch.ones_like(ema)).clamp(self.adaptive_floor, 1.0)
            t1, t2 = t1 * scale, t2 * scale
        return t1, t2

    # ------------------------------------------------------------------ statistics
    @torch.no_grad()
    def update_gt_distribution(self, labels: Sequence[Tensor]) -> None:
        """Feed the labelled boxes' classes (the class prior of the alignment)."""
        self.prior.update(labels)

    def align(self, scores: Tensor, labels: Tensor) -> Tensor:
        """Scores as the thresholds see them (aligned when ``dist_align`` rescales scores)."""
        return self.dist_align(scores, labels) if self.dist_align is not None else scores

    @torch.no_grad()
    def calibrate(self, preds: List[InstanceData], gts: List[InstanceData]) -> None:
        """Teacher predictions on labelled images and their ground truth (``'calibrated'``)."""
        if self.calibration is None:
            return
        aligned = []
        for p in preds:
            q = InstanceData(bboxes=p.bboxes, labels=p.labels.long(), scores=self.align(p.scores, p.labels.long()))
            aligned.append(q)
        self.calibration.update(aligned, gts)

    @torch.no_grad()
    def _update_adaptive(self, scores: Tensor, labels: Tensor) -> None:
        keep = scores >= self.scrap_thr
        if self.class_thrs != 'adaptive' or not keep.any():
            return
        s, lab = scores[keep], labels[keep]
        sums = torch.zeros(self.num_classes, device=s.device).index_add_(0, lab, s)
        cnt = torch.bincount(lab, minlength=self.num_classes).float()
        seen = cnt > 0
        mean = sums[seen] / cnt[seen]
        ema = self.class_score_ema[seen]
        m = self.adaptive_momentum
        self.class_score_ema[seen] = torch.where(ema < 0, mean, ema * m + mean * (1 - m))

    # ------------------------------------------------------------------ split
    @torch.no_grad()
    def split(self, results: List[InstanceData]) -> Tuple[List[Tensor], List[Tensor], Tensor, Tensor]:
        """Bucket of every teacher box: ``(aligned scores, groups)`` per image, and ``(t1, t2)``.

        Updates the running statistics (alignment, adaptive) after the split, so this batch's
        statistics count from the next batch on.
        """
        t1, t2 = self.thresholds()
        all_scores, all_groups = [], []
        for res in results:
            labels = res.labels.long()
            scores = self.align(res.scores, labels)
            group = torch.full_like(labels, SCRAP)
            if len(labels):
                group[scores >= t2[labels]] = HESITANT
                group[scores >= t1[labels]] = CONFIDENT
                self._drop_duplicates(res.bboxes, group)
                group[~self._cap(group >= 0, scores)] = SCRAP
            all_scores.append(scores)
            all_groups.append(group)
        if results:
            raw_scores = torch.cat([r.scores for r in results])
            raw_labels = torch.cat([r.labels.long() for r in results])
            if self.dist_align is not None:
                self.dist_align.update(raw_scores, raw_labels)
            self._update_adaptive(raw_scores, raw_labels)
        return all_scores, all_groups, t1, t2

    @torch.no_grad()
    def forward(self, results: List[InstanceData]) -> Tuple[List[InstanceData], Dict[str, Tensor]]:
        """Split each image's predictions; returns pseudo instances and log statistics.

        Each returned :class:`InstanceData` holds the confident and hesitant boxes with fields
        ``bboxes``, ``labels``, ``scores`` (aligned) and ``plo_group``. The statistics are
        scalars ``plo_num_*`` / ``plo_score_*`` (count and mean score of confident, hesitant
        and scrap boxes) and, with ``log_per_class``, ``plo_{group}_c{k}`` and ``plo_t1_c{k}``.
        """
        scores, groups, t1, t2 = self.split(results)
        out = []
        for res, s, g in zip(results, scores, groups):
            keep = g != SCRAP
            out.append(InstanceData(bboxes=res.bboxes[keep], labels=res.labels.long()[keep], scores=s[keep],
                                    plo_group=g[keep]))
        return out, self._stats(scores, [r.labels.long() for r in results], groups, t1, t2)

    def _cap(self, keep: Tensor, scores: Tensor) -> Tensor:
        if keep.sum() <= self.max_per_img:
            return keep
        idx = keep.nonzero().squeeze(1)
        capped = torch.zeros_like(keep)
        capped[idx[scores[idx].topk(self.max_per_img).indices]] = True
        return capped

    def _drop_duplicates(self, bboxes: Tensor, group: Tensor) -> None:
        """Hesitant boxes on top of a confident one become scrap (in place)."""
        conf, hes = group == CONFIDENT, group == HESITANT
        if self.hesitant_dedup_iou is None or not conf.any() or not hes.any():
            return
        dup = bbox_overlaps(bboxes[hes], bboxes[conf]).max(dim=1).values >= self.hesitant_dedup_iou
        group[hes.nonzero().squeeze(1)[dup]] = SCRAP

    def _stats(self, scores: List[Tensor], labels: List[Tensor], groups: List[Tensor], t1: Tensor,
               t2: Tensor) -> Dict[str, Tensor]:
        dev = self.class_score_ema.device
        s = torch.cat(scores) if scores else torch.zeros(0, device=dev)
        g = torch.cat(groups) if groups else torch.zeros(0, dtype=torch.long, device=dev)
        lab = torch.cat(labels) if labels else torch.zeros(0, dtype=torch.long, device=dev)
        stats = {}
        for name, gid in GROUP_NAMES:
            m = g == gid
            stats[f'plo_num_{name}'] = m.sum().float()
            stats[f'plo_score_{name}'] = s[m].mean() if m.any() else s.new_zeros(())
            if gid != SCRAP and self.log_per_class:
                counts = torch.bincount(lab[m], minlength=self.num_classes).float()
                stats.update({f'plo_{name}_c{k}': counts[k] for k in range(self.num_classes)})
        if self.log_per_class and (self.calibration is not None or self.class_thrs == 'adaptive'):
            stats.update({f'plo_t1_c{k}': t1[k] for k in range(self.num_classes)})
            stats.update({f'plo_t2_c{k}': t2[k] for k in range(self.num_classes)})
        return stats
