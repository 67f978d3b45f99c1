"""Lesions drawn into a synthetic radiograph, each placed where it occurs in real chest X-rays.

Every ``draw_*`` function adds its opacity to ``img`` in place and returns the lesion's
outline as an ``(N, 2)`` float array of pixel points; the box is taken from the outline after
the image's rotation, so it stays tight.
"""
from typing import Callable, Dict, Optional, Set

import cv2
import numpy as np

from .anatomy import Anatomy, heart_polygon

# Size of each lesion as a fraction of the image side (diameter / extent at 512 px in brackets).
CALCIFICATION_RADIUS = (0.003, 0.007)  # 3-7 px
NODULE_RADIUS = (0.010, 0.026)  # 10-27 px
MASS_RADIUS = (0.040, 0.085)  # 40-87 px
EFFUSION_HEIGHT = (0.09, 0.18)  # 45-90 px tall, 60-120 px wide
CARDIOMEGALY_SCALE = (1.30, 1.50)  # heart enlarged to a cardiothoracic ratio of ~0.55-0.65


def _add_ellipse(img: np.ndarray, cx: float, cy: float, rx: float, ry: float, angle: float,
                 amp: float, sigma: float) -> np.ndarray:
    """Add a blurred filled ellipse (local window only); returns its outline points."""
    h, w = img.shape
    pad = int(max(rx, ry) + 3 * sigma + 3)
    x0, y0 = max(int(cx) - pad, 0), max(int(cy) - pad, 0)
    x1, y1 = min(int(cx) + pad + 1, w), min(int(cy) + pad + 1, h)
    patch = np.zeros((y1 - y0, x1 - x0), np.float32)
    # cv2 draws with sub-pixel precision through `shift` (4 fractional bits).
    sc = 16
    cv2.ellipse(patch, (int(round((cx - x0) * sc)), int(round((cy - y0) * sc))),
                (max(int(round(rx * sc)), sc // 2), max(int(round(ry * sc)), sc // 2)),
                angle, 0, 360, 1.0, -1, cv2.LINE_AA, 4)
    if sigma > 0.3:
        patch = cv2.GaussianBlur(patch, (0, 0), sigma)
    img[y0:y1, x0:x1] += amp * patch
    return _ellipse_outline(cx, cy, rx, ry, angle)


def _ellipse_outline(cx: float, cy: float, rx: float, ry: float, angle: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 36, endpoint=False, dtype=np.float32)
    a = np.deg2rad(angle)
    x, y = rx * np.cos(t), ry * np.sin(t)
    return np.stack([cx + x * np.cos(a) - y * np.sin(a), cy + x * np.sin(a) + y * np.cos(a)], 1)


def sample_in_lung(rng: np.random.Generator, anat: Anatomy, margin: float,
                   side: Optional[str] = None) -> tuple:
    """A point at least ``margin`` pixels inside a lung field (rejection sampling)."""
    for _ in range(500):
        sd = side or ('right' if rng.random() < 0.5 else 'left')
        poly = anat.lung_polys[sd]
        (x0, y0), (x1, y1) = poly.min(0), poly.max(0)
        x, y = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
        if cv2.pointPolygonTest(poly, (x, y), True) >= margin:
            return x, y
    # Fall back to a smaller margin rather than fail on a very narrow lung.
    return sample_in_lung(rng, anat, margin * 0.5, side) if margin > 1 else (
        float(anat.lung_polys['right'][:, 0].mean()), float(anat.lung_polys['right'][:, 1].mean()))


def draw_calcification(rng, img, anat, used: Set[str]) -> np.ndarray:
    """A tiny, very dense dot inside a lung field (granuloma)."""
    r = max(rng.uniform(*CALCIFICATION_RADIUS) * anat.size, 1.5)
    cx, cy = sample_in_lung(rng, anat, margin=r + 2)
    _add_ellipse(img, cx, cy, r, r * rng.uniform(0.8, 1.0), rng.uniform(0, 180),
                 rng.uniform(0.35, 0.55), 0.4)
    return _ellipse_outline(cx, cy, r, r, 0)


def draw_nodule(rng, img, anat, used: Set[str]) -> np.ndarray:
    """A small round soft-tissue opacity inside a lung field."""
    r = max(rng.uniform(*NODULE_RADIUS) * anat.size, 3.0)
    ry = r * rng.uniform(0.85, 1.0)
    ang = rng.uniform(0, 180)
    cx, cy = sample_in_lung(rng, anat, margin=r + 2)
    _add_ellipse(img, cx, cy, r, ry, ang, rng.uniform(0.10, 0.20), 0.2 * r)
    return _ellipse_outline(cx, cy, r, ry, ang)


def draw_mass(rng, img, anat, used: Set[str]) -> np.ndarray:
    """A large lobulated opacity (several overlapping ellipses) inside a lung field."""
    big = rng.uniform(*MASS_RADIUS) * anat.size
    cx, cy = sample_in_lung(rng, anat, margin=0.6 * big)
    amp = rng.uniform(0.14, 0.24)
    outlines = []
    layer = np.zeros_like(img)
    for k in range(int(rng.integers(3, 6))):
        r = big * (rng.uniform(0.55, 0.75) if k else 0.75)
        ox, oy = (rng.uniform(-0.35, 0.35, 2) * big) if k else (0.0, 0.0)
        ang = rng.uniform(0, 180)
        _add_ellipse(layer, cx + ox, cy + oy, r, r * rng.uniform(0.7, 1.0), ang, 1.0, 0.0)
        outlines.append(_ellipse_outline(cx + ox, cy + oy, r, r * 0.85, ang))
    layer = np.minimum(layer, 1.0)
    img += amp * cv2.GaussianBlur(layer, (0, 0), 0.08 * big)
    return _mask_outline(layer > 0.5)


def draw_pleural_effusion(rng, img, anat, used: Set[str]) -> np.ndarray:
    """Fluid at a lung base: fills the costophrenic angle with a meniscus rising laterally."""
    free = [s for s in ('right', 'left') if f'effusion_{s}' not in used] or ['right']
    side = free[int(rng.integers(len(free)))]
    used.add(f'effusion_{side}')
    poly = anat.lung_polys[side]
    mask = anat.lung_masks[side]
    (x0, y0), (x1, y1) = poly.min(0), poly.max(0)
    h = rng.uniform(*EFFUSION_HEIGHT) * anat.size
    xs = np.arange(x0, x1 + 1, dtype=np.float32)
    lateral = (x1 - xs) / max(x1 - x0, 1) if side == 'right' else (xs - x0) / max(x1 - x0, 1)
    level = y1 - h * (0.5 + 0.5 * lateral ** 1.5)  # meniscus: higher along the chest wall
    ys = np.arange(anat.size, dtype=np.float32)[:, None]
    fluid = np.zeros_like(mask)
    fluid[:, x0:x1 + 1] = (ys > level[None, :]) & (mask[:, x0:x1 + 1] > 0)
    if not fluid.any():
        fluid[int(y1) - 2:int(y1), x0:x1] = mask[int(y1) - 2:int(y1), x0:x1]
    img += rng.uniform(0.20, 0.27) * cv2.GaussianBlur(fluid.astype(np.float32), (0, 0), 0.004 * anat.size)
    return _mask_outline(fluid > 0)


def cardiomegaly_outline(anat: Anatomy, scale: float) -> np.ndarray:
    """Outline of the enlarged heart shadow (the heart itself is drawn by the anatomy)."""
    return heart_polygon(anat, scale).astype(np.float32)


def _mask_outline(mask: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    pts = np.concatenate([c.reshape(-1, 2) for c in contours], 0).astype(np.float32)
    return np.concatenate([pts, pts + 1.0], 0)  # pixel centres -> pixel extents


DRAWERS: Dict[str, Callable] = {
    'calcification': draw_calcification,
    'nodule': draw_nodule,
    'mass': draw_mass,
    'pleural_effusion': draw_pleural_effusion,
}
