"""The CPU Faster R-CNN's RPN priors can match the 2-4.5 px calcifications of the 320 px inputs."""
import pytest
import torch
from mmdet.registry import TASK_UTILS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import anomed_mmdet  # noqa: F401
from tests.conftest import REPO

CPU_DETECTORS = ['configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py',
                 'configs/sib/faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py']


@pytest.mark.parametrize('path', CPU_DETECTORS)
def test_every_calcification_size_and_position_gets_an_rpn_positive(path):
    init_default_scope('mmdet')
    model = Config.fromfile(str(REPO / path)).model
    gen = TASK_UTILS.build(model.rpn_head.anchor_generator)
    priors = torch.cat(gen.grid_priors([(80, 80), (40, 40), (20, 20), (10, 10), (5, 5)], device='cpu'))
    assigner = TASK_UTILS.build(model.train_cfg.rpn.assigner)
    for size in (2.0, 3.0, 4.5):
        for offset in (0.0, 1.0, 2.0, 3.0):  # every position relative to the stride-4 grid
            box = torch.tensor([[100 + offset, 100 + offset, 100 + offset + size, 100 + offset + size]])
            res = assigner.assign(InstanceData(priors=priors), InstanceData(bboxes=box, labels=torch.tensor([0])))
            assert (res.gt_inds > 0).sum() >= 1, (size, offset)
