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

from ..plo import CONFIDENT, HESITANT, alignment_loss, build_hesitant_loss


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


@contextmanager
def test_time_nms(detector: nn.Module, nms: Optional[dict]):
    """Run ``detector``'s prediction with ``nms`` (e.g. Soft-NMS) instead of its own NMS config."""
    head = getattr(detector, 'roi_head', None) or getattr(detector, 'bbox_head', None)
    cfg = getattr(head, 'test_cfg', None)
    if nms is None or cfg is None or 'nms' not in cfg:
        yield
        return
    own = cfg['nms']
    cfg['nms'] = dict(nms)
    try:
        yield
    finally:
        cfg['nms'] = own


def dense_head(detector: nn.Module) -> Optional[nn.Module]:
    """The RPN of a two-stage detector, the head of a one-stage one, else ``None``."""
    if getattr(detector, 'with_rpn', False):
        return detector.rpn_head
    return getattr(detector, 'bbox_head', None)


@MODELS.register_module()
class AnoMed(SemiBaseDetector):
    """Semi-supervised detector with confident / hesitant / scrap pseudo labels.

    The teacher (an EMA of the student, see ``BurnInMeanTeacherHook``) labels the weak view of
    each unlabelled image in eval mode, with Soft-NMS when the PLO asks for it; the PLO splits
    its boxes. On the strong view the student is trained on the confident boxes as ground
    truth; the hesitant boxes are passed to the assigners as ignored instances
    (``HesitantMaxIoUAssigner``: negatives under them are ignored, positives kept) and train
    soft-target losses of their own; scrap boxes are background. With calibrated thresholds the
    teacher also predicts on the labelled batch, whose ground truth measures its precision.

    Args:
        detector: the student / teacher detector config.
        plo: the pseudo-label optimizer config (``type`` defaults to ``PseudoLabelOptimizer``,
            ``num_classes`` to the detector's) plus ``hesitant``: the hesitant-loss adapter
            config (``type`` optional, see :mod:`anomed_mmdet.models.plo.hesitant_losses`), or
            ``False`` for no hesitant branch (hesitant boxes become background).
        semi_train_cfg: mmdet's keys (``sup_weight``, ``unsup_weight``, ``min_pseudo_bbox_wh``,
            ``freeze_teacher``) plus ``burn_in_iters`` (supervised-only warm-up inside the run;
            ``BurnInMeanTeacherHook`` copies the student into the teacher at its end).
        semi_test_cfg: ``predict_on`` defaults to ``'teacher'``.
        data_preprocessor: a ``MultiBranchDataPreprocessor`` config.
        init_cfg: mmengine initialisation config.
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
        hesitant = plo.pop('hesitant', None)  # False: no hesitant branch (hesitant boxes are scrap)
        self.hesitant_loss = None if hesitant is False else build_hesitant_loss(hesitant, self.student)
        plo.setdefault('type', 'PseudoLabelOptimizer')
        plo.setdefault('num_classes', self._num_classes())
        self.plo = MODELS.build(plo)

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
        """Supervised loss, plus (after the burn-in) the PLO's unsupervised losses.

        Args:
            multi_batch_inputs: images of the ``sup``, ``unsup_teacher`` and ``unsup_student``
                branches.
            multi_batch_data_samples: their data samples (ground truth on ``sup``).

        Returns:
            dict: ``sup_*`` and ``unsup_*`` losses and the PLO's ``plo_*`` statistics.
        """
        sup = multi_batch_data_samples['sup']
        self.plo.update_gt_distribution([s.gt_instances.labels for s in sup])
        if self._in_burn_in():
            return self.loss_by_gt_instances(multi_batch_inputs['sup'], sup)
        if self.plo.needs_labelled_predictions:
            self.calibrate_on_labelled(multi_batch_inputs['sup'], sup)
        return super().loss(multi_batch_inputs, multi_batch_data_samples)

    @torch.no_grad()
    def calibrate_on_labelled(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> None:
        """The teacher's predictions on labelled images, against their GT, to the PLO.

        Args:
            batch_inputs (Tensor): the labelled images, (N, C, H, W).
            batch_data_samples (list[DetDataSample]): their ground truth.
        """
        self.teacher.eval()
        samples = [s.clone() for s in batch_data_samples]
        with test_time_nms(self.teacher, self.plo.soft_nms):
            results = self.teacher.predict(batch_inputs, samples, rescale=False)
        self.plo.calibrate([r.pred_instances for r in results], [s.gt_instances for s in batch_data_samples])

    @torch.no_grad()
    def get_pseudo_instances(self, batch_inputs: Tensor,
                             batch_data_samples: SampleList) -> Tuple[SampleList, dict]:
        """Teacher predictions (eval mode, original image frame) split by the PLO.

        Args:
            batch_inputs (Tensor): the weak views of the unlabelled images, (N, C, H, W).
            batch_data_samples (list[DetDataSample]): their data samples.

        Returns:
            tuple[list[DetDataSample], dict]: the samples with the PLO's pseudo instances as
            ``gt_instances`` (``plo_group`` tells confident / hesitant) and the PLO's statistics.
        """
        with test_time_nms(self.teacher, self.plo.soft_nms):
            batch_data_samples, _ = super().get_pseudo_instances(batch_inputs, batch_data_samples)
        pseudo, stats = self.plo([s.gt_instances for s in batch_data_samples])
        for sample, inst in zip(batch_data_samples, pseudo):
            sample.gt_instances = inst
        return batch_data_samples, stats

    def loss_by_pseudo_instances(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                                 batch_info: Optional[dict] = None) -> dict:
        """Confident boxes as ground truth; hesitant boxes ignored as negatives + soft losses.

        Args:
            batch_inputs: the strong views of the unlabelled images.
            batch_data_samples: their pseudo instances (``plo_group`` tells the bucket).
            batch_info: statistics to log with the losses.

        Returns:
            dict: ``unsup_*`` (confident), ``unsup_hes_*`` (hesitant) and, with the alignment
            loss on, ``unsup_loss_dist``.
        """
        hesitant, confident = [], []
        for sample in batch_data_samples:
            inst = sample.gt_instances
            group = inst.plo_group if 'plo_group' in inst else torch.full_like(inst.labels, CONFIDENT)
            conf, hes = inst[group == CONFIDENT], inst[group == HESITANT]
            if self.hesitant_loss is None:
                hes = hes[:0]
            sample.gt_instances = InstanceData(bboxes=conf.bboxes, labels=conf.labels)
            sample.ignored_instances = InstanceData(bboxes=hes.bboxes, labels=hes.labels)
            hesitant.append(hes)
            confident.append(sample.gt_instances)
        feats = self.student.extract_feat(batch_inputs)
        # the dense head's output of the confident-label loss is reused by the hesitant losses
        with reuse_features(self.student, feats), capture_output(dense_head(self.student)) as outs:
            conf_losses = self.student.loss(batch_inputs, batch_data_samples)
        unsup_weight = self.semi_train_cfg.get('unsup_weight', 1.0)
        num_conf = sum(len(c) for c in confident)
        # no confident box in the batch: the student would only learn "background everywhere"
        losses = rename_loss_dict('unsup_', reweight_loss_dict(conf_losses, unsup_weight if num_conf else 0.0))
        if self.hesitant_loss is not None:
            hes_losses = self.hesitant_loss(self.student, feats, hesitant, confident,
                                            head_outs=outs[0] if len(outs) == 1 else None)
            losses.update(rename_loss_dict('unsup_hes_', reweight_loss_dict(hes_losses, unsup_weight)))
        if self.plo.align_loss_weight > 0:
            boxes = [torch.cat([c.bboxes, h.bboxes]) for c, h in zip(confident, hesitant)]
            loss_d = alignment_loss(self.student, feats, boxes, self.plo.prior.distribution())
            losses['unsup_loss_dist'] = loss_d * self.plo.align_loss_weight * unsup_weight
        losses.update(batch_info or {})
        return losses
