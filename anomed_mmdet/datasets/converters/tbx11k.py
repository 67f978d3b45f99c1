"""TBX11K (``imgs/``, ``annotations/xml/``, ``lists/*.txt``) -> COCO json per list.

Images stay where they are: ``file_name`` is relative to ``<root>/imgs`` (set
``data_prefix=dict(img='<root>/imgs/')``). Boxes come from the Pascal-VOC XML files
(``annotations/xml/<stem>.xml``, or ``annotations/xml/<group>/<stem>.xml`` when that
exists), in pixels as written (no 1-based shift).

Decisions (also in docs/datasets.md):

* Classes: ``ActiveTuberculosis``, ``ObsoletePulmonaryTuberculosis`` (latent TB).
  ``PulmonaryTuberculosis`` (uncertain type) is skipped and reported by default, or
  mapped to one of the two (``uncertain='active'|'obsolete'``).
* ``health/`` and ``sick/`` (sick but not TB) images are negatives (no boxes); an XML
  with boxes for one of them is a contradiction: the image is skipped and reported.
* ``test/`` images have no public boxes: they are kept without annotations.
* Any other image (``tb/``, ``extra/``...) needs its XML with at least one usable box;
  otherwise it is skipped (not a trustworthy negative) and reported.
* Boxes: unknown names, missing / non-numeric / inverted / empty coordinates are skipped;
  beyond the image by more than ``clip_tolerance`` of its long side skipped, less clipped
  (a note). A list line naming a missing image or repeating an earlier line is skipped.
"""
from __future__ import annotations

import glob
import os
import xml.etree.ElementTree as ET
from typing import Optional, Sequence

from ...utils.atomic_io import atomic_write_json
from .common import (ConversionReport, StrictModeError, coco_annotation, coco_categories, coco_image,
                     png_info, validate_box)

__all__ = ['TBX_CLASSES', 'UNCERTAIN_NAME', 'parse_voc_xml', 'image_size', 'convert_tbx11k']

TBX_CLASSES = ('ActiveTuberculosis', 'ObsoletePulmonaryTuberculosis')
UNCERTAIN_NAME = 'PulmonaryTuberculosis'
NEGATIVE_GROUPS = ('health', 'sick')
UNLABELED_GROUPS = ('test',)
_UNCERTAIN_MAP = {'active': 'ActiveTuberculosis', 'obsolete': 'ObsoletePulmonaryTuberculosis'}


def image_size(path: str) -> Optional[tuple[int, int]]:
    """(width, height) from the image header (PNG directly, other formats via PIL); ``None``
    when unreadable or not a positive size (a PNG header may claim 0 or 2**32 - 1 pixels)."""
    info = png_info(path)
    if info:
        return info[:2] if 0 < info[0] < 2**31 and 0 < info[1] < 2**31 else None
    try:
        from PIL import Image
        with Image.open(path) as im:
            return im.size
    except Exception:  # noqa: BLE001  (unreadable -> None, reported by the caller)
        return None


def parse_voc_xml(path: str) -> tuple[Optional[tuple[int, int]], list[tuple[int, str, list]]]:
    """``(size or None, [(object_index, name, [xmin, ymin, xmax, ymax] as text)])``.

    Raises ``ET.ParseError`` for malformed XML, ``LookupError`` / ``ValueError`` for an unknown /
    multi-byte encoding in its declaration.
    """
    root = ET.parse(path).getroot()
    size = None
    sz = root.find('size')
    if sz is not None:
        try:
            size = (int(float(sz.findtext('width'))), int(float(sz.findtext('height'))))
        except (TypeError, ValueError, OverflowError):  # OverflowError: 'inf'
            size = None
    objects = []
    for k, obj in enumerate(root.iter('object')):
        name = (obj.findtext('name') or '').strip()
        bb = obj.find('bndbox')
        coords = [None if bb is None else bb.findtext(t) for t in ('xmin', 'ymin', 'xmax', 'ymax')]
        objects.append((k, name, coords))
    return size, objects


def _find_xml(xml_root: str, rel: str) -> str:
    """``xml/<group>/<stem>.xml`` if it exists, else ``xml/<stem>.xml`` (TBX11K's layout)."""
    nested = os.path.join(xml_root, os.path.splitext(rel)[0] + '.xml')
    if os.path.isfile(nested):
        return nested
    return os.path.join(xml_root, os.path.splitext(os.path.basename(rel))[0] + '.xml')


def _list_entries(list_path: str, report: ConversionReport) -> list[tuple[int, str]]:
    """Phase 1: ``(line number, image path relative to imgs/)`` of a list, first occurrences
    only; lines that are not UTF-8 and repeated lines are skipped."""
    lname = os.path.basename(list_path)
    entries, seen = [], {}
    with open(list_path, 'rb') as f:
        lines = f.read().splitlines()
    for line_no, raw in enumerate(lines, 1):
        try:
            rel = raw.decode('utf-8-sig' if line_no == 1 else 'utf-8').strip()
        except UnicodeDecodeError as exc:
            report.skip('image', f'line is not UTF-8 text ({exc})', file=lname, row=line_no)
            continue
        if not rel:
            continue
        rel = rel.replace('\\', '/')
        rel = rel[2:] if rel.startswith('./') else rel.lstrip('/')
        if rel in seen:
            report.skip('image', f'duplicate of line {seen[rel]}', file=lname, row=line_no, image=rel)
            continue
        seen[rel] = line_no
        entries.append((line_no, rel))
    return entries


def _read_objects(root: str, rel: str, size: tuple[int, int], where: dict,
                  report: ConversionReport) -> tuple[Optional[list], str]:
    """The XML objects of one image (``[]`` without XML for a negative or test image) and the
    XML's name, or ``None`` when the image is skipped (bad XML, TB image without XML, boxes
    on a non-TB image)."""
    xml_path = _find_xml(os.path.join(root, 'annotations', 'xml'), rel)
    xml_name = os.path.relpath(xml_path, root)
    group = rel.split('/')[0]
    objects: list = []
    if os.path.isfile(xml_path):
        try:
            xml_size, objects = parse_voc_xml(xml_path)
        except (ET.ParseError, LookupError, ValueError) as exc:  # LookupError / ValueError: an
            # unknown or multi-byte encoding in the XML declaration ('bogus', 'utf-32')
            report.skip('image', f'bad XML ({exc})', file=xml_name, image=rel, **where)
            return None, xml_name
        if xml_size and xml_size != size:
            report.note(f'XML size {xml_size[0]}x{xml_size[1]} differs from the image '
                        f'{size[0]}x{size[1]}; boxes checked against the image', file=xml_name, image=rel)
    elif group not in NEGATIVE_GROUPS + UNLABELED_GROUPS:
        report.skip('image', 'no XML annotation for a TB image', file=where['list'],
                    row=where['row'], image=rel)
        return None, xml_name
    if group in NEGATIVE_GROUPS and objects:
        report.skip('image', f'{len(objects)} box(es) in the XML of a {group}/ (non-TB) image',
                    file=xml_name, image=rel, **where)
        return None, xml_name
    return objects, xml_name


def _check_objects(objects: list, size: tuple[int, int], label_of: dict, tol: float,
                   report: ConversionReport, xml_name: str, rel: str) -> list:
    """The ``(category id, box)`` of the usable objects; the others are reported."""
    boxes = []
    for k, name, coords in objects:
        if name == UNCERTAIN_NAME and name not in label_of:
            why = f'uncertain class {UNCERTAIN_NAME} skipped (see --uncertain)'
        elif name not in label_of:
            why = f'unknown object name {name!r}'
        else:
            box, why = validate_box(coords, size, tol)
            if box is not None:
                if why:
                    report.note(why, file=xml_name, row=k + 1, image=rel)
                boxes.append((label_of[name], box))
                continue
        report.skip('box', why, file=xml_name, row=k + 1, image=rel)
    return boxes


def _convert_image(root: str, line_no: int, rel: str, lname: str, label_of: dict, tol: float,
                   report: ConversionReport) -> Optional[tuple[tuple[int, int], list]]:
    """Phase 2: one list entry's ``(size, boxes)``, or ``None`` when it is skipped."""
    path = os.path.join(root, 'imgs', rel)
    if not os.path.isfile(path):
        report.skip('image', 'image file missing', file=lname, row=line_no, image=rel)
        return None
    size = image_size(path)
    if size is None:
        report.skip('image', 'unreadable image header', file=lname, row=line_no, image=rel)
        return None
    where = dict(list=lname, row=line_no)
    objects, xml_name = _read_objects(root, rel, size, where, report)
    if objects is None:
        return None
    boxes = _check_objects(objects, size, label_of, tol, report, xml_name, rel)
    if objects and not boxes:
        report.skip('image', f'all {len(objects)} box(es) skipped; not a trustworthy negative',
                    file=xml_name, image=rel, **where)
        return None
    return size, boxes


def _convert_list(root: str, list_path: str, label_of: dict, tol: float,
                  report: ConversionReport) -> dict:
    """One list file -> COCO dict: list entries, then each image, then the records."""
    lname = os.path.basename(list_path)
    images, annotations = [], []
    for line_no, rel in _list_entries(list_path, report):
        converted = _convert_image(root, line_no, rel, lname, label_of, tol, report)
        if converted is None:
            continue
        (w, h), boxes = converted
        images.append(coco_image(len(images) + 1, rel, w, h, group=rel.split('/')[0]))
        for cat, (x1, y1, x2, y2) in boxes:
            annotations.append(coco_annotation(len(annotations) + 1, len(images), cat,
                                               (x1, y1, x2 - x1, y2 - y1)))
    return dict(info=dict(description=f'TBX11K {lname} converted by anomed_mmdet',
                          image_root='imgs/'),
                images=images, annotations=annotations,
                categories=coco_categories(TBX_CLASSES, 'tuberculosis'))


def convert_tbx11k(root: str,
                   out_dir: str,
                   lists: Optional[Sequence[str]] = None,
                   *,
                   uncertain: str = 'skip',
                   clip_tolerance: float = 0.02,
                   strict: bool = False,
                   verbose: bool = True) -> dict:
    """Write ``<out_dir>/<list>.json`` for each list (default: every ``lists/*.txt``).

    ``lists`` holds names (``TBX11K_train``) or paths. The report goes to
    ``<out_dir>/conversion_report_tbx11k.json``. ``strict=True`` raises
    :class:`StrictModeError` on any skip, after writing the report and no json.
    """
    if uncertain not in ('skip', *_UNCERTAIN_MAP):
        raise ValueError(f"uncertain must be 'skip', 'active' or 'obsolete', not {uncertain!r}")
    label_of = {c: i + 1 for i, c in enumerate(TBX_CLASSES)}
    if uncertain != 'skip':
        label_of[UNCERTAIN_NAME] = label_of[_UNCERTAIN_MAP[uncertain]]
    if lists:
        paths = [p if os.path.isfile(p) else os.path.join(root, 'lists', p if p.endswith('.txt') else f'{p}.txt')
                 for p in lists]
    else:
        paths = sorted(glob.glob(os.path.join(glob.escape(root), 'lists', '*.txt')))
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing or not paths:
        raise FileNotFoundError(f'list file(s) not found: {missing or os.path.join(root, "lists", "*.txt")}')
    report = ConversionReport(dataset='TBX11K', root=root, lists=[os.path.basename(p) for p in paths],
                              classes=list(TBX_CLASSES), uncertain=uncertain, clip_tolerance=clip_tolerance)
    report_path = os.path.join(out_dir, 'conversion_report_tbx11k.json')
    cocos = {os.path.splitext(os.path.basename(p))[0]: _convert_list(root, p, label_of, clip_tolerance, report)
             for p in paths}
    summary = {name: dict(images=len(c['images']), annotations=len(c['annotations']),
                          negatives=len(c['images']) - len({a['image_id'] for a in c['annotations']}))
               for name, c in cocos.items()}
    if strict and report.skips:
        report.write(report_path, lists=summary, strict_failure=True)
        raise StrictModeError(f'--strict: {len(report.skips)} skip(s); see {report_path}')
    for name, coco in cocos.items():
        atomic_write_json(os.path.join(out_dir, f'{name}.json'), coco)
    report.write(report_path, lists=summary, skipped=len(report.skips))
    if verbose:
        for name, s in summary.items():
            print(f'{name}: {s["images"]} images ({s["negatives"]} without boxes), '
                  f'{s["annotations"]} boxes -> {os.path.join(out_dir, name + ".json")}')
        for line in report.summary_lines():
            print('  ' + line)
        print(f'  report: {report_path}')
    return dict(lists=summary, skipped=len(report.skips), report=report_path)
