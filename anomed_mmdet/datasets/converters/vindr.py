"""VinDr-CXR (PhysioNet and Kaggle VinBigData layouts) -> PNG + COCO json.

Input: ``<root>/<split>/*.dicom|*.dcm`` and a CSV with ``image_id, rad_id, class_name,
x_min, y_min, x_max, y_max`` (Kaggle adds ``class_id``; ignored). Coordinates are pixels
of the original DICOM. Output: ``<out>/images/<split>/<image_id>.png``,
``<out>/annotations/<split>.json`` and ``<out>/conversion_report_<split>.json``.

Decisions (also in docs/datasets.md):

* CSV rows are numbered as lines of the file (header = line 1).
* Skipped rows (reported, never silent): unknown class name, missing / non-numeric
  coordinates on a finding, inverted (``x_min > x_max`` or ``y_min > y_max``: rejected,
  not swapped), zero width/height, exact duplicate (same image, reader, class, coords),
  box beyond the image by more than ``clip_tolerance`` of its side. A smaller overshoot
  is clipped to the image and recorded as a note.
* Rows of known classes that are not selected are counted per class (``filtered``), not
  skipped; an image whose rows are all "No finding" or unselected classes is a negative
  image (image entry, no annotation).
* An image left without boxes because some of its finding rows were skipped is skipped
  too (it is not a trustworthy negative).
* Readers' boxes of one class on one image are fused with Weighted Boxes Fusion (every
  reader weight 1, score 1.0) or all kept (``fusion='none'``, ``rad_id`` recorded).
"""
from __future__ import annotations

import glob
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import numpy as np

from ..dicom import DicomReadError, read_dicom
from ...utils.atomic_io import atomic_write_json
from .common import (ConversionReport, StrictModeError, coco_annotation, coco_categories, coco_image,
                     png_info, resize_long_side, run_parallel, target_size, validate_box,
                     write_png_atomic)

__all__ = ['VINDR_LOCAL_LABELS', 'PRESETS', 'NO_FINDING', 'VinDrRow', 'parse_vindr_csv',
           'fuse_boxes', 'convert_vindr', 'convert_image', 'find_dicoms']

NO_FINDING = 'No finding'

#: The 22 local labels of VinDr-CXR (PhysioNet release); Kaggle uses 14 of them.
VINDR_LOCAL_LABELS = (
    'Aortic enlargement', 'Atelectasis', 'Calcification', 'Cardiomegaly', 'Clavicle fracture',
    'Consolidation', 'Edema', 'Emphysema', 'Enlarged PA', 'ILD', 'Infiltration', 'Lung cavity',
    'Lung cyst', 'Lung Opacity', 'Mediastinal shift', 'Nodule/Mass', 'Other lesion',
    'Pleural effusion', 'Pleural thickening', 'Pneumothorax', 'Pulmonary fibrosis', 'Rib fracture')

PRESETS = {
    'paper5': ('Aortic enlargement', 'Calcification', 'Cardiomegaly', 'Pulmonary fibrosis',
               'Nodule/Mass'),
    'all14': ('Aortic enlargement', 'Atelectasis', 'Calcification', 'Cardiomegaly', 'Consolidation',
              'ILD', 'Infiltration', 'Lung Opacity', 'Nodule/Mass', 'Other lesion',
              'Pleural effusion', 'Pleural thickening', 'Pneumothorax', 'Pulmonary fibrosis'),
}

REQUIRED_COLUMNS = ('image_id', 'class_name', 'x_min', 'y_min', 'x_max', 'y_max')
DICOM_GLOBS = ('*.dicom', '*.dcm', '*.DICOM', '*.DCM')


@dataclass
class VinDrRow:
    """One valid finding row of a selected class."""

    line: int
    rad_id: str
    label: int
    box: tuple[float, float, float, float]


@dataclass
class ImageRows:
    """The rows of one image: valid boxes, and whether finding rows were dropped."""

    first_line: int
    rows: list = field(default_factory=list)
    bad_rows: int = 0


def _canonical(names: Iterable[str]) -> dict[str, str]:
    return {n.strip().lower(): n for n in names}


def _read_csv(csv_path: str):
    """The CSV as a frame of strings, with its columns checked."""
    import pandas as pd

    try:
        df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        # a ragged row, an unclosed quote, a byte that is not UTF-8, an empty file
        raise ValueError(f'{csv_path}: not a readable CSV ({type(exc).__name__}: {exc})') from exc
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f'{csv_path}: missing column(s) {missing}; found {list(df.columns)}')
    return df


class _RowChecker:
    """Checks the rows of one CSV in order; keeps the per-image entries and the rows seen."""

    def __init__(self, csv_path: str, classes: Sequence[str], report: ConversionReport) -> None:
        self.selected = _canonical(classes)
        self.known = _canonical((*VINDR_LOCAL_LABELS, *classes, NO_FINDING))
        self.label_of = {c: i for i, c in enumerate(classes)}
        self.report = report
        self.fname = os.path.basename(csv_path)
        self.images: dict[str, ImageRows] = {}
        self.seen: dict[tuple, int] = {}

    def _skip(self, reason: str, line: int, image_id: str, entry: Optional[ImageRows]) -> None:
        """Report a left-out row; ``entry`` (an image's rows) counts it as a bad finding row."""
        self.report.skip('row', reason, file=self.fname, row=line, image_id=image_id)
        if entry is not None:
            entry.bad_rows += 1

    def _is_duplicate(self, key: tuple, line: int, image_id: str) -> bool:
        if key in self.seen:
            self._skip(f'duplicate of row {self.seen[key]}', line, image_id, None)
            return True
        self.seen[key] = line
        return False

    def check(self, line: int, image_id: str, rad_id: str, cls: str, coords: list) -> None:
        """Record one CSV row: kept, filtered (unselected class) or skipped (reported)."""
        if not image_id:
            self.report.skip('row', 'missing image_id', file=self.fname, row=line)
            return
        entry = self.images.setdefault(image_id, ImageRows(first_line=line))
        name = self.known.get(cls.lower())
        if name is None:
            return self._skip(f'unknown class name {cls!r}', line, image_id, entry)
        if name == NO_FINDING:
            self._is_duplicate((image_id, rad_id, name, tuple(c.strip() for c in coords)), line, image_id)
            return
        if name.lower() not in self.selected:
            self.report.filtered[name] += 1
            return
        box, why = validate_box(coords, name=name)
        if box is None:
            return self._skip(why, line, image_id, entry)
        if not self._is_duplicate((image_id, rad_id, name, box), line, image_id):
            entry.rows.append(VinDrRow(line, rad_id, self.label_of[self.selected[name.lower()]], box))


def parse_vindr_csv(csv_path: str, classes: Sequence[str], report: ConversionReport,
                    ) -> dict[str, ImageRows]:
    """Validate the rows of a VinDr CSV; return the kept rows per image id.

    Every left-out row is recorded in ``report`` with its line number; rows of known but
    unselected classes are counted in ``report.filtered``.
    """
    df = _read_csv(csv_path)
    checker = _RowChecker(csv_path, classes, report)
    rad = df['rad_id'] if 'rad_id' in df.columns else [''] * len(df)
    cols = zip(df['image_id'], rad, df['class_name'], df['x_min'], df['y_min'], df['x_max'], df['y_max'])
    for i, (image_id, rad_id, cls, *coords) in enumerate(cols):
        checker.check(i + 2, image_id.strip(), str(rad_id).strip(), cls.strip(), coords)
    return checker.images


def fuse_boxes(rows: Sequence[VinDrRow], width: int, height: int, iou_thr: float,
               ) -> list[tuple[int, tuple[float, float, float, float]]]:
    """Weighted Boxes Fusion of several readers' boxes (pixels in, pixels out).

    Each reader is one "model" with weight 1 and every box scores 1.0, so a fused box is
    the plain mean of the boxes of its cluster. Returns ``(label, box)`` pairs.
    """
    from ensemble_boxes import weighted_boxes_fusion

    if not rows:
        return []
    by_reader: dict[str, list[VinDrRow]] = defaultdict(list)
    for r in rows:
        by_reader[r.rad_id].append(r)
    scale = np.array([width, height, width, height], np.float64)
    boxes, scores, labels = [], [], []
    for rad_id in sorted(by_reader):
        rs = by_reader[rad_id]
        boxes.append((np.array([r.box for r in rs], np.float64) / scale).tolist())
        scores.append([1.0] * len(rs))
        labels.append([r.label for r in rs])
    fused, _, fused_labels = weighted_boxes_fusion(boxes, scores, labels, iou_thr=iou_thr,
                                                   skip_box_thr=0.0)
    out = [(int(lab), tuple(float(v) for v in np.asarray(b) * scale))
           for b, lab in zip(fused, fused_labels)]
    return sorted(out, key=lambda t: (t[0], t[1]))


def find_dicoms(image_dir: str) -> dict[str, str]:
    """``{image_id: path}`` of the DICOM files in ``image_dir`` (file stem = image id)."""
    found: dict[str, str] = {}
    for pattern in DICOM_GLOBS:
        for path in glob.glob(os.path.join(glob.escape(image_dir), pattern)):
            found.setdefault(os.path.splitext(os.path.basename(path))[0], path)
    return dict(sorted(found.items()))


def _dicom_size(path: str) -> Optional[tuple[int, int]]:
    """(width, height) from the DICOM header only, or ``None``."""
    import pydicom
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        return int(ds.Columns), int(ds.Rows)
    except Exception:  # noqa: BLE001  (any failure: the full read reports it)
        return None


def convert_image(task: tuple) -> dict:
    """Convert one DICOM to PNG (or reuse an existing PNG of the expected size and depth).

    ``task = (image_id, dcm_path, png_path, max_size, png16, voi, overwrite)``. Returns a
    dict with ``image_id``, ``orig`` (w, h), ``size`` (w, h), ``decoded`` and ``error``.
    """
    image_id, dcm_path, png_path, max_size, png16, voi, overwrite = task
    depth = 16 if png16 else 8
    if not overwrite and os.path.exists(png_path):
        info, orig = png_info(png_path), _dicom_size(dcm_path)
        if info and orig and info[:2] == target_size(*orig, max_size) and info[2] == depth:
            return dict(image_id=image_id, orig=orig, size=info[:2], decoded=False, error=None)
    try:
        img = read_dicom(dcm_path, voi=voi, out_dtype=np.uint16 if png16 else np.uint8)
    except DicomReadError as exc:
        return dict(image_id=image_id, error=exc.reason, decoded=True)
    h, w = img.shape[:2]
    img = resize_long_side(img, max_size)
    try:
        write_png_atomic(png_path, img)
    except OSError as exc:
        return dict(image_id=image_id, error=f'could not write PNG ({exc})', decoded=True)
    return dict(image_id=image_id, orig=(w, h), size=(img.shape[1], img.shape[0]), decoded=True,
                error=None)


def _place_box(row: VinDrRow, w: int, h: int, tol: float, report: ConversionReport, fname: str,
               image_id: str) -> Optional[VinDrRow]:
    """Clip a small overshoot (note) or reject a box beyond the image (skip)."""
    box, why = validate_box(row.box, (w, h), tol)
    if box is None:
        report.skip('row', why, file=fname, row=row.line, image_id=image_id)
        return None
    if why:
        report.note(why, file=fname, row=row.line, image_id=image_id)
    return VinDrRow(row.line, row.rad_id, row.label, box)


@dataclass
class _Conversion:
    """One split's settings, report and paths, shared by the phases of :func:`convert_vindr`."""

    split: str
    out_dir: str
    csv_path: Optional[str]
    classes: Sequence[str]
    fusion: str
    wbf_iou: float
    max_size: Optional[int]
    clip_tolerance: float
    strict: bool
    report: ConversionReport
    report_path: str

    @property
    def csv_name(self) -> str:
        return os.path.basename(self.csv_path) if self.csv_path else ''

    def fail_if_strict(self, stage: str) -> None:
        """With ``strict``, write the report and raise if anything was skipped so far."""
        if self.strict and self.report.skips:
            self.report.write(self.report_path, stage=stage, strict_failure=True)
            raise StrictModeError(f'--strict: {len(self.report.skips)} skip(s) at {stage}; '
                                  f'see {self.report_path}')


def _collect(conv: _Conversion, image_dir: str) -> tuple[dict, Optional[dict], list]:
    """Phase 1: the DICOMs, the checked CSV rows and the image ids found in both."""
    dicoms = find_dicoms(image_dir)
    if not dicoms:
        raise FileNotFoundError(f'no *.dicom / *.dcm files in {image_dir}')
    if not conv.csv_path:
        return dicoms, None, list(dicoms)
    rows = parse_vindr_csv(conv.csv_path, conv.classes, conv.report)
    for image_id, entry in rows.items():
        if image_id not in dicoms:
            conv.report.skip('image', 'image file missing (in CSV, not in the image folder)',
                             file=conv.csv_name, row=entry.first_line, image_id=image_id)
    for image_id in dicoms:
        if image_id not in rows:
            conv.report.skip('image', 'no annotation rows in the CSV (neither findings nor '
                             '"No finding")', file=dicoms[image_id], image_id=image_id)
    return dicoms, rows, [i for i in dicoms if i in rows]


def _image_boxes(conv: _Conversion, image_id: str, entry: ImageRows, res: dict,
                 dcm_path: str) -> Optional[list]:
    """The ``(label, box, rad_id)`` of one converted image in original pixels (fused or per
    reader), or ``None`` when its finding rows were all invalid (the image is skipped)."""
    ow, oh = res['orig']
    kept = [r for r in (_place_box(r, ow, oh, conv.clip_tolerance, conv.report, conv.csv_name,
                                   image_id) for r in entry.rows) if r is not None]
    bad = entry.bad_rows + len(entry.rows) - len(kept)
    if bad and not kept:
        conv.report.skip('image', f'all {bad} finding row(s) invalid; not a trustworthy negative',
                         file=dcm_path, row=entry.first_line, image_id=image_id)
        return None
    if conv.fusion == 'wbf':
        return [(lab, box, None) for lab, box in fuse_boxes(kept, ow, oh, conv.wbf_iou)]
    return [(r.label, r.box, r.rad_id) for r in kept]


def _to_coco(conv: _Conversion, ids: list, dicoms: dict, rows: Optional[dict],
             results: list) -> dict:
    """Phase 3: the COCO dict of the converted images, boxes scaled to the PNG size."""
    by_id = {r['image_id']: r for r in results}
    images, annotations = [], []
    for image_id in ids:
        res = by_id[image_id]
        if res['error']:
            conv.report.skip('image', res['error'], file=dicoms[image_id], image_id=image_id)
            continue
        entry = rows[image_id] if rows is not None else ImageRows(0)
        boxes = _image_boxes(conv, image_id, entry, res, dicoms[image_id])
        if boxes is None:
            continue
        (ow, oh), (w, h) = res['orig'], res['size']
        images.append(coco_image(len(images) + 1, f'{conv.split}/{image_id}.png', w, h,
                                 orig_width=ow, orig_height=oh, vindr_id=image_id))
        sx, sy = w / ow, h / oh
        for lab, (x1, y1, x2, y2), rad_id in boxes:
            extra = {} if rad_id is None else dict(rad_id=rad_id)
            annotations.append(coco_annotation(
                len(annotations) + 1, len(images), lab + 1,
                (x1 * sx, y1 * sy, (x2 - x1) * sx, (y2 - y1) * sy), **extra))
    info = dict(description=f'VinDr-CXR {conv.split} converted by anomed_mmdet', fusion=conv.fusion,
                wbf_iou=conv.wbf_iou if conv.fusion == 'wbf' else None, max_size=conv.max_size)
    return dict(info=info, images=images, annotations=annotations,
                categories=coco_categories(conv.classes, 'finding'))


def convert_vindr(root: str,
                  out_dir: str,
                  split: str = 'train',
                  *,
                  csv_path: Optional[str] = None,
                  image_dir: Optional[str] = None,
                  classes: Sequence[str] = PRESETS['paper5'],
                  fusion: str = 'wbf',
                  wbf_iou: float = 0.4,
                  max_size: Optional[int] = None,
                  png16: bool = False,
                  voi: str = 'auto',
                  clip_tolerance: float = 0.02,
                  workers: int = 1,
                  overwrite: bool = False,
                  strict: bool = False,
                  out_json: Optional[str] = None,
                  verbose: bool = True) -> dict:
    """Convert one VinDr-CXR split; return the summary (also in the report file).

    Three phases: collect (DICOMs and checked CSV rows), per image (DICOM -> PNG in a worker
    pool), COCO (boxes placed, fused and scaled to the PNGs). ``csv_path=None`` converts the
    images without annotations (e.g. the Kaggle test split). ``strict=True`` raises
    :class:`StrictModeError` at the first phase with a skip (CSV rows before decoding, then
    images), after writing the report, and writes no json.
    """
    if fusion not in ('wbf', 'none'):
        raise ValueError(f"fusion must be 'wbf' or 'none', not {fusion!r}")
    if len(set(classes)) != len(classes) or not classes:
        raise ValueError(f'classes must be a non-empty list without repeats: {list(classes)}')
    image_dir = image_dir or os.path.join(root, split)
    out_json = out_json or os.path.join(out_dir, 'annotations', f'{split}.json')
    report = ConversionReport(dataset='VinDr-CXR', split=split, image_dir=image_dir, csv=csv_path,
                              classes=list(classes), fusion=fusion, wbf_iou=wbf_iou,
                              max_size=max_size, png_bits=16 if png16 else 8, voi=voi,
                              clip_tolerance=clip_tolerance)
    conv = _Conversion(split, out_dir, csv_path, classes, fusion, wbf_iou, max_size, clip_tolerance,
                       strict, report, os.path.join(out_dir, f'conversion_report_{split}.json'))

    dicoms, rows, ids = _collect(conv, image_dir)
    conv.fail_if_strict('CSV validation')
    png_dir = os.path.join(out_dir, 'images', split)
    tasks = [(i, dicoms[i], os.path.join(png_dir, f'{i}.png'), max_size, png16, voi, overwrite)
             for i in ids]
    t0 = time.perf_counter()
    results = run_parallel(convert_image, tasks, workers)
    elapsed = time.perf_counter() - t0
    coco = _to_coco(conv, ids, dicoms, rows, results)
    conv.fail_if_strict('image conversion')
    atomic_write_json(out_json, coco)
    return _finish(conv, coco, results, elapsed, out_json, verbose)


def _finish(conv: _Conversion, coco: dict, results: list, elapsed: float, out_json: str,
            verbose: bool) -> dict:
    """Write the report; print and return the summary."""
    images, annotations = coco['images'], coco['annotations']
    decoded = sum(1 for r in results if r.get('decoded'))
    summary = dict(images=len(images), negatives=len(images) - len({a['image_id'] for a in annotations}),
                   annotations=len(annotations), skipped=len(conv.report.skips), decoded=decoded,
                   reused_png=len(results) - decoded, seconds=round(elapsed, 3),
                   images_per_s=round(len(results) / elapsed, 2) if elapsed > 0 else None,
                   json=out_json, report=conv.report_path)
    conv.report.write(conv.report_path, **summary)
    if verbose:
        print(f'{conv.split}: {summary["images"]} images ({summary["negatives"]} negative), '
              f'{summary["annotations"]} boxes -> {out_json}')
        for line in conv.report.summary_lines():
            print('  ' + line)
        print(f'  {len(results)} images in {elapsed:.1f} s = {summary["images_per_s"]} images/s '
              f'({decoded} decoded, {summary["reused_png"]} PNGs reused); report: {conv.report_path}')
    return summary
