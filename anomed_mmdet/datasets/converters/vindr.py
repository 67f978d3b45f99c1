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
import math
import multiprocessing
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import numpy as np

from ..dicom import DicomReadError, read_dicom
from .common import (ConversionReport, StrictModeError, atomic_write_json, png_info,
                     resize_long_side, target_size, write_png_atomic)

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


def parse_vindr_csv(csv_path: str, classes: Sequence[str], report: ConversionReport,
                    ) -> dict[str, ImageRows]:
    """Validate the rows of a VinDr CSV; return the kept rows per image id.

    Every left-out row is recorded in ``report`` with its line number; rows of known but
    unselected classes are counted in ``report.filtered``.
    """
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
    selected = _canonical(classes)
    known = _canonical((*VINDR_LOCAL_LABELS, *classes, NO_FINDING))
    label_of = {c: i for i, c in enumerate(classes)}
    images: dict[str, ImageRows] = {}
    seen: dict[tuple, int] = {}
    fname = os.path.basename(csv_path)
    rad = df['rad_id'] if 'rad_id' in df.columns else [''] * len(df)
    cols = zip(df['image_id'], rad, df['class_name'], df['x_min'], df['y_min'], df['x_max'], df['y_max'])
    for i, (image_id, rad_id, cls, *coords) in enumerate(cols):
        line = i + 2
        image_id, rad_id, cls = image_id.strip(), str(rad_id).strip(), cls.strip()
        if not image_id:
            report.skip('row', 'missing image_id', file=fname, row=line)
            continue
        entry = images.setdefault(image_id, ImageRows(first_line=line))
        name = known.get(cls.lower())
        if name is None:
            report.skip('row', f'unknown class name {cls!r}', file=fname, row=line, image_id=image_id)
            entry.bad_rows += 1
            continue
        key = (image_id, rad_id, name, tuple(c.strip() for c in coords))
        if name == NO_FINDING:
            if key in seen:
                report.skip('row', f'duplicate of row {seen[key]}', file=fname, row=line, image_id=image_id)
            seen.setdefault(key, line)
            continue
        if name.lower() not in selected:
            report.filtered[name] += 1
            continue
        try:
            box = tuple(float(c) for c in coords)
        except ValueError:
            box = None
        if box is None or not all(math.isfinite(v) for v in box):
            what = 'missing' if any(not c.strip() for c in coords) else 'non-numeric'
            report.skip('row', f'{what} coordinates for {name}', file=fname, row=line, image_id=image_id)
            entry.bad_rows += 1
            continue
        x1, y1, x2, y2 = box
        if x1 > x2 or y1 > y2:
            report.skip('row', f'inverted box (x_min > x_max or y_min > y_max): {list(box)}',
                        file=fname, row=line, image_id=image_id)
            entry.bad_rows += 1
            continue
        if x1 == x2 or y1 == y2:
            report.skip('row', f'empty box (zero width or height): {list(box)}', file=fname, row=line,
                        image_id=image_id)
            entry.bad_rows += 1
            continue
        key = (image_id, rad_id, name, box)
        if key in seen:
            report.skip('row', f'duplicate of row {seen[key]}', file=fname, row=line, image_id=image_id)
            continue
        seen[key] = line
        entry.rows.append(VinDrRow(line, rad_id, label_of[selected[name.lower()]], box))
    return images


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


def run_tasks(tasks: list, workers: int, desc: str) -> list[dict]:
    """Run :func:`convert_image` over ``tasks`` (a Pool when ``workers > 1``) with tqdm."""
    from tqdm import tqdm

    if workers <= 1 or len(tasks) <= 1:
        return [convert_image(t) for t in tqdm(tasks, desc=desc, unit='img')]
    import cv2

    chunk = max(1, min(16, len(tasks) // (workers * 8)))
    # A forked child must not touch OpenCV's thread pool inherited from the parent (it
    # hangs in pthread_cond_destroy): stop the pool here, one thread per worker process.
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with multiprocessing.Pool(workers) as pool:
            return list(tqdm(pool.imap_unordered(convert_image, tasks, chunksize=chunk),
                             total=len(tasks), desc=desc, unit='img'))
    finally:
        cv2.setNumThreads(threads)


def _place_box(row: VinDrRow, w: int, h: int, tol: float, report: ConversionReport, fname: str,
               image_id: str) -> Optional[VinDrRow]:
    """Clip a small overshoot (note) or reject a box beyond the image (skip)."""
    x1, y1, x2, y2 = row.box
    over = max(-x1, -y1, x2 - w, y2 - h, 0.0)
    if over == 0:
        return row
    limit = tol * max(w, h)
    cx1, cy1, cx2, cy2 = max(x1, 0.0), max(y1, 0.0), min(x2, float(w)), min(y2, float(h))
    if over > limit or cx2 <= cx1 or cy2 <= cy1:
        report.skip('row', f'box outside the image ({w}x{h}) by {over:.1f} px > tolerance {limit:.1f}: '
                    f'{list(row.box)}', file=fname, row=row.line, image_id=image_id)
        return None
    report.note(f'box clipped to the image ({w}x{h}), overshoot {over:.1f} px', file=fname,
                row=row.line, image_id=image_id)
    return VinDrRow(row.line, row.rad_id, row.label, (cx1, cy1, cx2, cy2))


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

    ``csv_path=None`` converts the images without annotations (e.g. the Kaggle test
    split). ``strict=True`` raises :class:`StrictModeError` at the first stage with a skip
    (CSV rows before decoding, then images), after writing the report, and writes no json.
    """
    if fusion not in ('wbf', 'none'):
        raise ValueError(f"fusion must be 'wbf' or 'none', not {fusion!r}")
    if len(set(classes)) != len(classes) or not classes:
        raise ValueError(f'classes must be a non-empty list without repeats: {list(classes)}')
    image_dir = image_dir or os.path.join(root, split)
    out_json = out_json or os.path.join(out_dir, 'annotations', f'{split}.json')
    report_path = os.path.join(out_dir, f'conversion_report_{split}.json')
    report = ConversionReport(dataset='VinDr-CXR', split=split, image_dir=image_dir, csv=csv_path,
                              classes=list(classes), fusion=fusion, wbf_iou=wbf_iou,
                              max_size=max_size, png_bits=16 if png16 else 8, voi=voi,
                              clip_tolerance=clip_tolerance)
    log = print if verbose else (lambda *a, **k: None)
    csv_name = os.path.basename(csv_path) if csv_path else ''

    def fail_if_strict(stage: str) -> None:
        if strict and report.skips:
            report.write(report_path, stage=stage, strict_failure=True)
            raise StrictModeError(f'--strict: {len(report.skips)} skip(s) at {stage}; '
                                  f'see {report_path}')

    dicoms = find_dicoms(image_dir)
    if not dicoms:
        raise FileNotFoundError(f'no *.dicom / *.dcm files in {image_dir}')
    rows = parse_vindr_csv(csv_path, classes, report) if csv_path else None
    ids = list(dicoms)
    if rows is not None:
        for image_id, entry in rows.items():
            if image_id not in dicoms:
                report.skip('image', 'image file missing (in CSV, not in the image folder)',
                            file=csv_name, row=entry.first_line, image_id=image_id)
        for image_id in dicoms:
            if image_id not in rows:
                report.skip('image', 'no annotation rows in the CSV (neither findings nor '
                            '"No finding")', file=dicoms[image_id], image_id=image_id)
        ids = [i for i in dicoms if i in rows]
    fail_if_strict('CSV validation')

    png_dir = os.path.join(out_dir, 'images', split)
    tasks = [(i, dicoms[i], os.path.join(png_dir, f'{i}.png'), max_size, png16, voi, overwrite)
             for i in ids]
    t0 = time.perf_counter()
    results = run_tasks(tasks, workers, desc=f'VinDr {split}')
    elapsed = time.perf_counter() - t0
    by_id = {r['image_id']: r for r in results}

    images, annotations = [], []
    for image_id in ids:
        res = by_id[image_id]
        if res['error']:
            report.skip('image', res['error'], file=dicoms[image_id], image_id=image_id)
            continue
        (ow, oh), (w, h) = res['orig'], res['size']
        entry = rows[image_id] if rows is not None else ImageRows(0)
        kept = [r for r in (_place_box(r, ow, oh, clip_tolerance, report, csv_name, image_id)
                            for r in entry.rows) if r is not None]
        bad = entry.bad_rows + len(entry.rows) - len(kept)
        if bad and not kept:
            report.skip('image', f'all {bad} finding row(s) invalid; not a trustworthy negative',
                        file=dicoms[image_id], row=entry.first_line, image_id=image_id)
            continue
        if fusion == 'wbf':
            boxes = [(lab, box, None) for lab, box in fuse_boxes(kept, ow, oh, wbf_iou)]
        else:
            boxes = [(r.label, r.box, r.rad_id) for r in kept]
        img_id = len(images) + 1
        images.append(dict(id=img_id, file_name=f'{split}/{image_id}.png', width=w, height=h,
                           orig_width=ow, orig_height=oh, vindr_id=image_id))
        sx, sy = w / ow, h / oh
        for lab, (x1, y1, x2, y2), rad_id in boxes:
            bw, bh = (x2 - x1) * sx, (y2 - y1) * sy
            ann = dict(id=len(annotations) + 1, image_id=img_id, category_id=lab + 1,
                       bbox=[round(x1 * sx, 2), round(y1 * sy, 2), round(bw, 2), round(bh, 2)],
                       area=round(bw * bh, 2), iscrowd=0)
            if rad_id is not None:
                ann['rad_id'] = rad_id
            annotations.append(ann)
    fail_if_strict('image conversion')

    coco = dict(info=dict(description=f'VinDr-CXR {split} converted by anomed_mmdet', fusion=fusion,
                          wbf_iou=wbf_iou if fusion == 'wbf' else None, max_size=max_size),
                images=images, annotations=annotations,
                categories=[dict(id=k + 1, name=c, supercategory='finding') for k, c in enumerate(classes)])
    atomic_write_json(out_json, coco)
    decoded = sum(1 for r in results if r.get('decoded'))
    summary = dict(images=len(images), negatives=len(images) - len({a['image_id'] for a in annotations}),
                   annotations=len(annotations), skipped=len(report.skips), decoded=decoded,
                   reused_png=len(results) - decoded, seconds=round(elapsed, 3),
                   images_per_s=round(len(results) / elapsed, 2) if elapsed > 0 else None,
                   json=out_json, report=report_path)
    report.write(report_path, **summary)
    log(f'{split}: {summary["images"]} images ({summary["negatives"]} negative), '
        f'{summary["annotations"]} boxes -> {out_json}')
    for line in report.summary_lines():
        log('  ' + line)
    log(f'  {len(results)} images in {elapsed:.1f} s = {summary["images_per_s"]} images/s '
        f'({decoded} decoded, {summary["reused_png"]} PNGs reused); report: {report_path}')
    return summary
