"""Normal chest-radiograph anatomy drawn as a float intensity map in [0, 1].

Coordinates are fractions of the image side so that anatomy scales with ``image_size``.
Brighter means denser (bone, heart, fluid); air in the lungs is dark, as on a PA radiograph.
"""
from dataclasses import dataclass, field
from typing import Dict

import cv2
import numpy as np

# Right lung (image left) as (x, y) fractions, apex clockwise to the costophrenic angle and
# back up along the mediastinum. The left lung is its mirror image.
_RIGHT_LUNG = np.array([
    (0.37, 0.12), (0.30, 0.16), (0.24, 0.26), (0.205, 0.40), (0.19, 0.55), (0.19, 0.66),
    (0.20, 0.73), (0.26, 0.695), (0.33, 0.675), (0.40, 0.68), (0.455, 0.70), (0.46, 0.52),
    (0.455, 0.32), (0.43, 0.17)], dtype=np.float32)


@dataclass
class Anatomy:
    """One patient's anatomy: masks and landmarks needed to place lesions."""

    size: int
    lung_masks: Dict[str, np.ndarray] = field(default_factory=dict)  # 'right'/'left' -> uint8 0/1
    lung_polys: Dict[str, np.ndarray] = field(default_factory=dict)  # pixel polygons
    heart_center: tuple = (0.0, 0.0)
    heart_axes: tuple = (0.0, 0.0)
    heart_angle: float = 0.0
    thorax_width: float = 0.0


def _poly_px(points: np.ndarray, size: int) -> np.ndarray:
    return np.round(points * size).astype(np.int32)


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Blur a 0/1 mask into a float map with soft edges."""
    mask = mask.astype(np.float32)
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=max(sigma, 0.5))


def heart_polygon(anat: Anatomy, scale: float = 1.0) -> np.ndarray:
    """Pixel polygon of the heart shadow, optionally enlarged (cardiomegaly)."""
    (cx, cy), (ax, ay) = anat.heart_center, anat.heart_axes
    return cv2.ellipse2Poly((int(round(cx)), int(round(cy))),
                            (int(round(ax * scale)), int(round(ay * scale))),
                            int(round(anat.heart_angle)), 0, 360, 6)


def draw_anatomy(rng: np.random.Generator, size: int, heart_scale: float = 1.0):
    """Draw a normal thorax; returns ``(image, anatomy)``.

    ``heart_scale`` > 1 enlarges the heart shadow (cardiomegaly is drawn by the caller
    passing its scale here so the enlarged heart replaces the normal one). The parts are
    drawn in a fixed order, each drawing from ``rng`` in turn.
    """
    img = np.full((size, size), 0.04, np.float32)  # air outside the patient
    anat = Anatomy(size=size)
    body, cx = _draw_body(rng, img, anat)
    _draw_lungs(rng, img, anat, cx)
    sx, hw = _draw_spine(rng, img, cx)
    _draw_heart(rng, img, anat, cx, heart_scale)
    _draw_ribs(rng, img, sx, hw, body)
    _draw_clavicles(rng, img, cx)
    return img, anat


def _draw_body(rng: np.random.Generator, img: np.ndarray, anat: Anatomy):
    """Body and shoulders (soft tissue); returns the body mask and the midline (fraction)."""
    s = anat.size
    body = np.zeros((s, s), np.uint8)
    cx = 0.5 + rng.normal(0, 0.008)
    half_w = rng.uniform(0.40, 0.45)
    cv2.ellipse(body, (int(cx * s), int(0.60 * s)), (int(half_w * s), int(0.62 * s)), 0, 0, 360, 1, -1)
    cv2.rectangle(body, (int((cx - half_w * 0.92) * s), int(0.04 * s)),
                  (int((cx + half_w * 0.92) * s), int(0.35 * s)), 1, -1)
    img += 0.40 * _soft(body, 0.015 * s)
    # Abdomen below the diaphragm is a little denser than the chest wall.
    grad = np.clip((np.arange(s, dtype=np.float32) / s - 0.62) * 2.0, 0, 0.12)[:, None]
    img += grad * _soft(body, 0.01 * s)
    anat.thorax_width = 2 * half_w * s * 0.78
    return body, cx


def _draw_lungs(rng: np.random.Generator, img: np.ndarray, anat: Anatomy, cx: float) -> None:
    """Lungs (air, two darker fields) and their faint vascular markings."""
    s = anat.size
    shift = np.array([cx - 0.5, rng.normal(0, 0.01)], np.float32)
    widen = rng.uniform(0.95, 1.05)
    for side in ('right', 'left'):
        pts = _RIGHT_LUNG.copy()
        pts[:, 0] = 0.5 + (pts[:, 0] - 0.5) * widen
        if side == 'left':
            pts[:, 0] = 1.0 - pts[:, 0]
            pts[:, 1] += 0.015  # left hemidiaphragm sits lower
        pts = pts + shift + rng.normal(0, 0.004, pts.shape).astype(np.float32)
        poly = _poly_px(pts, s)
        mask = np.zeros((s, s), np.uint8)
        cv2.fillPoly(mask, [poly], 1)
        anat.lung_masks[side] = mask
        anat.lung_polys[side] = poly
        img -= rng.uniform(0.24, 0.30) * _soft(mask, 0.008 * s)
    # Vascular markings: faint low-frequency texture inside the lungs.
    lungs = np.maximum(anat.lung_masks['right'], anat.lung_masks['left']).astype(np.float32)
    small = rng.normal(0, 1, (max(s // 16, 4), max(s // 16, 4))).astype(np.float32)
    texture = cv2.resize(small, (s, s), interpolation=cv2.INTER_CUBIC)
    img += 0.025 * texture * _soft(lungs, 0.01 * s)


def _draw_spine(rng: np.random.Generator, img: np.ndarray, cx: float) -> tuple[int, int]:
    """Spine with disc spaces; returns its centre column and half width in pixels."""
    s = img.shape[0]
    spine = np.zeros((s, s), np.float32)
    sx = int((cx + rng.normal(0, 0.004)) * s)
    hw = max(int(0.028 * s), 2)
    spine[:, sx - hw:sx + hw] = 1.0
    step = max(int(0.036 * s), 3)
    for y in range(int(rng.uniform(0, step)), s, step):
        spine[y:y + max(step // 6, 1), sx - hw:sx + hw] = 0.55
    img += 0.20 * cv2.GaussianBlur(spine, (0, 0), 0.006 * s)
    return sx, hw


def _draw_heart(rng: np.random.Generator, img: np.ndarray, anat: Anatomy, cx: float,
                heart_scale: float) -> None:
    """Heart shadow (overlaps the medial lower lung fields, mostly on the image right)."""
    s = anat.size
    hcx = (cx + rng.uniform(0.05, 0.08)) * s
    hcy = rng.uniform(0.57, 0.61) * s
    anat.heart_center = (hcx, hcy)
    anat.heart_axes = (rng.uniform(0.125, 0.145) * s, rng.uniform(0.095, 0.11) * s)
    anat.heart_angle = rng.uniform(-25, -10)
    heart = np.zeros((s, s), np.uint8)
    cv2.fillPoly(heart, [heart_polygon(anat, heart_scale)], 1)
    img += rng.uniform(0.15, 0.20) * _soft(heart, 0.008 * s)


def _draw_ribs(rng: np.random.Generator, img: np.ndarray, sx: int, hw: int,
               body: np.ndarray) -> None:
    """Posterior ribs: arcs from the spine laterally and downward, on both sides."""
    s = img.shape[0]
    ribs = np.zeros((s, s), np.float32)
    thick = max(int(0.016 * s), 1)
    y0, gap = rng.uniform(0.04, 0.07), rng.uniform(0.060, 0.068)
    for k in range(9):
        yk = int((y0 + k * gap) * s)
        ax, ay = int(0.28 * s), int(rng.uniform(0.11, 0.14) * s)
        cv2.ellipse(ribs, (sx - hw, yk + ay), (ax, ay), 0, 180, 270, 1.0, thick)
        cv2.ellipse(ribs, (sx + hw, yk + ay), (ax, ay), 0, 270, 360, 1.0, thick)
    img += 0.08 * cv2.GaussianBlur(ribs, (0, 0), 0.003 * s) * _soft(body, 0.01 * s)


def _draw_clavicles(rng: np.random.Generator, img: np.ndarray, cx: float) -> None:
    s = img.shape[0]
    clav = np.zeros((s, s), np.float32)
    cy_ = rng.uniform(0.10, 0.13)
    t = max(int(0.022 * s), 1)
    cv2.line(clav, (int((cx - 0.04) * s), int((cy_ + 0.03) * s)), (int((cx - 0.28) * s), int(cy_ * s)), 1.0, t)
    cv2.line(clav, (int((cx + 0.04) * s), int((cy_ + 0.03) * s)), (int((cx + 0.28) * s), int(cy_ * s)), 1.0, t)
    img += 0.14 * cv2.GaussianBlur(clav, (0, 0), 0.004 * s)
