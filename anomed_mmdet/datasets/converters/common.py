"""What the converters share: atomic writes, PNG headers, resizing, the skip report."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any, Optional

import numpy as np

from ...utils.atomic_io import atomic_open, atomic_write_bytes
from ..data_checks import png_header

__all__ = ['atomic_write_json', 'write_png_atomic', 'png_info', 'resize_long_side',
           'ConversionReport', 'StrictModeError']

class StrictModeError(RuntimeError):
    """Raised by ``--strict`` conversions that recorded a skip."""


def atomic_write_json(path: str, obj: Any, **dump_kwargs: Any) -> None:
    """Write ``obj`` as json to ``path``: complete or not at all (an error midway leaves any
    previous ``path`` untouched and no temporary file)."""
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, **dump_kwargs)


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
