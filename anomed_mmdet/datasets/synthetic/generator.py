"""Write a deterministic COCO-format synthetic chest X-ray data set with SSOD splits.

Layout written under ``out_dir``::

    images/000000.png ...              grayscale PNGs, image_size x image_size
    annotations/train.json             every training image with its boxes (100% labels)
    annotations/train_labeled.json     the labelled part (``labeled_ratio`` of train)
    annotations/train_unlabeled.json   the rest of train: images and categories, no annotations
    annotations/val.json, test.json

The same ``seed`` gives byte-identical files whatever the number of workers: each image draws
from its own random stream ``(seed, index)``.
"""
import os
import time
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

from ...utils.atomic_io import atomic_write_json
from ..converters.common import coco_annotation, coco_categories, coco_image
from .render import render_image

CLASSES = ('nodule', 'calcification', 'mass', 'pleural_effusion', 'cardiomegaly')
# Long-tailed: cardiomegaly is the minority class (<5% of boxes).
DEFAULT_CLASS_PROBS = (0.36, 0.26, 0.16, 0.18, 0.04)
MAX_PER_IMAGE = {'cardiomegaly': 1, 'pleural_effusion': 2}  # one heart, two lung bases
LESIONS_PER_IMAGE = ((1, 2, 3, 4), (0.4, 0.3, 0.2, 0.1))


@dataclass
class SynthCXRConfig:
    """Generator settings; every field is recorded in each json's ``info``."""

    num_images: int = 1000
    image_size: int = 512
    seed: int = 0
    normal_ratio: float = 0.3
    labeled_ratio: float = 0.1
    val_ratio: float = 0.1
    test_ratio: float = 0.15
    class_probs: Sequence[float] = field(default_factory=lambda: list(DEFAULT_CLASS_PROBS))
    max_rotation: float = 5.0

    def validate(self) -> None:
        if self.num_images < 4:
            raise ValueError(f'num_images must be >= 4, got {self.num_images}')
        if self.image_size < 64:
            raise ValueError(f'image_size must be >= 64, got {self.image_size}')
        for name in ('normal_ratio', 'labeled_ratio', 'val_ratio', 'test_ratio'):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {v}')
        if self.val_ratio + self.test_ratio >= 1.0:
            raise ValueError('val_ratio + test_ratio must leave images for training')
        if len(self.class_probs) != len(CLASSES) or min(self.class_probs) < 0 or sum(self.class_probs) <= 0:
            raise ValueError(f'class_probs needs {len(CLASSES)} non-negative weights for {CLASSES}, '
                             f'got {list(self.class_probs)}')


def _exact_counts(probs: np.ndarray, total: int) -> np.ndarray:
    """Largest-remainder rounding of ``probs * total`` to integers summing to ``total``."""
    raw = probs / probs.sum() * total
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind='stable')[:total - counts.sum()]] += 1
    return counts


def plan_lesions(cfg: SynthCXRConfig) -> List[List[str]]:
    """Lesion class names for every image; normal images get an empty list.

    Class frequencies are exact (largest remainder) rather than sampled, so a small data set
    still has the configured long tail.
    """
    rng = np.random.default_rng([cfg.seed, 0])
    n = cfg.num_images
    n_normal = int(round(cfg.normal_ratio * n))
    abnormal = np.sort(rng.permutation(n)[n_normal:])
    sizes, p = LESIONS_PER_IMAGE
    counts = rng.choice(sizes, p=p, size=len(abnormal))
    pool = np.repeat(np.arange(len(CLASSES)), _exact_counts(np.asarray(cfg.class_probs, float), counts.sum()))
    rng.shuffle(pool)
    plans: List[List[int]] = []
    start = 0
    for c in counts:
        plans.append(list(pool[start:start + c]))
        start += c
    _enforce_caps(plans, rng)
    out: List[List[str]] = [[] for _ in range(n)]
    for idx, plan in zip(abnormal, plans):
        out[idx] = [CLASSES[k] for k in plan]
    return out


def _enforce_caps(plans: List[List[int]], rng: np.random.Generator) -> None:
    """Swap lesions between images so no image exceeds ``MAX_PER_IMAGE`` (counts kept)."""
    caps = {CLASSES.index(k): v for k, v in MAX_PER_IMAGE.items()}

    def room(plan, cls):
        return cls not in caps or plan.count(cls) < caps[cls]

    for i, plan in enumerate(plans):
        for j, cls in enumerate(plan):
            if cls not in caps or plan.count(cls) <= caps[cls]:
                continue
            for k in rng.permutation(len(plans)):
                other = plans[k]
                hit = next((m for m, d in enumerate(other) if d != cls and room(plan, d) and room(other, cls)
                            and k != i), None)
                if hit is not None:
                    plan[j], other[hit] = other[hit], cls
                    break


def split_indices(cfg: SynthCXRConfig, plans: List[List[str]]) -> Dict[str, List[int]]:
    """Image indices of the train / train_labeled / train_unlabeled / val / test splits.

    The labelled part holds every class present in train (one image swapped in per missing
    class), so a rare class is never absent from the labels.
    """
    rng = np.random.default_rng([cfg.seed, 1])
    n = cfg.num_images
    perm = rng.permutation(n)
    n_test, n_val = int(round(cfg.test_ratio * n)), int(round(cfg.val_ratio * n))
    test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    n_lab = min(max(int(round(cfg.labeled_ratio * len(train))), 1), len(train))
    labeled, unlabeled = [int(i) for i in train[:n_lab]], [int(i) for i in train[n_lab:]]
    for cls in CLASSES:
        if any(cls in plans[i] for i in labeled) or n_lab == len(train):
            continue
        donor = next((i for i in unlabeled if cls in plans[i]), None)
        if donor is None:
            continue
        # Give back the labelled image with the fewest lesions of the rarest kinds.
        back = min(range(len(labeled)), key=lambda m: (len(plans[labeled[m]]) > 0, len(plans[labeled[m]])))
        unlabeled[unlabeled.index(donor)] = labeled[back]
        labeled[back] = donor
    return {'train': sorted(train.tolist()), 'train_labeled': sorted(labeled),
            'train_unlabeled': sorted(unlabeled), 'val': sorted(val.tolist()),
            'test': sorted(test.tolist())}


def _render_one(args):
    index, lesions, cfg_dict, img_dir = args
    rng = np.random.default_rng([cfg_dict['seed'], 2, index])
    img, boxes = render_image(rng, cfg_dict['image_size'], lesions, cfg_dict['max_rotation'])
    cv2.imwrite(os.path.join(img_dir, f'{index:06d}.png'), img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return index, boxes


def _coco(cfg: SynthCXRConfig, ids: List[int], boxes: Dict[int, list], with_anns: bool) -> dict:
    images, anns = [], []
    for i in ids:
        images.append(coco_image(i, f'{i:06d}.png', cfg.image_size, cfg.image_size))
        if not with_anns:
            continue
        for name, (x1, y1, x2, y2) in boxes[i]:
            anns.append(coco_annotation(len(anns) + 1, i, CLASSES.index(name) + 1,
                                        (x1, y1, round(x2 - x1, 2), round(y2 - y1, 2))))
    return dict(info=dict(description='AnoMed-MMDet synthetic chest X-rays', generator=asdict(cfg)),
                licenses=[], images=images, annotations=anns,
                categories=coco_categories(CLASSES, 'lesion'))


def generate_dataset(out_dir: str, cfg: Optional[SynthCXRConfig] = None, workers: int = 1,
                     progress: bool = False) -> dict:
    """Generate images and COCO jsons under ``out_dir``; returns a summary dict."""
    cfg = cfg or SynthCXRConfig()
    cfg.validate()
    t0 = time.perf_counter()
    out = Path(out_dir)
    img_dir = out / 'images'
    ann_dir = out / 'annotations'
    img_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)
    plans = plan_lesions(cfg)
    splits = split_indices(cfg, plans)
    jobs = [(i, plans[i], asdict(cfg), str(img_dir)) for i in range(cfg.num_images)]
    boxes: Dict[int, list] = {}
    if workers > 1:
        with get_context('fork').Pool(workers) as pool:
            for done, (i, b) in enumerate(pool.imap_unordered(_render_one, jobs, chunksize=8), 1):
                boxes[i] = b
                if progress and done % 100 == 0:
                    print(f'{done}/{cfg.num_images} images', flush=True)
    else:
        for i, b in map(_render_one, jobs):
            boxes[i] = b
    for name, ids in splits.items():
        atomic_write_json(ann_dir / f'{name}.json', _coco(cfg, ids, boxes, name != 'train_unlabeled'))
    per_class = {c: sum(n == c for b in boxes.values() for n, _ in b) for c in CLASSES}
    return dict(out_dir=str(out), seconds=time.perf_counter() - t0,
                splits={k: len(v) for k, v in splits.items()},
                boxes_per_class=per_class,
                normal_images=sum(1 for b in boxes.values() if not b))
