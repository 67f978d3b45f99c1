"""Plain detectors out of teacher-student (semi-supervised) configs and checkpoints.

A semi-supervised config (AnoMed, MeanTeacher, SoftTeacher) has ``model.detector``; its
checkpoints hold two copies of that detector, ``teacher.*`` and ``student.*``. These helpers
turn either into what mmdet's plain tools expect: ``cfg.model`` = the detector, a state dict
without the prefix. Plain configs and checkpoints pass through unchanged.
"""
import copy
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

from mmengine.config import Config, ConfigDict

BRANCHES = ('teacher', 'student')

# What a plain detector config keeps from a semi-supervised one: the model, test / val data
# and evaluation, runtime (scope, plugin imports, hooks, visualizer). Training (the
# multi-branch loaders, PLO, EMA hook, optimizer, schedule) is dropped.
INFERENCE_KEYS = (
    'default_scope', 'custom_imports', 'model', 'backend_args', 'dataset_type', 'data_root',
    'metainfo', 'img_scale', 'test_pipeline', 'val_dataloader', 'val_evaluator', 'val_cfg',
    'test_dataloader', 'test_evaluator', 'test_cfg', 'default_hooks', 'env_cfg', 'vis_backends',
    'visualizer', 'log_processor', 'log_level')


def load_config(config: Union[str, Path, Config]) -> Config:
    """A ``Config`` from a path, or a deep copy of a given one."""
    if isinstance(config, Config):
        return copy.deepcopy(config)
    return Config.fromfile(str(config))


def is_semi_config(cfg: Config) -> bool:
    """Whether ``cfg.model`` wraps a detector (teacher-student)."""
    return 'detector' in cfg.model


def detector_config(cfg: Config) -> Config:
    """A copy of ``cfg`` whose ``model`` is the plain detector (``cfg.model.detector``).

    The detector keeps its own ``data_preprocessor``; when it has none, the one inside the
    semi-supervised ``MultiBranchDataPreprocessor`` is used. Plain configs are copied as is.
    """
    cfg = load_config(cfg)
    if not is_semi_config(cfg):
        return cfg
    detector = copy.deepcopy(cfg.model.detector)
    if 'data_preprocessor' not in detector:
        outer = cfg.model.get('data_preprocessor') or {}
        inner = outer.get('data_preprocessor', outer)
        if inner:
            detector.data_preprocessor = copy.deepcopy(inner)
    cfg.model = detector
    return cfg


def inference_config(cfg: Config) -> Config:
    """A plain detector config for testing / inference / ``load_from`` (no training parts).

    ``model`` = :func:`detector_config`'s, backbone ``init_cfg`` removed (the weights come
    from the checkpoint; building it downloads nothing), ``val_cfg`` = ``ValLoop``, the best
    checkpoint rule renamed from ``teacher/coco/...`` to ``coco/...``.
    """
    cfg = detector_config(cfg)
    kept = {k: copy.deepcopy(cfg[k]) for k in INFERENCE_KEYS if k in cfg}
    out = Config(kept)
    if 'backbone' in out.model:
        out.model.backbone.init_cfg = None
    if 'val_cfg' in out and out.val_cfg.get('type') == 'TeacherStudentValLoop':
        out.val_cfg = ConfigDict(type='ValLoop')
    ckpt_hook = out.get('default_hooks', {}).get('checkpoint')
    if ckpt_hook and isinstance(ckpt_hook.get('save_best'), str):
        for branch in BRANCHES:
            if ckpt_hook.save_best.startswith(branch + '/'):
                ckpt_hook.save_best = ckpt_hook.save_best[len(branch) + 1:]
    return out


def is_semi_state_dict(state_dict: Dict[str, object]) -> bool:
    """Whether the keys carry ``teacher.`` / ``student.`` prefixes (a teacher-student model)."""
    return any(k.split('.', 1)[0] in BRANCHES for k in state_dict)


def detector_state_dict(state_dict: Dict[str, object],
                        branch: str = 'teacher') -> 'OrderedDict[str, object]':
    """The weights of one detector: ``branch.*`` with the prefix removed, or a plain dict as is.

    Raises:
        KeyError: a teacher-student state dict without ``branch.*`` keys.
        ValueError: an unknown branch.
    """
    if branch not in BRANCHES:
        raise ValueError(f'branch must be one of {BRANCHES}, not {branch!r}')
    if not is_semi_state_dict(state_dict):
        return OrderedDict(state_dict)
    prefix = branch + '.'
    out = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items() if k.startswith(prefix))
    if not out:
        raise KeyError(f'the checkpoint has no {prefix}* weights')
    return out


def load_checkpoint_dict(path: Union[str, Path]) -> dict:
    """Read a checkpoint on the CPU with torch's weights-only loader (mmengine's loader).

    Returns a dict with ``state_dict`` and ``meta`` (a bare state dict is wrapped).
    """
    import anomed_mmdet  # noqa: F401  (allow-lists mmengine's checkpoint globals)
    from mmengine.runner import CheckpointLoader

    path = str(path)
    if '://' not in path and not Path(path).is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise ValueError(f'{path}: not a checkpoint (a {type(ckpt).__name__})')
    if 'state_dict' not in ckpt:
        ckpt = {'state_dict': ckpt, 'meta': {}}
    ckpt.setdefault('meta', {})
    return ckpt


def dataset_meta_from_config(cfg: Config) -> Optional[dict]:
    """``classes`` / ``palette`` of the config's test data set (built lazily, no file read)."""
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if not loader or 'dataset' not in loader:
        return None
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    ds_cfg = copy.deepcopy(loader.dataset)
    ds_cfg['lazy_init'] = True
    try:
        meta = DATASETS.build(ds_cfg).metainfo
    except Exception:  # a data set type that needs its files even lazily
        meta = ds_cfg.get('metainfo')
    return {k: meta[k] for k in ('classes', 'palette') if meta and k in meta} or None


def extract_detector(config: Union[str, Path, Config],
                     checkpoint: Union[str, Path],
                     out_dir: Union[str, Path],
                     branch: str = 'teacher',
                     name: Optional[str] = None,
                     drop_keys: Sequence[str] = ()) -> Tuple[Path, Path]:
    """Write ``<out_dir>/<name>.py`` (:func:`inference_config`) and ``<name>.pth``: the
    ``branch`` detector's weights without prefix, ``meta`` reduced to ``dataset_meta`` and
    provenance (no optimizer, no message hub). mmdet's ``DetInferencer``, ``tools/test.py`` and
    ``load_from`` read the pair as any plain detector's. Weights whose names start with one of
    ``drop_keys`` (e.g. ``roi_head.bbox_head.fc_cls``) are left out: after ``load_from`` those
    layers keep their fresh initialisation (a new head for fine-tuning).

    Raises:
        ValueError: ``checkpoint`` is not a teacher-student checkpoint.
    """
    import mmengine
    from mmengine.runner.checkpoint import save_checkpoint

    cfg = load_config(config)
    ckpt = load_checkpoint_dict(checkpoint)
    if not is_semi_state_dict(ckpt['state_dict']):
        raise ValueError(f'{checkpoint}: no teacher.* / student.* weights; '
                         'it is a plain detector checkpoint already')
    state = OrderedDict((k, v.detach().cpu().clone()) for k, v in
                        detector_state_dict(ckpt['state_dict'], branch).items()
                        if not any(k.startswith(p) for p in drop_keys))
    src_meta = ckpt['meta']
    dataset_meta = src_meta.get('dataset_meta') or dataset_meta_from_config(cfg) or {}
    meta = dict(dataset_meta=dict(dataset_meta), mmengine_version=mmengine.__version__,
                source_checkpoint=Path(str(checkpoint)).name, branch=branch)
    if drop_keys:
        meta['dropped_keys'] = list(drop_keys)
    for key in ('epoch', 'iter'):
        if key in src_meta:
            meta[key] = src_meta[key]
    if name is None:
        stem = Path(cfg.filename).stem if cfg.filename else Path(str(checkpoint)).stem
        name = f'{stem}_{branch}'
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg_path, ckpt_path = out_dir / f'{name}.py', out_dir / f'{name}.pth'
    inference_config(cfg).dump(str(cfg_path))
    save_checkpoint(dict(meta=meta, state_dict=state), str(ckpt_path))
    return cfg_path, ckpt_path
