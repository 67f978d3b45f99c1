"""Configs of the project shrunk to the ``tiny_synth`` data: 96 px, batch 2-3, no loader workers."""
import logging
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

from mmengine.config import Config

from tests.conftest import REPO

ANOMED = REPO / 'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py'
SUPERVISED = REPO / 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'
SIZE = (96, 96)


def _resize(pipeline: list) -> list:
    out = []
    for t in pipeline:
        t = dict(t)
        if t['type'] in ('Resize', 'RandomResize'):
            t = dict(type='Resize', scale=SIZE, keep_ratio=True)
        for key in ('sup', 'unsup_teacher', 'unsup_student'):
            if key in t:
                t[key] = _resize(t[key]) if isinstance(t[key], list) else t[key]
        out.append(t)
    return out


def _loaders(cfg: Config, data_root: str) -> None:
    for name in ('val_dataloader', 'test_dataloader'):
        cfg[name].update(num_workers=0, persistent_workers=False, batch_size=2)
        cfg[name].dataset.data_root = data_root
        cfg[name].dataset.pipeline = _resize(cfg[name].dataset.pipeline)
    cfg.val_evaluator.ann_file = data_root + 'annotations/val.json'
    cfg.test_evaluator[0].ann_file = data_root + 'annotations/test.json'  # [CocoMetric, VOCMetric, FROCMetric]


def _runtime(cfg: Config, work_dir: Path, max_iters: int, ckpt_interval: int, seed: Optional[int],
             val: bool) -> None:
    cfg.train_cfg.update(max_iters=max_iters, val_interval=max_iters)
    if not val:  # mmengine validates at the last iteration whatever val_interval says
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=max_iters)]
    cfg.default_hooks.checkpoint.interval = ckpt_interval
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.visualization = dict(type='DetVisualizationHook')
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.work_dir = str(work_dir)
    # mmengine names a run's MessageHub and Visualizer by config file + start second: two runs of
    # one config started within a second would share them (one run's losses read in the other's)
    cfg.experiment_name = f'{Path(work_dir).name}_{uuid.uuid4().hex[:8]}'
    if seed is not None:
        cfg.randomness = dict(seed=seed, deterministic=True)


def tiny_anomed(root, work_dir, max_iters: int = 4, ckpt_interval: int = 2, seed: Optional[int] = 0,
                val: bool = True, config: Path = ANOMED) -> Config:
    """AnoMed (by default Faster R-CNN, FPN; ``config`` another AnoMed config) with an untrained
    teacher that still labels (low thresholds)."""
    cfg = Config.fromfile(str(config))
    data_root = str(root) + '/'
    loader = cfg.train_dataloader
    loader.update(num_workers=0, persistent_workers=False, batch_size=3)
    loader.sampler.update(batch_size=3, source_ratio=[1, 2])
    for ds in loader.dataset.datasets:
        ds.data_root = data_root
        ds.pipeline = _resize(ds.pipeline)
    _loaders(cfg, data_root)
    cfg.model.plo.update(confident_thr=0.05, scrap_thr=0.02, class_thrs=None)
    _runtime(cfg, work_dir, max_iters, ckpt_interval, seed, val)
    return cfg


def tiny_supervised(root, work_dir, max_iters: int = 4, ckpt_interval: int = 2, seed: Optional[int] = 0,
                    val: bool = True) -> Config:
    """The supervised Faster R-CNN baseline."""
    cfg = Config.fromfile(str(SUPERVISED))
    data_root = str(root) + '/'
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False, batch_size=2)
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.train_dataloader.dataset.pipeline = _resize(cfg.train_dataloader.dataset.pipeline)
    _loaders(cfg, data_root)
    _runtime(cfg, work_dir, max_iters, ckpt_interval, seed, val)
    return cfg


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def mmlogger_messages():
    """The messages logged through mmengine's current logger while inside (``print_log`` included).

    MMLogger instances have no parent logger, so pytest's caplog does not see them.
    """
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    handler = _Collect()
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
