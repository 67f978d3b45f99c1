"""Tiny models, random-weight checkpoints and inputs for the inference / conversion tests."""
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from anomed_mmdet.testing import write_dicom
from tests.conftest import REPO

SEMI_CFG = REPO / 'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_semi-0.1-synth-cxr.py'
PLAIN_CFG = REPO / 'configs/sib/faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr-10pct.py'
CLASSES = ('nodule', 'calcification', 'mass', 'pleural_effusion', 'cardiomegaly')


def build_model(cfg_path: Path, seed: int = 0) -> torch.nn.Module:
    """The config's model with seeded random weights (no init_weights, nothing downloaded)."""
    import anomed_mmdet  # noqa: F401
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    torch.manual_seed(seed)
    return MODELS.build(Config.fromfile(str(cfg_path)).model).eval()


def save_checkpoint(model: torch.nn.Module, path: Path, classes=CLASSES) -> Path:
    """What mmengine's Runner saves, minus optimizer / message hub: state_dict + meta."""
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': tuple(classes)}, 'iter': 7}}, str(path))
    return path


def semi_checkpoint(tmp_dir: Path) -> Tuple[torch.nn.Module, Path]:
    """An AnoMed model whose teacher and student differ, and its checkpoint."""
    model = build_model(SEMI_CFG)
    assert not torch.equal(model.teacher.backbone.conv1.weight, model.student.backbone.conv1.weight)
    return model, save_checkpoint(model, tmp_dir / 'anomed.pth')


def gray_image(h: int = 150, w: int = 200, seed: int = 0) -> np.ndarray:
    """A smooth HxW uint8 radiograph-like image."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = 120 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + rng.normal(0, 8, (h, w))
    img[h // 3:h // 3 + 20, w // 2:w // 2 + 25] += 70  # a bright "lesion"
    img[0, 0], img[-1, -1] = 0, 255  # full range: a min-max DICOM window maps it back as is
    return img.clip(0, 255).astype(np.uint8)


def write_png(path: Path, img: np.ndarray) -> Path:
    import cv2
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)
    return path


def write_dicom16(path: Path, img8: np.ndarray) -> Path:
    """A MONOCHROME2, 16-bit stored (12 bits used) DICOM from an 8-bit image (values 0..4080)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return Path(write_dicom(path, img8.astype(np.uint16) * 16))


def load_tool(path: Path) -> ModuleType:
    """Import a tools/ script as a module.

    tools/ itself never goes on sys.path (tools/test.py would shadow the standard library's
    ``test`` package); a script in a sub-folder gets its folder there, as when it runs as a
    script (tools/analysis_tools/* import their sibling package ``ssod_benchmark``)."""
    folder = str(path.resolve().parent)
    if path.resolve().parent != (REPO / 'tools').resolve() and folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f'anomed_tool_{path.stem}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
