"""What the converters share: box checks, COCO records, PNG headers and writes, resizing,
the worker pool and the skip report."""
from __future__ import annotations

import math
import multiprocessing
from collections import Counter
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ...utils.atomic_io import atomic_write_bytes, atomic_write_json
from ..data_checks import png_header

__all__ = ['write_png_atomic', 'png_info', 'resize_long_side', 'target_size',
           'validate_box', 'coco_image', 'coco_annotation', 'coco_categories', 'run_parallel',
           'ConversionReport', 'StrictModeError']

Box = tuple[float, float, float, float]


class StrictModeError(RuntimeError):
    """Raised by ``--strict`` conversions that recorded a skip."""


def validate_box(coords: Sequence, size: Optional[tuple[int, int]] = None,
                 clip_tolerance: float = 0.02, name: str = '') -> tuple[Optional[Box], str]:
    """Check one ``[x_min, y_min, x_max, y_max]`` box given as text or numbers.

    Args:
        coords: the four coordinates (``None`` or blank text for a missing one).
        size: ``(width, height)`` of the image; ``None`` skips the placement check.
        clip_tolerance: a box beyond the image by at most this share of its long side is
            clipped to the image; by more, rejected.
        name: the box's class name, for the message on missing coordinates.

    Returns:
        ``(box, '')`` for a valid box, ``(clipped box, note)`` for a box clipped to the image,
        ``(None, reason)`` for a rejected one (missing / non-numeric / non-finite, inverted,
        empty, beyond the image).
    """
    try:
        box = tuple(float(c) for c in coords)
    except (TypeError, ValueError):
        box = None
    if box is None or len(box) != 4 or not all(math.isfinite(v) for v in box):
        kind = 'missing' if any(c is None or not str(c).strip() for c in coords) else 'non-numeric'
        return None, f'{kind} coordinates' + (f' for {name}' if name else '') + f': {list(coords)}'
    x1, y1, x2, y2 = box
    if x1 > x2 or y1 > y2:
        return None, f'inverted box (x_min > x_max or y_min > y_max): {list(box)}'
    if x1 == x2 or y1 == y2:
        return None, f'empty box (zero width or height): {list(box)}'
    if size is None:
        return box, ''
    w, h = size
    over = max(-x1, -y1, x2 - w, y2 - h, 0.0)
    if over == 0:
        return box, ''
    limit = clip_tolerance * max(w, h)
    clipped = (max(x1, 0.0), max(y1, 0.0), min(x2, float(w)), min(y2, float(h)))
    if over > limit or clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        return None, (f'box outside the image ({w}x{h}) by {over:.1f} px > tolerance {limit:.1f}: '
                      f'{list(box)}')
    return clipped, f'box clipped to the image ({w}x{h}), overshoot {over:.1f} px'


def coco_image(img_id: int, file_name: str, width: int, height: int, **extra: Any) -> dict:
    """A COCO image record; ``extra`` keys (e.g. the source id) follow the standard ones."""
    return dict(id=img_id, file_name=file_name, width=width, height=height, **extra)


def coco_annotation(ann_id: int, image_id: int, category_id: int,
                    xywh: Sequence[float], **extra: Any) -> dict:
    """A COCO box record from ``[x, y, w, h]`` in pixels: values rounded to 0.01,
    ``area = w * h`` of the given (unrounded) size, ``iscrowd=0``."""
    x, y, w, h = xywh
    return dict(id=ann_id, image_id=image_id, category_id=category_id,
                bbox=[round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                area=round(w * h, 2), iscrowd=0, **extra)


def coco_categories(names: Sequence[str], supercategory: str) -> list[dict]:
    """COCO category records, ids from 1 in the order of ``names``."""
    return [dict(id=k + 1, name=n, supercategory=supercategory) for k, n in enumerate(names)]


def run_parallel(func: Callable, tasks: list, workers: int) -> list:
    """``func`` over ``tasks`` with mmengine's progress bar: in a process pool when
    ``workers > 1`` (results in completion order), else in this process (in order)."""
    from mmengine.utils import track_parallel_progress, track_progress

    if workers <= 1 or len(tasks) <= 1:
        return track_progress(func, tasks) if tasks else []
    import cv2

    chunk = max(1, min(16, len(tasks) // (workers * 8)))
    # A forked child must not touch OpenCV's thread pool inherited from the parent (it
    # hangs in pthread_cond_destroy): stop the pool here, one thread per worker process.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        return track_parallel_progress(func, tasks, workers, chunksize=chunk, keep_order=False)
    finally:
        cv2.setNumThreads(threads)


def write_png_atomic(path: str, img: np.ndarray) -> None:
    """Write an 8- or 16-bit PNG atomically, so no half-written PNG remains."""
    import cv2

    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise OSError(f'cv2 could not encode {path} as PNG')
    atomic_write_bytes(buf.tobytes(), path)


def png_info(path: str) -> Optional[tuple[int, int, int]]:
    """``(width, height, bit_depth)`` from a PNG's header, or ``None`` if not a readable PNG.

    Reads 26 bytes: lets a re-run learn the converted size without decoding the image.
    """
    try:
        with open(path, 'rb') as f:
            return png_header(f.read(26))
    except OSError:
        return None


def resize_long_side(img: np.ndarray, max_size: Optional[int]) -> np.ndarray:
    """Shrink ``img`` so its long side is ``max_size`` (area interpolation); never enlarge."""
    h, w = img.shape[:2]
    new = target_size(w, h, max_size)
    if new == (w, h):
        return img
    import cv2
    return cv2.resize(img, new, interpolation=cv2.INTER_AREA)


def target_size(width: int, height: int, max_size: Optional[int]) -> tuple[int, int]:
    """``(w, h)`` after :func:`resize_long_side`."""
    if not max_size or max(width, height) <= max_size:
        return width, height
    s = max_size / max(width, height)
    return max(1, int(round(width * s))), max(1, int(round(height * s)))


class ConversionReport:
    """Skips (with file, CSV row / XML file and reason), notes and counts of one conversion.

    ``skips`` are inputs left out (images or annotation rows); ``notes`` are changes that
    kept the input (e.g. a box clipped to the image). ``--strict`` fails on any skip.
    """

    def __init__(self, **info: Any) -> None:
        self.info = dict(info)
        self.skips: list[dict] = []
        self.notes: list[dict] = []
        self.filtered: Counter = Counter()

    def skip(self, kind: str, reason: str, *, file: str = '', row: Optional[int] = None,
             **extra: Any) -> None:
        """Record an input left out; ``kind`` groups the counts (e.g. ``'image'``, ``'row'``)."""
        self.skips.append(dict(kind=kind, file=file, row=row, reason=reason, **extra))

    def note(self, reason: str, *, file: str = '', row: Optional[int] = None, **extra: Any) -> None:
        """Record an input kept after a change."""
        self.notes.append(dict(file=file, row=row, reason=reason, **extra))

    @staticmethod
    def _short(reason: str) -> str:
        return reason.split(':')[0].split(' (')[0]

    def counts(self) -> dict:
        """Skips per kind and per short reason."""
        return dict(
            skipped_by_kind=dict(Counter(s['kind'] for s in self.skips)),
            skipped_by_reason=dict(Counter(self._short(s['reason']) for s in self.skips)),
            notes_by_reason=dict(Counter(self._short(n['reason']) for n in self.notes)),
            filtered=dict(self.filtered))

    def to_dict(self, **summary: Any) -> dict:
        """The report as json-able dict."""
        return dict(info=self.info, summary=summary, counts=self.counts(),
                    skips=self.skips, notes=self.notes)

    def write(self, path: str, **summary: Any) -> None:
        """Write the report atomically."""
        atomic_write_json(path, self.to_dict(**summary), indent=1)

    def summary_lines(self) -> list[str]:
        """Console lines: skip and note counts by reason."""
        c = self.counts()
        lines = [f'skipped: {len(self.skips)}' + (
            ' (' + ', '.join(f'{k}: {v}' for k, v in sorted(c['skipped_by_reason'].items())) + ')'
            if self.skips else '')]
        if self.notes:
            lines.append('notes: ' + ', '.join(f'{k}: {v}' for k, v in sorted(c['notes_by_reason'].items())))
        if self.filtered:
            lines.append('not selected (filtered): ' + ', '.join(
                f'{k}: {v}' for k, v in sorted(self.filtered.items())))
        return lines
