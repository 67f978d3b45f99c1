"""Every detector composed with SIB (configs/sib) builds from its config and runs loss() and
predict() on a tiny image on the CPU; pretrained backbones are built without their weights."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from anomed_mmdet.models.necks import FA, SIB
from anomed_mmdet.testing import det_data_sample
from mmdet.registry import MODELS
from tests.conftest import REPO

CONFIGS = sorted(p for p in (REPO / 'configs/sib').glob('*.py'))
BASELINE = REPO / 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'


def build(cfg: Config) -> torch.nn.Module:
    init = cfg.model.backbone.get('init_cfg')
    if isinstance(init, dict) and init.get('type') == 'Pretrained':
        cfg.model.backbone.init_cfg = None  # parsed, never downloaded
    init_default_scope('mmdet')
    return MODELS.build(cfg.model)


def tiny_batch(model, h=64, w=96, training=True):
    torch.manual_seed(0)
    sample = det_data_sample([[10., 12., 40., 44.], [50., 8., 90., 30.]], [0, 1], (h, w))  # TBX11K: 2 classes
    img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    return model.data_preprocessor(dict(inputs=[img], data_samples=[sample]), training)


def test_configs_cover_the_required_families():
    names = {p.name.split('_')[0] for p in CONFIGS}
    assert {'faster-rcnn', 'retinanet', 'fcos', 'atss'} <= names
    assert any('convnext' in p.name for p in CONFIGS)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_composed_detector_builds_and_runs_loss_and_predict(path):
    cfg = Config.fromfile(str(path))
    model = build(cfg)
    assert isinstance(model.neck[0], SIB)
    if 'sib-fa' in path.name:
        assert isinstance(model.neck[1], FA)
    model.train()
    data = tiny_batch(model)
    losses = model.loss(data['inputs'], data['data_samples'])
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert any(p.grad is not None for p in model.neck[0].parameters())
    model.eval()
    data = tiny_batch(model, training=False)
    with torch.no_grad():
        results = model.predict(data['inputs'], data['data_samples'])
    assert len(results) == 1 and 'bboxes' in results[0].pred_instances


@pytest.mark.parametrize('name', ['faster-rcnn_r50_sib-fa_20k_synth-cxr.py',
                                  'retinanet_r50_sib-fpn_20k_synth-cxr.py',
                                  'faster-rcnn_convnext-t_sib-fa_20k_synth-cxr.py'])
def test_paper_scale_configs_keep_imagenet_init(name):
    init = Config.fromfile(str(REPO / 'configs/sib' / name)).model.backbone.init_cfg
    assert init.type == 'Pretrained' and init.checkpoint.startswith(('torchvision://', 'https://'))


def test_single_stage_recipe_matches_the_baseline():
    recipe = Config.fromfile(str(REPO / 'configs/sib/retinanet_r18-slim_sib-fpn_cpu-1k_synth-cxr.py'))
    baseline = Config.fromfile(str(BASELINE))
    for key in ('train_pipeline', 'test_pipeline', 'train_cfg', 'param_scheduler', 'optim_wrapper'):
        assert recipe[key] == baseline[key], key
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert recipe[key].dataset == baseline[key].dataset, key


def test_benchmark_script_answers_help():
    import subprocess
    import sys
    res = subprocess.run([sys.executable, str(REPO / 'tools/analysis_tools/benchmark_necks.py'), '--help'],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    for flag in ('--sizes', '--repeats', '--necks', '--threads'):
        assert flag in res.stdout
