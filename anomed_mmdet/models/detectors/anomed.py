"""AnoMed: a teacher-student detector trained through the Pseudo-Label Optimizer (PLO)."""
from contextlib import contextmanager
from typing import Dict, Optional, Tuple

import torch
from mmdet.models.detectors import SemiBaseDetector
from mmdet.models.utils import rename_loss_dict, reweight_loss_dict
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.logging import MessageHub
from mmengine.structures import InstanceData
from torch import Tensor, nn

from ..plo import CONFIDENT, HESITANT, PseudoLabelOptimizer, hesitant_losses


@contextmanager
def reuse_features(detector: nn.Module, feats: Tuple[Tensor]):
    """Make ``detector.loss`` use already computed features instead of a second backbone pass."""
    detector.extract_feat = lambda batch_inputs: feats
    try:
        yield
    finally:
        del detector.extract_feat


@contextmanager
def capture_output(module: Optional[nn.Module]):
    """Collect the outputs of ``module``'s forward calls in the yielded list (a forward hook)."""
    outputs: list = []
    if module is None:
        yield outputs
        return
    handle = module.register_forward_hook(lambda _mod, _inp, out: outputs.append(out))
    try:
        yield outputs
    finally:
        handle.remove()


def dense_head(detector: nn.Module) -> Optional[nn.Module]:
    """The RPN of a two-stage detector, the head of a one-stage one, else ``None``."""
    if getattr(detector, 'with_rpn', False):
        return detector.rpn_head
    return getattr(detector, 'bbox_head', None)


@MODELS.register_module()
class AnoMed(SemiBaseDetector):
    """Semi-supervised detector with confident / hesitant / scrap pseudo labels.

    The teacher (an EMA of the student, see ``MeanTeacherHook``) labels the weak view of each
    unlabelled image in eval mode; :class:`PseudoLabelOptimizer` splits its boxes. On the strong
    view the student is trained on the confident boxes as ground truth, the hesitant boxes are
    ignored by the assigners (``ignore_iof_thr`` in the student's ``train_cfg``) and contribute
    confidence-weighted classification / objectness losses of their own, and scrap boxes are
    background. Works for any student that mmdet can build and a registered hesitant-loss
    adapter (two-stage with ``StandardRoIHead``, one-stage ``AnchorHead`` built in).

    Args:
        detector: the student / teacher detector config.
        plo: :class:`PseudoLabelOptimizer` arguments plus ``hesitant=dict(cls=True, obj=True,
            bbox=False, weight='score', loss_weight=1.0, pos_iou_thr=0.5)``. ``num_classes`` is
            read from the detector when absent.
        semi_train_cfg: mmdet's keys (``sup_weight``, ``unsup_weight``, ``min_pseudo_bbox_wh``,
            ``freeze_teacher``) plus ``burn_in_iters`` (supervised-only warm-up; the teacher
            is not run).
        semi_test_cfg: ``predict_on`` defaults to ``'teacher'``.
    """

    def __init__(self,
                 detector: dict,
                 plo: Optional[dict] = None,
                 semi_train_cfg: Optional[dict] = None,
                 semi_test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        semi_train_cfg = dict(semi_train_cfg or {})
        semi_test_cfg = dict(semi_test_cfg or {})
        semi_test_cfg.setdefault('predict_on', 'teacher')
        super().__init__(detector, semi_train_cfg, semi_test_cfg, data_preprocessor, init_cfg)
        plo = dict(plo or {})
        self.hesitant_cfg = plo.pop('hesitant', {})
        plo.setdefault('num_classes', self._num_classes())
        self.plo = PseudoLabelOptimizer(**plo)

    def _num_classes(self) -> int:
        for head in ('roi_head', 'bbox_head'):
            h = getattr(self.student, head, None)
            h = getattr(h, 'bbox_head', h)
            if h is not None and hasattr(h, 'num_classes'):
                return h.num_classes
        raise ValueError('cannot read num_classes from the detector; give plo.num_classes')

    def _in_burn_in(self) -> bool:
        burn_in = self.semi_train_cfg.get('burn_in_iters', 0)
        if burn_in <= 0:
            return False
        return MessageHub.get_current_instance().get_info('iter', 0) < burn_in

    def loss(self, multi_batch_inputs: Dict[str, Tensor],
             multi_batch_data_samples: Dict[str, SampleList]) -> dict:
        sup = multi_batch_data_samples['sup']
        self.plo.update_gt_distribution([s.gt_instances.labels for s in sup])
        if self._in_burn_in():
            return self.loss_by_gt_instances(multi_batch_inputs['sup'], sup)
        return super().loss(multi_batch_inputs, multi_batch_data_samples)

    @torch.no_grad()
    def get_pseudo_instances(self, batch_inputs: Tensor,
                             batch_data_samples: SampleList) -> Tuple[SampleList, dict]:
        """Teacher predictions (eval mode, original image frame) split by the PLO."""
        batch_data_samples, _ = super().get_pseudo_instances(batch_inputs, batch_data_samples)
        pseudo, stats = self.plo([s.gt_instances for s in batch_data_samples])
        for sample, inst in zip(batch_data_samples, pseudo):
            sample.gt_instances = inst
        return batch_data_samples, stats

    def loss_by_pseudo_instances(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                                 batch_info: Optional[dict] = None) -> dict:
        """Confident boxes as ground truth, hesitant boxes ignored + weighted losses."""
        hesitant = []
        for sample in batch_data_samples:
            inst = sample.gt_instances
            group = inst.plo_group if 'plo_group' in inst else torch.full_like(inst.labels, CONFIDENT)
            conf, hes = inst[group == CONFIDENT], inst[group == HESITANT]
            sample.gt_instances = InstanceData(bboxes=conf.bboxes, labels=conf.labels)
            sample.ignored_instances = InstanceData(bboxes=hes.bboxes, labels=hes.labels)
            hesitant.append(hes)
        feats = self.student.extract_feat(batch_inputs)
        # the dense head's output of the confident-label loss is reused by the hesitant losses
        with reuse_features(self.student, feats), capture_output(dense_head(self.student)) as outs:
            conf_losses = self.student.loss(batch_inputs, batch_data_samples)
        unsup_weight = self.semi_train_cfg.get('unsup_weight', 1.0)
        num_conf = sum(len(s.gt_instances) for s in batch_data_samples)
        # no confident box in the batch: the student would only learn "background everywhere"
        losses = rename_loss_dict('unsup_', reweight_loss_dict(conf_losses, unsup_weight if num_conf else 0.0))
        hes_losses = hesitant_losses(self.student, feats, hesitant, self.hesitant_cfg,
                                     head_outs=outs[0] if len(outs) == 1 else None)
        losses.update(rename_loss_dict('unsup_hes_', reweight_loss_dict(hes_losses, unsup_weight)))
        losses.update(batch_info or {})
        return losses
