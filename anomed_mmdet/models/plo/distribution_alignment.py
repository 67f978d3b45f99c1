"""Distribution alignment of pseudo labels, safe by construction, in two forms.

* :class:`ScoreAlignment` rescales the teacher's scores of class ``c`` by
  ``(p_gt[c] / p_pl[c]) ** alpha``, bounded to ``[min_ratio, max_ratio]`` (default ``[1, 2]``:
  an under-predicted class is boosted, no class is suppressed; suppressing a well-detected
  class because another is under-detected would drop its true boxes below ``t1``; a class the
  teacher over-predicts is the calibrated thresholds' job). ``p_gt`` is the
  class share of every labelled box seen so far (counts, not an EMA: the labelled set does not
  change); ``p_pl`` is the EMA of the class share of the teacher's score mass over exactly the
  boxes that are rescaled (score >= ``min_score``), and starts equal to ``p_gt`` (ratio 1).
  So a class the teacher only scores as noise below ``s`` can never come out above
  ``max_ratio * s``: noise is not turned into confident labels.
* :func:`alignment_loss` is the paper's form: a loss ``L_d = KL(p_gt || q)`` where ``q`` is the
  student's mean foreground class distribution on the unlabelled images' pseudo boxes.
"""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox2roi
from torch import Tensor, nn


class LabelledClassPrior(nn.Module):
    """Running class distribution of the labelled boxes (Laplace-smoothed counts)."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.register_buffer('gt_count', torch.zeros(num_classes))

    @torch.no_grad()
    def update(self, labels: Sequence[Tensor]) -> None:
        """Count the classes of one labelled batch."""
        flat = [lab.reshape(-1).long().cpu() for lab in labels]
        if flat and sum(len(f) for f in flat):
            hist = torch.bincount(torch.cat(flat), minlength=self.num_classes).float()
            self.gt_count.add_(hist.to(self.gt_count))

    def distribution(self) -> Tensor:
        return (self.gt_count + 1.0) / (self.gt_count.sum() + self.num_classes)


class ScoreAlignment(nn.Module):
    """Bounded rescaling of teacher scores toward the labelled class distribution.

    Args:
        prior: the labelled class prior (shared with the PLO).
        momentum: EMA momentum of the pseudo-label class distribution.
        alpha: strength (ratio exponent).
        max_ratio: upper bound of the rescaling factor.
        min_ratio: lower bound (``1 / max_ratio`` lets over-predicted classes be suppressed).
        min_score: boxes below it are neither counted nor rescaled.
    """

    def __init__(self, prior: LabelledClassPrior, momentum: float = 0.99, alpha: float = 1.0,
                 max_ratio: float = 2.0, min_ratio: float = 1.0, min_score: float = 0.05) -> None:
        super().__init__()
        if not 0.0 < min_ratio <= 1.0 <= max_ratio:
            raise ValueError(f'dist_align needs 0 < min_ratio <= 1 <= max_ratio, got min_ratio={min_ratio}, '
                             f'max_ratio={max_ratio}')
        self.min_ratio = min_ratio
        self.prior = [prior]  # a list: not registered twice as a submodule
        self.momentum, self.alpha, self.max_ratio, self.min_score = momentum, alpha, max_ratio, min_score
        self.register_buffer('pl_dist', torch.full((prior.num_classes,), -1.0))

    def ratio(self) -> Tensor:
        """Per-class factor currently applied."""
        if (self.pl_dist < 0).any():
            return torch.ones_like(self.pl_dist)
        p_gt = self.prior[0].distribution().to(self.pl_dist)
        r = (p_gt / self.pl_dist.clamp(min=1e-6)) ** self.alpha
        return r.clamp(self.min_ratio, self.max_ratio)

    @torch.no_grad()
    def update(self, scores: Tensor, labels: Tensor) -> None:
        """Add one batch of teacher boxes (all images together) to ``p_pl``."""
        keep = scores >= self.min_score
        if (self.pl_dist < 0).any():
            self.pl_dist.copy_(self.prior[0].distribution().to(self.pl_dist))
        if not keep.any():
            return
        mass = torch.zeros_like(self.pl_dist).index_add_(0, labels[keep].to(self.pl_dist.device),
                                                         scores[keep].to(self.pl_dist))
        self.pl_dist.mul_(self.momentum).add_(mass / mass.sum(), alpha=1 - self.momentum)

    def forward(self, scores: Tensor, labels: Tensor) -> Tensor:
        """Aligned scores (boxes below ``min_score`` unchanged), clamped to 1."""
        if scores.numel() == 0:
            return scores
        r = self.ratio().to(scores)[labels]
        return torch.where(scores >= self.min_score, (scores * r).clamp(max=1.0), scores)


def alignment_loss(student: nn.Module, feats: Sequence[Tensor], boxes: List[Tensor], p_gt: Tensor) -> Tensor:
    """``KL(p_gt || q)``: ``q`` the student's mean foreground class distribution on ``boxes``.

    Two-stage students only (RoI classification); the zero keeps the graph when there is no box.
    """
    if not hasattr(student, 'roi_head'):
        raise NotImplementedError('the distribution-alignment loss needs a two-stage student (roi_head)')
    zero = sum(f.sum() for f in feats) * 0.0
    if sum(len(b) for b in boxes) == 0:
        return zero
    cls_score = student.roi_head._bbox_forward(tuple(feats), bbox2roi(boxes))['cls_score']
    num_classes = len(p_gt)
    q = F.softmax(cls_score[:, :num_classes], dim=1).mean(0).clamp(min=1e-6)
    p = p_gt.to(q)
    return zero + (p * (p.log() - q.log())).sum()
