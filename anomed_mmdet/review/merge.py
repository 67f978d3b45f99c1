"""Merge a reviewed ``review.csv`` back into the labelled / unlabelled COCO splits.

Each row's ``decision`` is ``accepted`` (the candidate's box and class become a label),
``corrected`` (the row's ``class`` and ``x1 y1 x2 y2``, as edited, become the label),
``rejected`` (no label) or empty (not reviewed). An image whose rows all have a decision moves
from the unlabelled to the labelled split with its accepted and corrected boxes (an image whose
candidates were all rejected becomes a labelled image without findings); an image with some rows
undecided stays unlabelled. Every other image and label is copied unchanged.
"""
import csv
import math
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

from .export import CSV_FIELDS, ReviewError, images_fingerprint

DECISIONS = ('accepted', 'corrected', 'rejected')
#: a box may leave the image by this many pixels (as the data set checks allow)
TOLERANCE_PX = 1.0
#: two reviewed labels of one class in one image overlapping this much are one lesion
DUPLICATE_IOU = 0.9


def _iou(a: List[float], b: List[float]) -> float:
    """IoU of two COCO xywh boxes."""
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def read_review(path: Path) -> List[Dict[str, str]]:
    """The CSV rows (with their line number under ``_line``); header and decisions checked."""
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        missing = [k for k in CSV_FIELDS if k not in (reader.fieldnames or [])]
        if missing:
            raise ReviewError(f'{path}: columns {missing} missing (has {reader.fieldnames})')
        rows = []
        for line, row in enumerate(reader, 2):
            row['decision'] = (row['decision'] or '').strip().lower()
            if row['decision'] and row['decision'] not in DECISIONS:
                raise ReviewError(f'{path} line {line}: unknown decision {row["decision"]!r} '
                                  f'(one of {", ".join(DECISIONS)}, or empty for not reviewed)')
            row['_line'] = line
            rows.append(row)
    return rows


def _number(path: Path, row: Dict[str, Any], key: str) -> float:
    try:
        value = float(row[key])
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ReviewError(f'{path} line {row["_line"]}: {key}={row[key]!r} is not a finite number')
    return value


def _reviewed_box(path: Path, row: Dict[str, Any], image: Dict[str, Any], cat_of: Dict[str, int]
                  ) -> Tuple[List[float], int]:
    """The corrected row's box (COCO xywh) and category id, checked against the image."""
    x1, y1, x2, y2 = (_number(path, row, k) for k in ('x1', 'y1', 'x2', 'y2'))
    where = f'{path} line {row["_line"]} (image {image["id"]}, {image["file_name"]})'
    if row['class'] not in cat_of:
        raise ReviewError(f'{where}: unknown class {row["class"]!r} (one of {", ".join(cat_of)})')
    if not (x2 > x1 and y2 > y1):
        raise ReviewError(f'{where}: empty box [{x1}, {y1}, {x2}, {y2}] (need x2 > x1, y2 > y1)')
    t = TOLERANCE_PX
    if x1 < -t or y1 < -t or x2 > image['width'] + t or y2 > image['height'] + t:
        raise ReviewError(f'{where}: box [{x1}, {y1}, {x2}, {y2}] outside the '
                          f'{image["width"]}x{image["height"]} image')
    x1, y1 = max(x1, 0.0), max(y1, 0.0)
    x2, y2 = min(x2, float(image['width'])), min(y2, float(image['height']))
    return [x1, y1, x2 - x1, y2 - y1], cat_of[row['class']]


def _check_inputs(paths: Dict[str, Path], cands: dict, labelled: dict, unlabelled: dict) -> None:
    if cands['info'].get('images_fingerprint') != images_fingerprint(unlabelled['images']):
        raise ReviewError(f'{paths["candidates"]} was exported from another set of images than '
                          f'{paths["unlabelled"]} (their image ids / file names differ): a review of a '
                          'different data set, or the unlabelled split changed since the export')
    names = lambda d: [(c['id'], c['name']) for c in d['categories']]  # noqa: E731
    for key, d in (('labelled', labelled), ('candidates', cands)):
        if names(d) != names(unlabelled):
            raise ReviewError(f'{paths[key]} and {paths["unlabelled"]} have other categories: '
                              f'{names(d)} vs {names(unlabelled)}')
    both = {i['id'] for i in labelled['images']} & {i['id'] for i in unlabelled['images']}
    if both:
        raise ReviewError(f'{paths["labelled"]} and {paths["unlabelled"]} share image ids {sorted(both)[:10]}')


def _label(path: Path, row: Dict[str, Any], cand: Dict[str, Any], image: Dict[str, Any],
           cat_of: Dict[str, int]) -> Tuple[List[float], int]:
    """The box and category a decided row labels (accepted: the candidate's, unedited)."""
    if row['decision'] == 'corrected':
        return _reviewed_box(path, row, image, cat_of)
    x, y, w, h = cand['bbox']
    edited = row['class'] != cand['class'] or any(
        abs(_number(path, row, k) - v) > 0.01 for k, v in zip(('x1', 'y1', 'x2', 'y2'), (x, y, x + w, y + h)))
    if edited:
        raise ReviewError(f'{path} line {row["_line"]}: candidate {cand["id"]} is marked accepted but '
                          'its class or box was edited: mark it corrected')
    return list(cand['bbox']), cand['category_id']


def merge_review(paths: Dict[str, Path], cands: dict, labelled: dict, unlabelled: dict,
                 rows: List[Dict[str, Any]]) -> Tuple[dict, dict, Dict[str, Any]]:
    """New ``(labelled, unlabelled, report)``; ``paths`` names the inputs in error messages
    (keys ``review``, ``candidates``, ``labelled``, ``unlabelled``)."""
    _check_inputs(paths, cands, labelled, unlabelled)
    review = paths['review']
    images = {i['id']: i for i in unlabelled['images']}
    by_cand = {c['id']: c for c in cands['annotations']}
    cat_of = {c['name']: c['id'] for c in unlabelled['categories']}
    decided: Dict[int, List[Tuple[List[float], int]]] = {}
    rows_of: Counter = Counter()
    decided_rows: Counter = Counter()
    seen = set()
    for row in rows:
        cid, iid = int(_number(review, row, 'candidate_id')), int(_number(review, row, 'image_id'))
        if iid not in images:
            raise ReviewError(f'{review} line {row["_line"]}: unknown image id {iid} (not in {paths["unlabelled"]})')
        if cid not in by_cand or by_cand[cid]['image_id'] != iid:
            raise ReviewError(f'{review} line {row["_line"]}: candidate {cid} of image {iid} is not in '
                              f'{paths["candidates"]}')
        if row['file_name'] != images[iid]['file_name']:
            raise ReviewError(f'{review} line {row["_line"]}: image {iid} is {images[iid]["file_name"]!r} in '
                              f'{paths["unlabelled"]}, the review says {row["file_name"]!r} (another data set?)')
        if cid in seen:
            raise ReviewError(f'{review} line {row["_line"]}: candidate {cid} reviewed twice')
        seen.add(cid)
        rows_of[iid] += 1
        if row['decision']:
            decided_rows[iid] += 1
            decided.setdefault(iid, [])
            if row['decision'] != 'rejected':
                decided[iid].append(_label(review, row, by_cand[cid], images[iid], cat_of))
    partial = sorted(i for i in rows_of if 0 < decided_rows[i] < rows_of[i])
    moving = sorted(i for i in decided if i not in partial)
    return _split(labelled, unlabelled, decided, moving, partial, rows)


def _split(labelled: dict, unlabelled: dict, decided: Dict[int, list], moving: List[int], partial: List[int],
           rows: List[Dict[str, Any]]) -> Tuple[dict, dict, Dict[str, Any]]:
    move = set(moving)
    next_id = 1 + max([a['id'] for a in labelled.get('annotations', []) + unlabelled.get('annotations', [])] or [0])
    new_anns, duplicates = [], 0
    for iid in moving:
        kept_boxes: List[Tuple[List[float], int]] = []
        for bbox, cat in decided[iid]:
            if any(c == cat and _iou(b, bbox) >= DUPLICATE_IOU for b, c in kept_boxes):
                duplicates += 1  # two candidates reviewed onto one lesion
                continue
            kept_boxes.append((bbox, cat))
            new_anns.append(dict(id=next_id, image_id=iid, category_id=cat, bbox=[round(v, 2) for v in bbox],
                                 area=round(bbox[2] * bbox[3], 2), iscrowd=0))
            next_id += 1
    out_l = dict(labelled, images=labelled['images'] + [i for i in unlabelled['images'] if i['id'] in move],
                 annotations=labelled.get('annotations', []) + new_anns)
    kept = [a for a in unlabelled.get('annotations', []) if a['image_id'] not in move]
    out_u = dict(unlabelled, images=[i for i in unlabelled['images'] if i['id'] not in move], annotations=kept)
    names = {c['id']: c['name'] for c in unlabelled['categories']}
    counts = Counter(r['decision'] or 'undecided' for r in rows)
    report = dict(
        rows=len(rows), **{d: counts.get(d, 0) for d in DECISIONS + ('undecided',)},
        images_moved=len(moving), images_moved_without_findings=sum(not decided[i] for i in moving),
        images_partially_reviewed=partial, labels_added=len(new_anns), duplicate_labels_dropped=duplicates,
        labels_added_per_class=dict(Counter(names[a['category_id']] for a in new_anns)),
        unlabelled_annotations_of_moved_images_dropped=len(unlabelled.get('annotations', [])) - len(kept),
        labelled_images=[len(labelled['images']), len(out_l['images'])],
        labelled_annotations=[len(labelled.get('annotations', [])), len(out_l['annotations'])],
        unlabelled_images=[len(unlabelled['images']), len(out_u['images'])])
    assert len(out_l['images']) + len(out_u['images']) == len(labelled['images']) + len(unlabelled['images'])
    return out_l, out_u, report
