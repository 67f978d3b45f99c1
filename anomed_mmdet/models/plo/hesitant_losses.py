"""Losses from hesitant pseudo boxes, computed on the student's own features.

A hesitant box is neither background nor a hard label. The confident-label losses ignore the
priors it covers that would otherwise be negatives (``HesitantMaxIoUAssigner``), and it adds:

* ``cls``: classification on the box, with the teacher's score ``s`` as a soft target
  (``s`` on its class, ``1 - s`` on background), so a doubtful box is pulled part-way toward
  its class and part-way toward background;
* ``obj``: RPN objectness on its anchors with target ``s`` (two-stage detectors);
* ``bbox`` (off by default): box regression toward it, weighted by ``s``.

Each term is normalised as the confident loss it sits beside: R-CNN terms by the RoIs the
R-CNN samples per batch, RPN terms by the anchors the RPN samples, one-stage focal terms by
the positive anchors (confident and hesitant). Per box, a hesitant box thus moves the student
less than a confident positive of the same class would. ``target='hard'`` with
``weight='score'`` gives the old form (target 1, weight ``s``) under the same normalisation.

Adapters are registered in mmdet's ``MODELS`` registry and chosen by ``type`` in
``plo.hesitant`` or, without one, by the first built-in whose ``supports(student)`` is true.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import AnchorHead
from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox2roi, bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor, nn


def _zero(feats: Sequence[Tensor]) -> Tensor:
    """A zero that keeps the graph (and DDP) happy."""
    return sum(f.sum() for f in feats) * 0.0


def _jitter(boxes: Tensor, scale: float) -> Tensor:
    wh = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)
    return boxes + torch.randn_like(boxes) * wh * scale


def dense_positives(priors: Tensor, boxes: Tensor, thr: float) -> Tuple[Tensor, Tensor]:
    """Priors matched to a box: IoU >= thr, plus each box's best prior. Returns (mask, box idx)."""
    iou = bbox_overlaps(priors, boxes)  # (num_priors, num_boxes)
    best_iou, best_box = iou.max(dim=1)
    pos = best_iou >= thr
    best_prior = iou.argmax(dim=0)
    pos[best_prior] = True
    best_box[best_prior] = torch.arange(len(boxes), device=boxes.device)
    return pos, best_box


def _flatten_levels(maps: List[Tensor], img: int, channels: int) -> Tensor:
    """(N, A*C, H, W) per level -> (sum_l H*W*A, C) for one image, in the priors' order."""
    return torch.cat([m[img].permute(1, 2, 0).reshape(-1, channels) for m in maps])


class HesitantLoss:
    """Base of the adapters: settings, per-box weights and targets."""

    def __init__(self, cls: bool = True, obj: bool = True, bbox: bool = False, target: str = 'soft',
                 weight: str = 'uniform', pos_iou_thr: float = 0.5, loss_weight: float = 1.0,
                 jitter: float = 0.06) -> None:
        if target not in ('soft', 'hard'):
            raise ValueError(f"hesitant target must be 'soft' or 'hard', got {target!r}")
        if weight not in ('uniform', 'score'):
            raise ValueError(f"hesitant weight must be 'uniform' or 'score', got {weight!r}")
        self.cls, self.obj, self.bbox = cls, obj, bbox
        self.target, self.weight = target, weight
        self.pos_iou_thr, self.loss_weight, self.jitter = pos_iou_thr, loss_weight, jitter

    @staticmethod
    def supports(student: nn.Module) -> bool:
        raise NotImplementedError

    def box_weight(self, scores: Tensor) -> Tensor:
        return scores.detach() if self.weight == 'score' else torch.ones_like(scores)

    def box_target(self, scores: Tensor) -> Tensor:
        """Probability of the box's class the student is trained toward."""
        return scores.detach() if self.target == 'soft' else torch.ones_like(scores)

    def __call__(self, student: nn.Module, feats: Sequence[Tensor], hesitant: List[InstanceData],
                 confident: Optional[List[InstanceData]] = None,
                 head_outs: Optional[tuple] = None) -> Dict[str, Tensor]:
        losses = self.compute(student, tuple(feats), hesitant, confident, head_outs)
        return {k: v * self.loss_weight for k, v in losses.items()}

    def compute(self, student, feats, hesitant, confident, head_outs) -> Dict[str, Tensor]:
        raise NotImplementedError


@MODELS.register_module()
class TwoStageHesitantLoss(HesitantLoss):
    """RoI classification on the hesitant boxes themselves, RPN objectness on their anchors."""

    @staticmethod
    def supports(student: nn.Module) -> bool:
        return getattr(student, 'with_rpn', False) and hasattr(student, 'roi_head')

    @staticmethod
    def _sampled(student: nn.Module, stage: str, num_imgs: int, default: int) -> int:
        cfg = (student.train_cfg or {}).get(stage, {}) or {}
        return num_imgs * int((cfg.get('sampler') or {}).get('num', default))

    def compute(self, student, feats, hesitant, confident, head_outs) -> Dict[str, Tensor]:
        zero = _zero(feats)
        names = [k for k, on in (('loss_cls', self.cls), ('loss_obj', self.obj), ('loss_bbox', self.bbox)) if on]
        if sum(len(h) for h in hesitant) == 0:
            return {k: zero for k in names}
        scores = torch.cat([h.scores for h in hesitant])
        labels = torch.cat([h.labels for h in hesitant]).long()
        w, t = self.box_weight(scores), self.box_target(scores)
        idx = torch.arange(len(labels), device=labels.device)
        n_rcnn = self._sampled(student, 'rcnn', len(hesitant), 512)
        losses = {}
        roi_head = student.roi_head
        if self.cls:
            logp = F.log_softmax(roi_head._bbox_forward(feats, bbox2roi([h.bboxes for h in hesitant]))['cls_score'], 1)
            ce = -(t * logp[idx, labels] + (1 - t) * logp[:, -1])
            losses['loss_cls'] = (ce * w).sum() / n_rcnn
        if self.bbox:
            jittered = [_jitter(h.bboxes, self.jitter) for h in hesitant]
            res = roi_head._bbox_forward(feats, bbox2roi(jittered))
            head = roi_head.bbox_head
            target = head.bbox_coder.encode(torch.cat(jittered), torch.cat([h.bboxes for h in hesitant]))
            pred = res['bbox_pred']
            if not head.reg_class_agnostic:
                pred = pred.view(len(labels), -1, 4)[idx, labels]
            losses['loss_bbox'] = (F.l1_loss(pred, target, reduction='none').sum(1) * scores.detach()).sum() / n_rcnn
        if self.obj:
            losses['loss_obj'] = self._objectness(student, feats, hesitant, head_outs, zero)
        return losses

    def _objectness(self, student, feats, hesitant, head_outs, zero) -> Tensor:
        rpn = student.rpn_head
        cls_scores = (head_outs if head_outs is not None else rpn(feats))[0]
        priors = torch.cat(rpn.prior_generator.grid_priors(
            [c.shape[-2:] for c in cls_scores], device=cls_scores[0].device))
        total = zero
        for i, h in enumerate(hesitant):
            if len(h) == 0:
                continue
            logits = _flatten_levels(cls_scores, i, rpn.cls_out_channels)[:, 0]
            pos, box = dense_positives(priors, h.bboxes, self.pos_iou_thr)
            bce = F.binary_cross_entropy_with_logits(logits[pos], self.box_target(h.scores)[box[pos]],
                                                     reduction='none')
            total = total + (bce * self.box_weight(h.scores)[box[pos]]).sum()
        return total / self._sampled(student, 'rpn', len(hesitant), 256)


@MODELS.register_module()
class AnchorHeadHesitantLoss(HesitantLoss):
    """Sigmoid focal classification (and optional box deltas) on the hesitant boxes' anchors."""

    @staticmethod
    def supports(student: nn.Module) -> bool:
        head = getattr(student, 'bbox_head', None)
        return isinstance(head, AnchorHead) and getattr(head, 'use_sigmoid_cls', False)

    def compute(self, student, feats, hesitant, confident, head_outs) -> Dict[str, Tensor]:
        head = student.bbox_head
        zero = _zero(feats)
        names = [k for k, on in (('loss_cls', self.cls), ('loss_bbox', self.bbox)) if on]
        if sum(len(h) for h in hesitant) == 0:
            return {k: zero for k in names}
        cls_scores, bbox_preds = head_outs if head_outs is not None else head(feats)
        priors = torch.cat(head.prior_generator.grid_priors(
            [c.shape[-2:] for c in cls_scores], device=cls_scores[0].device))
        loss_cls, loss_bbox, count = zero, zero, 0
        for i, h in enumerate(hesitant):
            if confident is not None and len(confident[i]):
                count += int(dense_positives(priors, confident[i].bboxes, self.pos_iou_thr)[0].sum())
            if len(h) == 0:
                continue
            pos, box = dense_positives(priors, h.bboxes, self.pos_iou_thr)
            count += int(pos.sum())
            wi = self.box_weight(h.scores)[box[pos]]
            if self.cls:
                logits = _flatten_levels(cls_scores, i, head.cls_out_channels)[pos]
                target = F.one_hot(h.labels.long()[box[pos]], head.cls_out_channels).float()
                target = target * self.box_target(h.scores)[box[pos], None]
                fl = py_sigmoid_focal_loss(logits, target, reduction='none').sum(1)
                loss_cls = loss_cls + (fl * wi).sum()
            if self.bbox:
                deltas = _flatten_levels(bbox_preds, i, 4)[pos]
                target = head.bbox_coder.encode(priors[pos], h.bboxes[box[pos]])
                reg = F.l1_loss(deltas, target, reduction='none').sum(1) * h.scores.detach()[box[pos]]
                loss_bbox = loss_bbox + reg.sum()
        losses = {}
        if self.cls:
            losses['loss_cls'] = loss_cls / max(count, 1)
        if self.bbox:
            losses['loss_bbox'] = loss_bbox / max(count, 1)
        return losses


BUILT_IN = (TwoStageHesitantLoss, AnchorHeadHesitantLoss)


def build_hesitant_loss(cfg: Optional[dict], student: nn.Module) -> HesitantLoss:
    """The adapter named by ``cfg['type']``, else the first built-in that supports ``student``."""
    cfg = dict(cfg or {})
    if 'type' in cfg:
        return MODELS.build(cfg)
    for cls in BUILT_IN:
        if cls.supports(student):
            return cls(**cfg)
    raise NotImplementedError(
        f'no hesitant-loss adapter for {type(student).__name__}; register a HesitantLoss subclass in '
        "mmdet's MODELS registry and name it in plo.hesitant.type")


def hesitant_losses(student: nn.Module, feats: Sequence[Tensor], hesitant: List[InstanceData], cfg: dict,
                    head_outs: Optional[tuple] = None,
                    confident: Optional[List[InstanceData]] = None) -> Dict[str, Tensor]:
    """Functional form: build the adapter from ``cfg`` and apply it."""
    return build_hesitant_loss(cfg, student)(student, feats, hesitant, confident, head_outs)
