"""Importing the package registers its modules and the tools' config plumbing works."""
from pathlib import Path

from mmengine.config import Config

from tests.conftest import REPO


def test_import_registers_modules_in_mmdet_registries():
    import anomed_mmdet
    from mmdet.registry import DATASETS
    assert anomed_mmdet.__version__
    assert DATASETS.get('SynthCXRDataset') is not None


def test_every_config_parses_and_imports_the_plugin():
    configs = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
    assert configs
    for path in configs:
        cfg = Config.fromfile(str(path))
        assert 'anomed_mmdet' in cfg.custom_imports['imports'], path
        assert cfg.model.type and cfg.train_dataloader.dataset, path


def test_config_names_follow_mmdet_convention():
    # {algorithm}_{components}_{schedule}_{dataset}.py; configs/*.py are short aliases
    for path in (REPO / 'configs').rglob('*.py'):
        if '_base_' in path.parts or path.parent == REPO / 'configs':
            continue
        assert len(Path(path).stem.split('_')) >= 4, path.name
