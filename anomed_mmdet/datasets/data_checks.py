"""Checks of a COCO detection json and its images, shared by the data sets and check_dataset.py.

Each problem names the json, the entry (image id and file, or annotation id) and what is wrong.
Kinds, and whether ``on_bad_data='skip'`` can drop the image concerned:

================== ====================================================== ==========
kind               meaning                                                skippable
================== ====================================================== ==========
not_coco           not json / not a COCO detection dict                   no
bad_category       a category that is not a dict with an integer id and
                   a string name; a category id or name used twice        no
duplicate_id       two images or two annotations with one id              no
bad_image_entry    an image that is not a dict / has no integer id (no);
                   without file_name / positive integer width, height     yes
missing_image      the image file does not exist                          yes
corrupt_image      empty, unknown magic for its suffix, truncated (no PNG
                   IEND / JPEG EOI), or (``level='decode'``) not decodable  yes
image_size         the file's size differs from the json's width/height   yes
bad_annotation     an annotation without integer id / category_id, without
                   image_id / area, or a bbox that is not 4 finite
                   numbers (an entry that is not a dict: no)              yes
zero_area_box      width, height or area <= 0                             yes
box_outside        the box leaves the image by more than 1 px             yes
unknown_category   category_id not among the json's categories            yes
orphan_annotation  image_id not an integer among the json's image ids     yes (dropped)
================== ====================================================== ==========

Images without annotations are negatives, not problems: they are counted.
"""
import json
import math
import os.path as osp
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

BOX_TOLERANCE = 1.0  # px a box may leave the image (rounding in exported annotations)
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
JPEG_MAGIC = b'\xff\xd8\xff'
IMAGE_LEVELS = ('none', 'exists', 'header', 'decode')
ON_BAD_DATA = ('error', 'skip')


class BadDataError(ValueError):
    """A data set whose annotation file or images are not usable as they are."""


def check_choice(name: str, value: str, choices) -> None:
    """Raise ``ValueError`` naming ``name`` when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


@dataclass(frozen=True)
class Problem:
    """One problem of one entry of ``ann_file``."""

    kind: str
    ann_file: str
    entry: str
    detail: str
    image_id: Optional[int] = None  # the image that 'skip' drops; None: a file-level problem
    skippable: bool = True

    def __str__(self) -> str:
        return f'{self.ann_file}: {self.entry}: {self.detail}'


@dataclass
class Report:
    """What :func:`check_coco` found."""

    ann_file: str
    num_images: int = 0
    num_annotations: int = 0
    num_negatives: int = 0  # images without any annotation (kept)
    problems: List[Problem] = field(default_factory=list)

    @property
    def bad_image_ids(self) -> set:
        return {p.image_id for p in self.problems if p.image_id is not None}

    @property
    def fatal(self) -> List[Problem]:
        return [p for p in self.problems if not p.skippable]

    def counts(self) -> Dict[str, int]:
        return dict(Counter(p.kind for p in self.problems))

    def describe(self, limit: int = 20) -> str:
        """The problems (the first ``limit``), one a line, then the count by kind."""
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f'... and {len(self.problems) - limit} more')
        lines.append('by kind: ' + ', '.join(f'{k} {n}' for k, n in sorted(self.counts().items())))
        return '\n'.join(lines)


def load_coco_json(ann_file: str, local_path: Optional[str] = None) -> dict:
    """Read ``ann_file`` (from ``local_path`` if given) and check it is a COCO detection dict.

    Raises:
        BadDataError: not json, or not a dict with lists ``images`` and ``categories``
            (``annotations``, when present, a list too).
    """
    try:
        with open(local_path or ann_file, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, bad UTF-8,
        # integers past Python's digit limit; RecursionError: arrays / objects nested too deep
        raise BadDataError(f'{ann_file}: not a readable json file ({type(e).__name__}: {e})') from e
    if not isinstance(data, dict):
        raise BadDataError(f'{ann_file}: not a COCO annotation file (the top level is a '
                           f'{type(data).__name__}, expected a dict with images, annotations, categories)')
    for key in ('images', 'categories'):
        if not isinstance(data.get(key), list):
            raise BadDataError(f'{ann_file}: not a COCO annotation file (no list "{key}"; keys: '
                               f'{sorted(data)[:10]})')
    if not isinstance(data.get('annotations', []), list):
        raise BadDataError(f'{ann_file}: not a COCO annotation file ("annotations" is not a list)')
    return data


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v) -> bool:
    """An integer id (``True`` is not one; a list or dict would not even hash)."""
    return isinstance(v, int) and not isinstance(v, bool)


def png_header(head: bytes) -> Optional[Tuple[int, int, int]]:
    """``(width, height, bit_depth)`` from a PNG's first 26 bytes, ``None`` when not a PNG."""
    if len(head) < 26 or not head.startswith(PNG_MAGIC) or head[12:16] != b'IHDR':
        return None
    w, h = struct.unpack('>II', head[16:24])
    return int(w), int(h), int(head[24])


def check_image_file(path: str, width: Optional[int] = None, height: Optional[int] = None,
                     level: str = 'header') -> Optional[Tuple[str, str]]:
    """``(kind, detail)`` of what is wrong with one image file, or ``None``.

    ``level``: ``'exists'`` (a stat), ``'header'`` (reads the first 32 and last 16 bytes: PNG /
    JPEG magic, PNG size against ``width`` / ``height``, PNG IEND / JPEG EOI trailer, i.e. not
    truncated), ``'decode'`` (header, then a full decode with mmcv as training does). Formats
    other than PNG and JPEG are only checked for existence and non-zero size below ``'decode'``.
    """
    if level == 'none':
        return None
    if not osp.isfile(path):
        return 'missing_image', f'file {path} not found'
    if level == 'exists':
        return None
    size = osp.getsize(path)
    if size == 0:
        return 'corrupt_image', f'file {path} is empty'
    with open(path, 'rb') as f:
        head = f.read(32)
        f.seek(max(0, size - 16))
        tail = f.read(16)
    suffix = osp.splitext(path)[1].lower()
    if suffix == '.png' or head.startswith(PNG_MAGIC):
        info = png_header(head)
        if info is None:
            return 'corrupt_image', f'{path} is not a PNG (bad signature)'
        w, h, _ = info
        if width is not None and height is not None and (w, h) != (width, height):
            return 'image_size', f'{path} is {w}x{h}, the json says {width}x{height}'
        if b'IEND' not in tail:
            return 'corrupt_image', f'{path} is truncated (no PNG IEND chunk at its end)'
    elif suffix in ('.jpg', '.jpeg') or head.startswith(JPEG_MAGIC):
        if not head.startswith(JPEG_MAGIC):
            return 'corrupt_image', f'{path} is not a JPEG (bad signature)'
        if b'\xff\xd9' not in tail:
            return 'corrupt_image', f'{path} is truncated (no JPEG end-of-image marker at its end)'
    if level == 'decode':
        return _decode(path, width, height)
    return None


def _decode(path: str, width: Optional[int], height: Optional[int]) -> Optional[Tuple[str, str]]:
    import mmcv
    try:
        with open(path, 'rb') as f:
            img = mmcv.imfrombytes(f.read(), flag='unchanged')
    except Exception as e:  # noqa: BLE001 - any decoder failure is "corrupt"
        return 'corrupt_image', f'{path} cannot be decoded ({type(e).__name__}: {e})'
    if img is None:
        return 'corrupt_image', f'{path} cannot be decoded'
    h, w = img.shape[:2]
    if width is not None and height is not None and (w, h) != (width, height):
        return 'image_size', f'{path} decodes to {w}x{h}, the json says {width}x{height}'
    return None


def _check_box(ann: dict, img: dict) -> Optional[Tuple[str, str]]:
    missing = [k for k in ('id', 'image_id', 'category_id', 'bbox', 'area') if k not in ann]
    if missing:
        return 'bad_annotation', f'missing key(s) {missing}'
    not_int = [k for k in ('id', 'category_id') if not _int(ann[k])]
    if not_int:
        return 'bad_annotation', f'{" and ".join(not_int)} not an integer: ' + \
            ', '.join(f'{k}={ann[k]!r:.40}' for k in not_int)
    box = ann['bbox']
    if not (isinstance(box, (list, tuple)) and len(box) == 4 and all(_number(v) for v in box)):
        return 'bad_annotation', f'bbox {box!r} is not 4 finite numbers [x, y, w, h]'
    x, y, w, h = box
    if w <= 0 or h <= 0 or not _number(ann['area']) or ann['area'] <= 0:
        return 'zero_area_box', f'zero-area box [x, y, w, h]={box}, area={ann["area"]}'
    W, H = img.get('width'), img.get('height')
    if _number(W) and _number(H):
        t = BOX_TOLERANCE
        if x < -t or y < -t or x + w > W + t or y + h > H + t:
            return 'box_outside', f'box [x, y, w, h]={box} leaves the {W}x{H} image'
    return None


def check_coco(data: dict, ann_file: str, img_dir: str = '', image_level: str = 'header',
               progress: Optional[Iterable] = None) -> Report:
    """Every problem of a COCO detection dict (see the module docstring) and its images.

    Args:
        data: the json, as :func:`load_coco_json` returns it.
        ann_file: its name, for the messages.
        img_dir: folder that ``file_name`` is relative to.
        image_level: one of ``IMAGE_LEVELS`` (see :func:`check_image_file`).
        progress: a wrapper for the image loop, e.g. ``tqdm`` (``progress(iterable, total=n)``).
    """
    if image_level not in IMAGE_LEVELS:
        raise ValueError(f'image_level must be one of {IMAGE_LEVELS}, got {image_level!r}')
    report = Report(ann_file)
    images = _check_image_entries(data['images'], report)
    categories = _check_categories(data['categories'], report)
    report.num_images = len(images)
    anns_per_image = _check_annotations(data.get('annotations', []), images, categories, report)
    items = images.items()
    if progress is not None:
        items = progress(items, total=len(images))
    for img_id, img in items:
        if anns_per_image[img_id] == 0:
            report.num_negatives += 1
        _check_image(img_id, img, img_dir, image_level, report)
    return report


def _check_image_entries(entries: list, report: Report) -> Dict[int, dict]:
    """The image entries by id; entries without a usable id, and repeated ids, are problems."""
    ann_file, add = report.ann_file, report.problems.append
    images: Dict[int, dict] = {}
    for i, img in enumerate(entries):
        img_id = img.get('id') if isinstance(img, dict) else None
        if not isinstance(img, dict) or not _int(img_id):
            add(Problem('bad_image_entry', ann_file, f'images[{i}]',
                        'not a dict' if not isinstance(img, dict) else
                        'no "id"' if img_id is None else f'"id" {img_id!r:.40} is not an integer',
                        skippable=False))
            continue
        if img_id in images:
            add(Problem('duplicate_id', ann_file, f'image id {img_id}', 'appears twice in "images"',
                        skippable=False))
            continue
        images[img_id] = img
    return images


def _check_categories(entries: list, report: Report) -> set:
    """The category ids; entries mmdet cannot index are problems."""
    categories, cat_names = set(), set()
    for i, cat in enumerate(entries):
        # mmdet maps class names to category ids: an entry it cannot index, or a repeated
        # name (two ids for one class: the second gets the next class's label) is fatal
        cid, name = (cat.get('id'), cat.get('name')) if isinstance(cat, dict) else (None, None)
        why = ('not a dict with an integer "id" and a string "name"' if not (_int(cid) and isinstance(name, str))
               else f'id {cid} appears twice' if cid in categories
               else f'name {name!r} appears twice' if name in cat_names else None)
        if why:
            report.problems.append(Problem('bad_category', report.ann_file, f'categories[{i}]', why,
                                           skippable=False))
        if _int(cid):
            categories.add(cid)
        if isinstance(name, str):
            cat_names.add(name)
    return categories


def _check_annotations(entries: list, images: Dict[int, dict], categories: set,
                       report: Report) -> Counter:
    """Problems of the annotations; returns the number of annotations per image id."""
    ann_file, add = report.ann_file, report.problems.append
    anns_per_image: Counter = Counter()
    seen_ann_ids = set()
    for i, ann in enumerate(entries):
        if not isinstance(ann, dict):
            add(Problem('bad_annotation', ann_file, f'annotations[{i}]', 'not a dict', skippable=False))
            continue
        ann_id, img_id = ann.get('id'), ann.get('image_id')
        entry = f'annotation id {ann_id!r:.40} (image id {img_id!r:.40})'
        report.num_annotations += 1
        if _int(ann_id):
            if ann_id in seen_ann_ids:
                add(Problem('duplicate_id', ann_file, entry, 'annotation id appears twice', skippable=False))
            seen_ann_ids.add(ann_id)
        if not _int(img_id) or img_id not in images:
            add(Problem('orphan_annotation', ann_file, entry, f'image id {img_id!r:.40} is not in "images"'))
            continue
        anns_per_image[img_id] += 1
        img = images[img_id]
        entry = f'annotation id {ann_id} (image id {img_id}, {img.get("file_name")})'
        found = _check_box(ann, img)
        if found is None and ann['category_id'] not in categories:
            found = ('unknown_category', f'category_id {ann["category_id"]} is not in "categories" '
                                         f'(ids {sorted(categories)})')
        if found is not None:
            add(Problem(found[0], ann_file, entry, found[1], image_id=img_id))
    return anns_per_image


def _check_image(img_id: int, img: dict, img_dir: str, image_level: str, report: Report) -> None:
    """Problems of one image entry and its file."""
    entry = f'image id {img_id} ({img.get("file_name")!s:.200})'
    w, h, name = img.get('width'), img.get('height'), img.get('file_name')
    if not isinstance(name, str) or not name or not (_int(w) and _int(h) and w > 0 and h > 0):
        report.problems.append(Problem(
            'bad_image_entry', report.ann_file, entry,
            f'needs a file_name and positive integer width / height, got {name!r}, {w!r}, {h!r}',
            image_id=img_id))
        return
    found = check_image_file(osp.join(img_dir, name), w, h, image_level)
    if found is not None:
        report.problems.append(Problem(found[0], report.ann_file, entry, found[1], image_id=img_id))
