"""A hesitant (ignored) region never removes the positives of a confident box."""
import pytest
import torch
from mmdet.models.task_modules import MaxIoUAssigner
from mmdet.registry import TASK_UTILS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import anomed_mmdet  # noqa: F401
from tests.conftest import REPO

ANOMED = REPO / 'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py'
NODULE = torch.tensor([[150.0, 150.0, 166.0, 166.0]])   # a 16 px confident nodule ...
HESITANT_BOX = torch.tensor([[120.0, 110.0, 220.0, 240.0]])  # ... inside a 100 x 130 px hesitant box


def anchors() -> torch.Tensor:
    cfg = Config.fromfile(str(ANOMED)).model.detector.rpn_head.anchor_generator
    gen = TASK_UTILS.build(cfg)
    return torch.cat(gen.grid_priors([(80, 80), (40, 40), (20, 20), (10, 10), (5, 5)], device='cpu'))


def assign(assigner, priors, ignored=True):
    ignore = InstanceData(bboxes=HESITANT_BOX, labels=torch.tensor([0])) if ignored else None
    return assigner.assign(InstanceData(priors=priors), InstanceData(bboxes=NODULE, labels=torch.tensor([1])),
                           ignore)


@pytest.mark.parametrize('stage', ['rpn', 'rcnn'])
def test_the_configured_assigner_keeps_the_confident_positives(stage):
    init_default_scope('mmdet')
    cfg = Config.fromfile(str(ANOMED)).model.detector.train_cfg[stage].assigner
    assigner = TASK_UTILS.build(cfg)
    priors = anchors()
    if stage == 'rcnn':  # proposals: jittered copies of the nodule, the hesitant box and background
        g = torch.Generator().manual_seed(0)
        background = torch.tensor([[10.0, 10.0, 60.0, 60.0]])
        base = torch.cat([NODULE.repeat(40, 1), HESITANT_BOX.repeat(40, 1), background.repeat(20, 1)])
        priors = base + torch.randn(base.shape, generator=g) * 3
    without = assign(assigner, priors, ignored=False)
    with_hes = assign(assigner, priors)
    n_pos = int((without.gt_inds > 0).sum())
    assert n_pos > 0
    assert torch.equal(with_hes.gt_inds > 0, without.gt_inds > 0)  # the same positives
    # negatives inside the hesitant box are ignored, those outside stay negatives
    assert (with_hes.gt_inds == -1).sum() > (without.gt_inds == -1).sum()
    assert (with_hes.gt_inds == 0).sum() > 0
    # mmdet's own assigner blanks them: the defect this assigner removes
    plain = MaxIoUAssigner(**{k: v for k, v in cfg.items() if k != 'type'})
    assert int((assign(plain, priors).gt_inds > 0).sum()) < n_pos


def test_a_hesitant_region_is_ignored_even_without_confident_boxes():
    assigner = TASK_UTILS.build(dict(type='HesitantMaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3,
                                     min_pos_iou=0.3, ignore_iof_thr=0.5))
    priors = anchors()
    res = assigner.assign(InstanceData(priors=priors),
                          InstanceData(bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long)),
                          InstanceData(bboxes=HESITANT_BOX, labels=torch.tensor([0])))
    inside = priors[res.gt_inds == -1]
    assert len(inside) > 0 and (res.gt_inds > 0).sum() == 0
    from mmdet.structures.bbox import bbox_overlaps
    assert (bbox_overlaps(inside, HESITANT_BOX, mode='iof') > 0.5).all()  # only priors inside it
