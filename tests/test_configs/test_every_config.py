"""Every config parses, imports the plugin, builds its model (nothing downloaded) and, where its
data is on this machine, builds its data sets."""
import json
import os.path as osp

import pytest
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

from tests.conftest import REPO

CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
_BUILT: dict = {}  # data set config -> its length, shared by the configs that use one data set


def _config_id(path) -> str:
    return str(path.relative_to(REPO / 'configs'))


def _without_pretrained(cfg):
    """A copy with every ``init_cfg=dict(type='Pretrained', ...)`` removed (nothing downloaded)."""
    if isinstance(cfg, dict):
        init = cfg.get('init_cfg')
        return ConfigDict({k: None if k == 'init_cfg' and isinstance(init, dict) and init.get('type') == 'Pretrained'
                           else _without_pretrained(v) for k, v in cfg.items()})
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_without_pretrained(v) for v in cfg)
    return cfg


def _datasets(cfg: Config) -> list:
    """The data set configs of the train / val / test loaders (the parts of a ConcatDataset)."""
    out = []
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = (cfg.get(name) or {}).get('dataset')
        if ds is not None:
            out.extend(ds.datasets if ds.type == 'ConcatDataset' else [ds])
    return out


def test_there_are_configs_and_the_top_level_ones_are_aliases():
    assert len(CONFIGS) > 20
    for path in (REPO / 'configs').glob('*.py'):  # e.g. anomed_vindr.py: one base, nothing else
        text = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith('#')]
        assert len(text) == 1 and text[0].startswith('_base_ = '), path.name


@pytest.mark.parametrize('path', CONFIGS, ids=_config_id)
def test_config_builds_its_model(path):
    cfg = Config.fromfile(str(path))
    assert 'anomed_mmdet' in cfg.custom_imports['imports']
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(_without_pretrained(cfg.model))
    assert sum(p.numel() for p in model.parameters()) > 0
    assert _datasets(cfg), 'no data set in the loaders'


@pytest.mark.parametrize('path', CONFIGS, ids=_config_id)
def test_config_builds_its_datasets_where_the_data_is_here(path):
    cfg = Config.fromfile(str(path))
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    found = 0
    for ds in _datasets(cfg):
        root = ds.get('data_root') or ''
        root = root if osp.isabs(root) else str(REPO / root)
        if not osp.isfile(osp.join(root, ds.ann_file)):
            continue
        ds = ConfigDict(ds, data_root=root + '/')
        key = json.dumps(ds.to_dict(), sort_keys=True, default=str)
        if key not in _BUILT:
            _BUILT[key] = len(DATASETS.build(ds))
        assert _BUILT[key] > 0, ds.ann_file
        found += 1
    if not found:
        pytest.skip('its data is not on this machine')
