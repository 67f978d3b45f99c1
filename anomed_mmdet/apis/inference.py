"""Run a trained detector on X-ray images, DICOM files or folders of them.

Every input is read into an array first (DICOM through
:func:`~anomed_mmdet.datasets.dicom.read_dicom`, other files through ``mmcv.imread``) and fed
to mmdet's ``inference_detector`` with the config's test pipeline (its loading step replaced
by ``LoadImageFromNDArray``). The model predicts with ``rescale=True``, so boxes come back in
the input's own pixel frame whatever the test resize.

Typical use::

    model = init_xray_detector('configs/anomed_vindr.py', 'iter_40000.pth', device='cpu')
    record, img = predict_file(model, 'chest.dcm', score_thr=0.3)
    # record['detections'] -> [{'bbox': [x1, y1, x2, y2], 'score': .., 'label': .., 'class': ..}]
"""
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.config import Config
from torch import nn

from ..datasets.dicom import is_dicom_file, read_dicom
from ..utils.atomic_io import atomic_write_json
from .semi_to_plain import (dataset_meta_from_config, detector_config, detector_state_dict,
                       is_semi_state_dict, load_checkpoint_dict, load_config)

#: File endings read from a folder (lower case); single files are read whatever their ending.
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.dcm', '.dicom', '.dic')

PathLike = Union[str, Path]


class ImageReadError(ValueError):
    """An input could not be read as an image; the message starts with the file name."""


def default_device() -> str:
    """``cuda:0`` when CUDA is available, else ``cpu``."""
    import torch
    return 'cuda:0' if torch.cuda.is_available() else 'cpu'


def init_xray_detector(config: Union[PathLike, Config],
                       checkpoint: PathLike,
                       device: Optional[str] = None,
                       branch: str = 'teacher',
                       cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the plain detector of ``config`` and load ``checkpoint`` into it (strictly).

    ``config`` may be a teacher-student config (its ``model.detector`` is built) or a plain
    one; ``checkpoint`` may hold ``teacher.*`` / ``student.*`` weights (``branch`` picks one,
    the teacher by default, as AnoMed evaluates) or a plain detector's. Class names come from
    the checkpoint's ``meta.dataset_meta``, else from the config's test data set.
    """
    from mmdet.registry import MODELS
    from mmengine.model.utils import revert_sync_batchnorm
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import load_state_dict

    cfg = load_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg = detector_config(cfg)
    if 'backbone' in cfg.model:
        cfg.model.backbone.init_cfg = None  # weights come from the checkpoint
    ckpt = load_checkpoint_dict(checkpoint)
    state = detector_state_dict(ckpt['state_dict'], branch)
    # mmdet's init_detector, less its checkpoint loading (which cannot pick a branch)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    model.cfg = cfg
    load_state_dict(model, state, strict=True)
    meta = dict(dataset_meta_from_config(cfg) or {})
    meta.update({k.lower(): v for k, v in ckpt['meta'].get('dataset_meta', {}).items()})
    if 'classes' not in meta:
        raise ValueError(f'{checkpoint}: no class names in the checkpoint meta or the config')
    model.dataset_meta = meta
    model.loaded_branch = branch if is_semi_state_dict(ckpt['state_dict']) else None
    return model.to(device or default_device()).eval()


def read_image(path: PathLike) -> np.ndarray:
    """An input file as an HxWx3 uint8 BGR array (gray radiographs: three equal channels).

    Raises:
        ImageReadError: missing, unreadable or undecodable file (the message names it).
    """
    import mmcv
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f'{path}: no such file')
    if is_dicom_file(path, read_marker=True):
        try:
            img = read_dicom(str(path))
        except Exception as e:  # DicomReadError names the file already
            msg = str(e) if str(path) in str(e) else f'{path}: {e}'
            raise ImageReadError(msg) from e
    else:
        try:
            img = mmcv.imread(str(path), flag='color')
        except Exception as e:
            raise ImageReadError(f'{path}: cannot read the image ({e})') from e
        if img is None:
            raise ImageReadError(f'{path}: not a decodable image (corrupt or unsupported format)')
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img)


def build_test_pipeline(cfg: Config):
    """The config's test pipeline fed from an array: ``LoadImageFromNDArray`` first, no
    ``LoadAnnotations``."""
    from mmcv.transforms import Compose
    from mmdet.utils import get_test_pipeline_cfg

    steps = [dict(t) for t in get_test_pipeline_cfg(cfg.copy())]
    steps = [t for t in steps if 'LoadAnnotations' not in str(t['type'])]
    steps[0] = dict(type='mmdet.LoadImageFromNDArray')
    last = steps[-1]
    if 'meta_keys' in last:  # no id / file for arrays
        last['meta_keys'] = tuple(k for k in last['meta_keys'] if k not in ('img_id', 'img_path'))
    return Compose(steps)


def predict_array(model: nn.Module, img: np.ndarray, score_thr: float = 0.3,
                  pipeline=None) -> List[Dict[str, object]]:
    """Detections on one HxWx3 array, boxes in its pixel frame, best first.

    Each detection is ``{'bbox': [x1, y1, x2, y2], 'score': s, 'label': k, 'class': name}``.
    """
    from mmdet.apis import inference_detector

    pipeline = pipeline or getattr(model, '_xray_pipeline', None)
    if pipeline is None:
        pipeline = model._xray_pipeline = build_test_pipeline(model.cfg)
    sample = inference_detector(model, img, test_pipeline=pipeline)
    pred = sample.pred_instances
    keep = pred.scores >= score_thr
    boxes = pred.bboxes[keep].cpu().numpy().astype(np.float64)
    h, w = img.shape[:2]
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
    scores = pred.scores[keep].cpu().numpy()
    labels = pred.labels[keep].cpu().numpy()
    classes = model.dataset_meta['classes']
    order = np.argsort(-scores, kind='stable')
    return [dict(bbox=[round(float(v), 2) for v in boxes[i]], score=round(float(scores[i]), 4),
                 label=int(labels[i]), **{'class': classes[int(labels[i])]}) for i in order]


def predict_file(model: nn.Module, path: PathLike, score_thr: float = 0.3,
                 pipeline=None) -> Tuple[Dict[str, object], np.ndarray]:
    """Read one file and detect: ``(record, image)``; the record is what the JSON holds."""
    img = read_image(path)
    dets = predict_array(model, img, score_thr, pipeline)
    record = dict(file=str(path), width=int(img.shape[1]), height=int(img.shape[0]),
                  dicom=is_dicom_file(path, read_marker=True), score_thr=score_thr,
                  num_detections=len(dets), detections=dets)
    return record, img


def collect_inputs(inputs: Iterable[PathLike], recursive: bool = False
                   ) -> Tuple[List[Tuple[Path, str]], List[Dict[str, str]]]:
    """Files to run on, each with an output name; and the inputs that cannot be run.

    A folder contributes its files with an :data:`IMAGE_SUFFIXES` ending (sorted; ``recursive``
    descends), named by their path inside it; a file is taken whatever its ending. A missing
    path or a folder without images is an error entry ``{'file': .., 'error': ..}``.
    """
    files: List[Tuple[Path, str]] = []
    errors: List[Dict[str, str]] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in (item.rglob('*') if recursive else item.iterdir())
                           if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                errors.append(dict(file=str(item), error=f'{item}: no image files '
                                   f'({", ".join(IMAGE_SUFFIXES)}) in this folder'))
            files += [(p, p.relative_to(item).as_posix()) for p in found]
        elif item.exists():
            files.append((item, item.name))
        else:
            errors.append(dict(file=str(item), error=f'{item}: no such file or folder'))
    return _unique_stems(files), errors


def _unique_stems(files: List[Tuple[Path, str]]) -> List[Tuple[Path, str]]:
    """Output names without the ending; names that would collide keep it (``a_png``, ``a_dcm``)."""
    def stem(name: str) -> str:
        p = Path(name)
        return (p.parent / p.stem).as_posix() if p.suffix else name
    counts: Dict[str, int] = {}
    for _, name in files:
        counts[stem(name)] = counts.get(stem(name), 0) + 1
    out, seen = [], set()
    for path, name in files:
        s = stem(name)
        if counts[s] > 1:
            s = s + '_' + Path(name).suffix.lstrip('.')
        while s in seen:  # the same file given twice
            s += '_'
        seen.add(s)
        out.append((path, s))
    return out


def draw_detections(img: np.ndarray, detections: Sequence[Dict[str, object]],
                    palette: Optional[Sequence[Sequence[int]]] = None) -> np.ndarray:
    """A copy of ``img`` (BGR) with each box and ``class score`` drawn on it."""
    import cv2
    out = img.copy()
    thick = max(1, round(max(img.shape[:2]) / 500))
    scale = max(0.35, max(img.shape[:2]) / 1600)
    for det in detections:
        color = _color(int(det['label']), palette)
        x1, y1, x2, y2 = (int(round(v)) for v in det['bbox'])
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thick)
        text = f"{det['class']} {det['score']:.2f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = y1 - base if y1 - th - base >= 0 else min(y2 + th, img.shape[0] - base)
        cv2.rectangle(out, (x1, ty - th - base), (x1 + tw, ty + base), color, -1)
        cv2.putText(out, text, (x1, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return out


def _color(label: int, palette: Optional[Sequence[Sequence[int]]]) -> Tuple[int, int, int]:
    if palette is not None and not isinstance(palette, str) and len(palette) > label:
        r, g, b = palette[label][:3]  # mmdet palettes are RGB
        return int(b), int(g), int(r)
    rng = np.random.RandomState(label + 7)
    return tuple(int(v) for v in rng.randint(60, 256, 3))


def run_inference(model: nn.Module,
                  inputs: Iterable[PathLike],
                  out_dir: PathLike,
                  score_thr: float = 0.3,
                  overlay: bool = True,
                  recursive: bool = False,
                  log=print) -> Dict[str, object]:
    """Detect on every input; write ``preds/<name>.json``, ``vis/<name>.png`` and ``results.json``.

    A file that cannot be read is reported (``log`` and the ``errors`` list of
    ``results.json``) and the others go on. Returns the content of ``results.json``:
    ``classes``, ``score_thr``, ``results`` (one record per image) and ``errors``.
    """
    import mmcv

    out_dir = Path(out_dir)
    files, errors = collect_inputs(inputs, recursive)
    for err in errors:
        log(f'error: {err["error"]}')
    results = []
    pipeline = build_test_pipeline(model.cfg)
    for path, name in files:
        try:
            record, img = predict_file(model, path, score_thr, pipeline)
        except ImageReadError as e:
            errors.append(dict(file=str(path), error=str(e)))
            log(f'error: {e}')
            continue
        record['json'] = str(out_dir / 'preds' / f'{name}.json')
        if overlay:
            record['overlay'] = str(out_dir / 'vis' / f'{name}.png')
            mmcv.imwrite(draw_detections(img, record['detections'],
                                         model.dataset_meta.get('palette')), record['overlay'])
        atomic_write_json(record['json'], record, indent=2)
        results.append(record)
        log(f'{path}: {record["num_detections"]} boxes -> {record["json"]}')
    summary = dict(classes=list(model.dataset_meta['classes']), score_thr=score_thr,
                   branch=getattr(model, 'loaded_branch', None), results=results, errors=errors)
    atomic_write_json(out_dir / 'results.json', summary, indent=2)
    return summary

