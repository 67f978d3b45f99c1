"""Activation maps of a detector's neck outputs, and side-by-side panels of them.

The map of one image: for every neck level, the mean of ``|feature|`` over the channels, min-max
scaled to [0, 1]; the levels brought to the network input's size (bilinear), averaged, cut to
the resized image (the padding dropped) and brought to the image's own size. No gradients: this
is what the paper's ``effect_of_modules`` figure shows (where the features respond), not a
class-specific Grad-CAM.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .inference import build_test_pipeline, draw_detections, predict_array


@torch.no_grad()
def activation_map(model: nn.Module, img: np.ndarray, levels: Optional[Sequence[int]] = None,
                   pipeline=None) -> np.ndarray:
    """An HxW float32 map in [0, 1] of the neck outputs' activation on ``img`` (HxWx3 BGR).

    Args:
        model: a plain detector (e.g. from :func:`~anomed_mmdet.apis.init_xray_detector`).
        img: the image, in its own pixel frame; the map has its height and width.
        levels: indices of the neck outputs to average; ``None``: all.
        pipeline: the test pipeline from an array (built from ``model.cfg`` when ``None``).
    """
    pipeline = pipeline or build_test_pipeline(model.cfg)
    data = pipeline(dict(img=img, img_id=0))
    batch = model.data_preprocessor(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
                                    False)
    feats = model.extract_feat(batch['inputs'])
    feats = feats if isinstance(feats, (list, tuple)) else (feats,)
    chosen = [feats[i] for i in levels] if levels is not None else list(feats)
    if not chosen:
        raise ValueError(f'no neck level chosen among {len(feats)}')
    size = batch['inputs'].shape[-2:]
    total = torch.zeros(size, device=batch['inputs'].device)
    for f in chosen:
        m = f[0].abs().mean(dim=0)
        m = (m - m.min()) / (m.max() - m.min()).clamp_min(1e-12)
        total += F.interpolate(m[None, None], size=size, mode='bilinear', align_corners=False)[0, 0]
    total /= len(chosen)
    h, w = data['data_samples'].metainfo['img_shape'][:2]
    cut = total[:h, :w][None, None]
    out = F.interpolate(cut, size=img.shape[:2], mode='bilinear', align_corners=False)[0, 0]
    return out.clamp(0, 1).cpu().numpy().astype(np.float32)


def overlay_map(img: np.ndarray, heat: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """``img`` (BGR uint8) blended with ``heat`` (HxW in [0, 1]) in the JET colour map."""
    import cv2
    colour = cv2.applyColorMap((heat * 255).round().astype(np.uint8), cv2.COLORMAP_JET)
    return cv2.addWeighted(img, 1 - alpha, colour, alpha, 0)


def titled(tile: np.ndarray, title: str) -> np.ndarray:
    """``tile`` under a white band with ``title`` written in it."""
    import cv2
    scale = max(0.4, tile.shape[1] / 900)
    (tw, th), base = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    band = np.full((th + base + 10, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(band, title, (5, th + 5), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([band, tile], axis=0)


def make_panel(img: np.ndarray, gt: Optional[List[Dict[str, object]]],
               columns: Sequence[Tuple[str, np.ndarray, List[Dict[str, object]]]],
               palette=None, gap: int = 4) -> np.ndarray:
    """One row: the image (with ``gt`` boxes when given), then per model its map and detections.

    ``gt`` and the detections are dicts as :func:`~anomed_mmdet.apis.predict_array` returns them
    (``bbox``, ``score``, ``label``, ``class``); ``columns`` holds ``(title, heat, detections)``.
    """
    first = draw_detections(img, gt, palette) if gt else img.copy()
    tiles = [titled(first, 'image + ground truth' if gt is not None else 'image')]
    tiles += [titled(draw_detections(overlay_map(img, heat), dets, palette), title)
              for title, heat, dets in columns]
    height = max(t.shape[0] for t in tiles)
    spacer = np.full((height, gap, 3), 255, np.uint8)
    row = []
    for i, t in enumerate(tiles):
        pad = np.full((height - t.shape[0], t.shape[1], 3), 255, np.uint8)
        row += ([spacer] if i else []) + [np.concatenate([t, pad], axis=0)]
    return np.concatenate(row, axis=1)


def model_column(model: nn.Module, img: np.ndarray, title: str, score_thr: float = 0.3,
                 levels: Optional[Sequence[int]] = None) -> Tuple[str, np.ndarray, List[dict]]:
    """``(title, activation map, detections)`` of one model on one image."""
    pipeline = getattr(model, '_xray_pipeline', None)
    if pipeline is None:
        pipeline = model._xray_pipeline = build_test_pipeline(model.cfg)
    heat = activation_map(model, img, levels, pipeline)
    return title, heat, predict_array(model, img, score_thr, pipeline)
