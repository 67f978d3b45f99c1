"""Render one synthetic chest radiograph with its lesions, rotation, exposure and noise."""
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from .anatomy import draw_anatomy
from .lesions import CARDIOMEGALY_SCALE, DRAWERS, cardiomegaly_outline

Box = Tuple[str, List[float]]  # (class name, [x1, y1, x2, y2])


def render_image(rng: np.random.Generator, size: int, lesions: Sequence[str],
                 max_rotation: float = 5.0) -> Tuple[np.ndarray, List[Box]]:
    """Draw one radiograph holding ``lesions`` (class names, order kept).

    Returns a ``uint8`` grayscale image of ``size`` x ``size`` and a box per lesion.
    """
    heart_scale = rng.uniform(*CARDIOMEGALY_SCALE) if 'cardiomegaly' in lesions else 1.0
    img, anat = draw_anatomy(rng, size, heart_scale)
    used: set = set()
    outlines = []
    for name in lesions:
        if name == 'cardiomegaly':
            outlines.append(cardiomegaly_outline(anat, heart_scale))
        else:
            outlines.append(DRAWERS[name](rng, img, anat, used))

    # Patient positioning: small rotation, scale and shift, applied to image and outlines.
    angle = rng.uniform(-max_rotation, max_rotation)
    m = cv2.getRotationMatrix2D((size / 2, size / 2), angle, rng.uniform(0.96, 1.04))
    m[:, 2] += rng.uniform(-0.02, 0.02, 2) * size
    img = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=float(img[0, 0]))

    # Acquisition: detector blur, heel effect, exposure, contrast, quantum + electronic noise.
    img = cv2.GaussianBlur(img, (0, 0), max(0.0015 * size, 0.5))
    ramp = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    img *= 1.0 + rng.uniform(-0.12, 0.12) * ramp[None, :] + rng.uniform(-0.08, 0.08) * ramp[:, None]
    img = np.clip(img, 0.0, 1.0) ** rng.uniform(0.75, 1.3)
    img = img * rng.uniform(0.8, 1.15) + rng.uniform(-0.04, 0.05)
    sigma = rng.uniform(0.008, 0.025)
    img += rng.standard_normal((size, size), dtype=np.float32) * (sigma * (0.4 + np.sqrt(np.clip(img, 0, 1))))
    img = (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)

    boxes = []
    for name, pts in zip(lesions, outlines):
        pts = pts @ m[:, :2].T.astype(np.float32) + m[:, 2].astype(np.float32)
        x1, y1 = np.clip(pts.min(0), 0, size)
        x2, y2 = np.clip(pts.max(0), 0, size)
        if x2 - x1 >= 1 and y2 - y1 >= 1:
            boxes.append((name, [float(x1), float(y1), float(x2), float(y2)]))
    return img, boxes
