"""Every semi-supervised config builds its detector and computes losses on a tiny batch."""
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import anomed_mmdet  # noqa: F401
from anomed_mmdet.testing import det_data_sample
from tests.conftest import REPO

SEMI_CONFIGS = sorted(str(p.relative_to(REPO)) for d in ('anomed', 'mean_teacher', 'soft_teacher')
                      for p in (REPO / 'configs' / d).glob('*synth-cxr.py'))


def test_the_baselines_and_anomed_configs_are_all_here():
    names = {p.split('/')[1] for p in SEMI_CONFIGS}
    assert names == {'anomed', 'mean_teacher', 'soft_teacher'}


@pytest.mark.parametrize('path', SEMI_CONFIGS)
def test_semi_config_builds_and_computes_losses(path):
    init_default_scope('mmdet')
    cfg = Config.fromfile(str(REPO / path))
    assert cfg.model.semi_test_cfg.predict_on == 'teacher'
    assert cfg.val_cfg.type == 'TeacherStudentValLoop'
    assert any(h.type == 'BurnInMeanTeacherHook' and h.skip_buffer is False for h in cfg.custom_hooks)
    model = MODELS.build(cfg.model)
    model.train()
    inputs = {k: torch.randn(1, 3, 96, 96) for k in ('sup', 'unsup_teacher', 'unsup_student')}
    samples = {'sup': [det_data_sample([[10, 10, 50, 50]], [1], (96, 96))], 'unsup_teacher': [det_data_sample(img_shape=(96, 96))],
               'unsup_student': [det_data_sample(img_shape=(96, 96))]}
    losses = model.loss(inputs, samples)
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total) and total > 0
