"""Pseudo-Label Optimizer (PLO): split a teacher's boxes into confident, hesitant and scrap.

For every unlabelled image the teacher's boxes go through (optional) Soft-NMS, (optional)
distribution alignment of their scores, then per-class thresholds ``t1 > t2``::

    score >= t1        -> confident  (hard pseudo label: trains classification, objectness, box)
    t2 <= score < t1   -> hesitant   (not background; classification / objectness loss weighted
                                      by the score; no box regression by default)
    score < t2         -> scrap      (dropped: background)

Defaults (the paper does not publish its values): ``confident_thr=0.7`` and ``scrap_thr=0.3``.
Efficient Teacher, the closest prior method, uses 0.6 / 0.1 on natural images; a small medical
set gives a less confident teacher, so the hesitant band is kept wide but starts higher.

Minority classes are protected two ways, each switchable:

* ``class_thrs='adaptive'``: each class's thresholds are scaled by the ratio of that class's
  running mean teacher score to the best class's (never below ``adaptive_floor``), so a class
  the teacher is shy about still gets pseudo labels. ``class_thrs`` may also be a list of
  ``(t1, t2)`` pairs, one per class, or ``None`` (global thresholds).
* ``dist_align=dict(momentum=0.99, alpha=1.0)``: distribution alignment (ReMixMatch style)
  applied to detection scores: the teacher's scores of class ``c`` are multiplied by
  ``(p_gt[c] / p_pl[c]) ** alpha`` (capped at 1), where ``p_gt`` is the running class
  distribution of the labelled boxes and ``p_pl`` that of the teacher's non-scrap boxes. An
  under-predicted rare class is boosted towards the labelled prior.

Running statistics are buffers, so they are saved in checkpoints and restored on resume.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.ops import batched_nms
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor, nn

CONFIDENT, HESITANT = 0, 1  # values of the `plo_group` field of pseudo instances


class PseudoLabelOptimizer(nn.Module):
    """Split teacher predictions into confident / hesitant / scrap pseudo labels.

    Args:
        num_classes: number of foreground classes.
        confident_thr: ``t1``; boxes at or above it are confident.
        scrap_thr: ``t2``; boxes below it are scrap (background).
        class_thrs: ``None``, ``'adaptive'`` or a list of ``(t1, t2)`` per class.
        adaptive_momentum: EMA momentum of the per-class mean scores (``'adaptive'``).
        adaptive_floor: lowest scale of a class's thresholds (``'adaptive'``).
        soft_nms: ``None`` or an mmcv ``batched_nms`` config, e.g.
            ``dict(type='soft_nms', iou_threshold=0.5, min_score=0.05)``; add
            ``class_agnostic=True`` to also merge one lesion labelled as two classes.
        dist_align: ``None`` or ``dict(momentum=0.99, alpha=1.0)``.
        max_per_img: keep at most this many non-scrap boxes per image (highest scores).
        log_per_class: also report per-class confident / hesitant counts.
        hesitant_dedup_iou: a hesitant box overlapping a confident box at this IoU or more (any
            class; typically a Soft-NMS leftover of the same lesion) is dropped as scrap: as an
            ignored region it would otherwise stop the anchors of the confident box from being
            positives. ``None`` keeps every hesitant box.
    """

    def __init__(self,
                 num_classes: int,
                 confident_thr: float = 0.7,
                 scrap_thr: float = 0.3,
                 class_thrs: Union[None, str, Sequence[Tuple[float, float]]] = None,
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
        if isinstance(class_thrs, str) and class_thrs != 'adaptive':
            raise ValueError(f"class_thrs must be None, 'adaptive' or a list of (t1, t2); got {class_thrs!r}")
        if isinstance(class_thrs, (list, tuple)):
            if len(class_thrs) != num_classes:
                raise ValueError(f'class_thrs has {len(class_thrs)} pairs for {num_classes} classes')
            for c, (t1, t2) in enumerate(class_thrs):
                if not 0.0 <= t2 <= t1 <= 1.0:
                    raise ValueError(f'class_thrs[{c}] = ({t1}, {t2}): need 0 <= t2 <= t1 <= 1')
        self.num_classes = num_classes
        self.confident_thr = confident_thr
        self.scrap_thr = scrap_thr
        self.class_thrs = class_thrs
        self.adaptive_momentum = adaptive_momentum
        self.adaptive_floor = adaptive_floor
        self.soft_nms = dict(soft_nms) if soft_nms else None
        self.dist_align = dict(dist_align) if dist_align else None
        self.max_per_img = max_per_img
        self.log_per_class = log_per_class
        self.hesitant_dedup_iou = hesitant_dedup_iou
        # running statistics (buffers: saved with the model, restored on resume)
        self.register_buffer('class_score_ema', torch.full((num_classes,), -1.0))
        self.register_buffer('gt_class_dist', torch.full((num_classes,), 1.0 / num_classes))
        self.register_buffer('pl_class_dist', torch.full((num_classes,), 1.0 / num_classes))

    # ------------------------------------------------------------------ thresholds
    def thresholds(self) -> Tuple[Tensor, Tensor]:
        """Per-class ``(t1, t2)`` tensors currently in force."""
        dev = self.class_score_ema.device
        if isinstance(self.class_thrs, (list, tuple)):
            t = torch.tensor(self.class_thrs, dtype=torch.float32, device=dev)
            return t[:, 0], t[:, 1]
        t1 = torch.full((self.num_classes,), self.confident_thr, device=dev)
        t2 = torch.full((self.num_classes,), self.scrap_thr, device=dev)
        if self.class_thrs == 'adaptive' and (self.class_score_ema > 0).any():
            ema = self.class_score_ema
            ref = ema.max()
            scale = torch.where(ema > 0, ema / ref, torch.ones_like(ema)).clamp(self.adaptive_floor, 1.0)
            t1, t2 = t1 * scale, t2 * scale
        return t1, t2

    # ------------------------------------------------------------------ statistics
    @torch.no_grad()
    def update_gt_distribution(self, labels: Sequence[Tensor]) -> None:
        """Feed the labelled boxes' classes (for distribution alignment)."""
        if self.dist_align is None:
            return
        labels = torch.cat([lab.reshape(-1) for lab in labels]) if len(labels) else torch.zeros(0)
        if labels.numel() == 0:
            return
        hist = torch.bincount(labels.long().cpu(), minlength=self.num_classes).float().to(self.gt_class_dist)
        m = self.dist_align.get('momentum', 0.99)
        self.gt_class_dist.mul_(m).add_(hist / hist.sum(), alpha=1 - m)

    @torch.no_grad()
    def _update_teacher_stats(self, scores: Tensor, labels: Tensor) -> None:
        keep = scores >= self.scrap_thr
        if not keep.any():
            return
        s, lab = scores[keep], labels[keep]
        if self.dist_align is not None:
            hist = torch.bincount(lab, minlength=self.num_classes).float()
            m = self.dist_align.get('momentum', 0.99)
            self.pl_class_dist.mul_(m).add_(hist / hist.sum(), alpha=1 - m)
        if self.class_thrs == 'adaptive':
            sums = torch.zeros(self.num_classes, device=s.device).index_add_(0, lab, s)
            cnt = torch.bincount(lab, minlength=self.num_classes).float()
            seen = cnt > 0
            mean = sums[seen] / cnt[seen]
            ema = self.class_score_ema[seen]
            m = self.adaptive_momentum
            self.class_score_ema[seen] = torch.where(ema < 0, mean, ema * m + mean * (1 - m))

    def _align(self, scores: Tensor, labels: Tensor) -> Tensor:
        if self.dist_align is None or scores.numel() == 0:
            return scores
        ratio = (self.gt_class_dist / self.pl_class_dist.clamp(min=1e-6)) ** self.dist_align.get('alpha', 1.0)
        return (scores * ratio[labels]).clamp(max=1.0)

    # ------------------------------------------------------------------ split
    @torch.no_grad()
    def forward(self, results: List[InstanceData]) -> Tuple[List[InstanceData], Dict[str, Tensor]]:
        """Split each image's predictions; returns pseudo instances and log statistics.

        Each returned :class:`InstanceData` holds the confident and hesitant boxes with fields
        ``bboxes``, ``labels``, ``scores`` and ``plo_group`` (0 confident, 1 hesitant). The
        statistics are scalars named ``plo_num_*`` / ``plo_conf_*`` (count and mean score of
        confident, hesitant and scrap boxes) and, with ``log_per_class``, ``plo_{group}_c{k}``.
        """
        out, all_scores, all_labels, all_groups = [], [], [], []
        t1, t2 = self.thresholds()  # once per batch; this batch's statistics count from the next
        for res in results:
            bboxes, scores, labels = res.bboxes, res.scores, res.labels.long()
            if self.soft_nms is not None and len(scores):
                nms_cfg = dict(self.soft_nms)
                class_agnostic = nms_cfg.pop('class_agnostic', False)
                dets, keep = batched_nms(bboxes, scores, labels, dict(nms_cfg, class_agnostic=class_agnostic))
                bboxes, scores, labels = dets[:, :4], dets[:, 4], labels[keep]
            self._update_teacher_stats(scores, labels)
            scores = self._align(scores, labels)
            group = torch.full_like(labels, -1)  # -1 scrap
            if len(labels):
                group[scores >= t2[labels]] = HESITANT
                group[scores >= t1[labels]] = CONFIDENT
                self._drop_duplicates(bboxes, group)
            all_scores.append(scores)
            all_labels.append(labels)
            all_groups.append(group)
            keep = group >= 0
            if keep.sum() > self.max_per_img:
                idx = keep.nonzero().squeeze(1)
                top = scores[idx].topk(self.max_per_img).indices
                keep = torch.zeros_like(keep)
                keep[idx[top]] = True
            pseudo = InstanceData()
            pseudo.bboxes = bboxes[keep]
            pseudo.labels = labels[keep]
            pseudo.scores = scores[keep]
            pseudo.plo_group = group[keep]
            out.append(pseudo)
        return out, self._stats(all_scores, all_labels, all_groups)

    def _drop_duplicates(self, bboxes: Tensor, group: Tensor) -> None:
        """Hesitant boxes on top of a confident one become scrap (in place)."""
        conf, hes = group == CONFIDENT, group == HESITANT
        if self.hesitant_dedup_iou is None or not conf.any() or not hes.any():
            return
        dup = bbox_overlaps(bboxes[hes], bboxes[conf]).max(dim=1).values >= self.hesitant_dedup_iou
        group[hes.nonzero().squeeze(1)[dup]] = -1

    def _stats(self, scores: List[Tensor], labels: List[Tensor], groups: List[Tensor]) -> Dict[str, Tensor]:
        dev = self.class_score_ema.device
        s = torch.cat(scores) if scores else torch.zeros(0, device=dev)
        g = torch.cat(groups) if groups else torch.zeros(0, dtype=torch.long, device=dev)
        lab = torch.cat(labels) if labels else torch.zeros(0, dtype=torch.long, device=dev)
        stats = {}
        for name, gid in (('confident', CONFIDENT), ('hesitant', HESITANT), ('scrap', -1)):
            m = g == gid
            stats[f'plo_num_{name}'] = m.sum().float()
            stats[f'plo_conf_{name}'] = s[m].mean() if m.any() else s.new_zeros(())
            if gid >= 0 and self.log_per_class:
                counts = torch.bincount(lab[m], minlength=self.num_classes).float()
                stats.update({f'plo_{name}_c{k}': counts[k] for k in range(self.num_classes)})
        return stats
