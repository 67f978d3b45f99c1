"""Losses from hesitant pseudo boxes, computed on the student's own features.

A hesitant box is neither background nor a hard label. Where it lies the student is not pushed
to background (the box is passed to mmdet's assigners as an *ignored* instance), and it adds:

* ``cls``: classification toward its class, each box weighted by the teacher's confidence;
* ``obj``: objectness toward foreground (the RPN of a two-stage detector), weighted likewise;
* ``bbox`` (off by default): box regression toward it, weighted likewise.

Losses are averaged over the number of hesitant boxes (two-stage RoI terms) or positive priors
(dense terms), so a box's gradient is proportional to its confidence.

Detector families plug in through :func:`register_hesitant_loss`: a predicate on the student
detector and a function ``fn(student, feats, hesitant, cfg, head_outs) -> dict``; ``head_outs``
is the output of the student's dense head (RPN or one-stage head) on ``feats`` when the caller
already has it (AnoMed captures it from the confident-label loss), else ``None``. Built in: two-stage
detectors with a ``StandardRoIHead`` (Faster R-CNN and relatives) and one-stage detectors whose
head is an ``AnchorHead`` with sigmoid classification (RetinaNet, ...). A point-based head
(FCOS) would register a function that picks its positive points inside each hesitant box and
applies the same weighted classification loss to them.
"""
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import AnchorHead
from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
from mmdet.structures.bbox import bbox2roi, bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor, nn

HESITANT_DEFAULTS = dict(cls=True, obj=True, bbox=False, weight='score', pos_iou_thr=0.5,
                         loss_weight=1.0, jitter=0.06)
_ADAPTERS: List[Tuple[Callable[[nn.Module], bool], Callable]] = []


def register_hesitant_loss(predicate: Callable[[nn.Module], bool]):
    """Decorator: use ``fn`` for students for which ``predicate(student)`` is true."""
    def wrap(fn):
        _ADAPTERS.insert(0, (predicate, fn))
        return fn
    return wrap


def hesitant_losses(student: nn.Module, feats: Tuple[Tensor], hesitant: List[InstanceData],
                    cfg: dict, head_outs: Optional[tuple] = None) -> Dict[str, Tensor]:
    """Weighted losses of the hesitant boxes (``bboxes``, ``labels``, ``scores`` per image).

    ``head_outs``: the student's dense-head output on ``feats`` (``(cls_scores, bbox_preds)``),
    reused instead of a second head pass; ``None`` runs the head.
    """
    cfg = {**HESITANT_DEFAULTS, **(cfg or {})}
    for predicate, fn in _ADAPTERS:
        if predicate(student):
            losses = fn(student, feats, hesitant, cfg, head_outs)
            return {k: v * cfg['loss_weight'] for k, v in losses.items()}
    raise NotImplementedError(
        f'no hesitant-loss adapter for {type(student).__name__}; register one with '
        'anomed_mmdet.models.plo.register_hesitant_loss')


def _weights(hesitant: List[InstanceData], cfg: dict) -> Tensor:
    scores = torch.cat([h.scores for h in hesitant])
    if cfg['weight'] == 'score':
        return scores.detach()
    if cfg['weight'] == 'uniform':
        return torch.ones_like(scores)
    raise ValueError(f"hesitant weight must be 'score' or 'uniform', got {cfg['weight']!r}")


def _zero(feats: Tuple[Tensor]) -> Tensor:
    """A zero that keeps the graph (and DDP) happy."""
    return sum(f.sum() for f in feats) * 0.0


def _jitter(boxes: Tensor, scale: float) -> Tensor:
    wh = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)
    return boxes + torch.randn_like(boxes) * wh * scale


def _dense_positives(priors: Tensor, boxes: Tensor, thr: float) -> Tuple[Tensor, Tensor]:
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


@register_hesitant_loss(lambda s: getattr(s, 'with_rpn', False) and hasattr(s, 'roi_head'))
def two_stage_hesitant_loss(student, feats, hesitant, cfg, head_outs=None) -> Dict[str, Tensor]:
    """RoI classification on the hesitant boxes themselves, RPN objectness on their anchors."""
    losses = {}
    zero = _zero(feats)
    n = sum(len(h) for h in hesitant)
    if n == 0:
        return {k: zero for k, on in (('loss_cls', cfg['cls']), ('loss_obj', cfg['obj']),
                                      ('loss_bbox', cfg['bbox'])) if on}
    w = _weights(hesitant, cfg)
    labels = torch.cat([h.labels for h in hesitant]).long()
    roi_head = student.roi_head
    if cfg['cls']:
        res = roi_head._bbox_forward(feats, bbox2roi([h.bboxes for h in hesitant]))
        ce = F.cross_entropy(res['cls_score'], labels, reduction='none')
        losses['loss_cls'] = (ce * w).sum() / n
    if cfg['bbox']:
        jittered = [_jitter(h.bboxes, cfg['jitter']) for h in hesitant]
        res = roi_head._bbox_forward(feats, bbox2roi(jittered))
        head = roi_head.bbox_head
        target = head.bbox_coder.encode(torch.cat(jittered), torch.cat([h.bboxes for h in hesitant]))
        pred = res['bbox_pred']
        if not head.reg_class_agnostic:
            pred = pred.view(n, -1, 4)[torch.arange(n), labels]
        losses['loss_bbox'] = (F.l1_loss(pred, target, reduction='none').sum(1) * w).sum() / n
    if cfg['obj']:
        rpn = student.rpn_head
        cls_scores = (head_outs if head_outs is not None else rpn(feats))[0]
        priors = torch.cat(rpn.prior_generator.grid_priors(
            [c.shape[-2:] for c in cls_scores], device=cls_scores[0].device))
        total, count = zero, 0
        for i, h in enumerate(hesitant):
            if len(h) == 0:
                continue
            logits = _flatten_levels(cls_scores, i, rpn.cls_out_channels)[:, 0]
            pos, box = _dense_positives(priors, h.bboxes, cfg['pos_iou_thr'])
            wi = h.scores.detach()[box[pos]] if cfg['weight'] == 'score' else torch.ones_like(logits[pos])
            total = total + (F.binary_cross_entropy_with_logits(
                logits[pos], torch.ones_like(logits[pos]), reduction='none') * wi).sum()
            count += int(pos.sum())
        losses['loss_obj'] = total / max(count, 1)
    return losses


@register_hesitant_loss(lambda s: isinstance(getattr(s, 'bbox_head', None), AnchorHead)
                        and getattr(s.bbox_head, 'use_sigmoid_cls', False))
def anchor_head_hesitant_loss(student, feats, hesitant, cfg, head_outs=None) -> Dict[str, Tensor]:
    """Sigmoid focal classification (and optional box deltas) on the hesitant boxes' anchors."""
    head = student.bbox_head
    zero = _zero(feats)
    n = sum(len(h) for h in hesitant)
    if n == 0:
        return {k: zero for k, on in (('loss_cls', cfg['cls']), ('loss_bbox', cfg['bbox'])) if on}
    cls_scores, bbox_preds = head_outs if head_outs is not None else head(feats)
    priors = torch.cat(head.prior_generator.grid_priors(
        [c.shape[-2:] for c in cls_scores], device=cls_scores[0].device))
    loss_cls, loss_bbox, count = zero, zero, 0
    for i, h in enumerate(hesitant):
        if len(h) == 0:
            continue
        pos, box = _dense_positives(priors, h.bboxes, cfg['pos_iou_thr'])
        wi = h.scores.detach()[box[pos]] if cfg['weight'] == 'score' else h.scores.new_ones(int(pos.sum()))
        count += int(pos.sum())
        if cfg['cls']:
            logits = _flatten_levels(cls_scores, i, head.cls_out_channels)[pos]
            target = F.one_hot(h.labels.long()[box[pos]], head.cls_out_channels).float()
            fl = py_sigmoid_focal_loss(logits, target, reduction='none').sum(1)
            loss_cls = loss_cls + (fl * wi).sum()
        if cfg['bbox']:
            deltas = _flatten_levels(bbox_preds, i, 4)[pos]
            target = head.bbox_coder.encode(priors[pos], h.bboxes[box[pos]])
            loss_bbox = loss_bbox + (F.l1_loss(deltas, target, reduction='none').sum(1) * wi).sum()
    losses = {}
    if cfg['cls']:
        losses['loss_cls'] = loss_cls / max(count, 1)
    if cfg['bbox']:
        losses['loss_bbox'] = loss_bbox / max(count, 1)
    return losses
