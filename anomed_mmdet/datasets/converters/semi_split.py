"""Labelled / unlabelled SSOD splits of a COCO json, stratified so every class is labelled.

File names follow mmdet's ``tools/misc/split_coco.py``: ``<name>.<fold>@<percent>.json``
and ``<name>.<fold>@<percent>-unlabeled.json`` (percent written with ``:g``: ``10``,
``0.5``). The labelled image count is ``floor(percent / 100 * images)`` as in mmdet.

Selection (deterministic for ``(seed, fold)``; images are ordered by id first). Every class is
labelled, and the labelled part holds the population's share of images with findings and of
boxes, so neither the labelled nor the unlabelled part is richer in lesions than the data:

1. classes rarest first (by images containing them): a random image containing the class
   unless it has one already, drawn among its images with the fewest boxes (error if the
   budget is smaller than the number of classes);
2. images with findings, in random order, until the labelled part holds
   ``round(percent / 100 * images_with_findings)`` of them; an image whose boxes would take
   the labelled box count past ``percent / 100 * boxes`` is passed over while others fit;
3. images without findings fill the budget (then any image, when the normals run out).

``split_semi`` reports both shares next to the population's (``stats[k]['shares']``).

The unlabelled file lists the other images and, by default, no annotations (mmdet keeps
them; ``keep_unlabeled_annotations=True`` does too).
"""
from __future__ import annotations

import json
import math
import os
from collections import Counter, defaultdict
from typing import Optional, Sequence

import numpy as np

from ...utils.atomic_io import atomic_write_json

__all__ = ['SplitError', 'label_shares', 'select_labeled', 'split_semi', 'split_names', 'format_percent']


class SplitError(ValueError):
    """The requested split cannot be made (too few images for the classes, bad percent...)."""


def format_percent(percent: float) -> str:
    """``10.0 -> '10'``, ``0.5 -> '0.5'`` (the ``@<percent>`` of the file names)."""
    return f'{percent:g}'


def split_names(name: str, fold: int, percent: float) -> tuple[str, str]:
    """File names of the labelled and unlabelled jsons."""
    tag = f'{name}.{fold}@{format_percent(percent)}'
    return f'{tag}.json', f'{tag}-unlabeled.json'


def _index(coco: dict, ids: list[int]) -> tuple[dict, dict, Counter]:
    """Per image id its classes, per class its image ids (in ``ids`` order), per image id its
    number of boxes; annotations of images outside ``ids`` are left out."""
    known = set(ids)
    classes_of: dict[int, set] = defaultdict(set)
    for a in coco.get('annotations', []):
        if a['image_id'] in known:
            classes_of[a['image_id']].add(a['category_id'])
    images_of: dict[int, list] = defaultdict(list)
    for i in ids:
        for c in classes_of[i]:
            images_of[c].append(i)
    boxes_of = Counter(a['image_id'] for a in coco.get('annotations', []) if a['image_id'] in known)
    return classes_of, images_of, boxes_of


def select_labeled(coco: dict, percent: float, seed: int | Sequence[int] = 0) -> list[int]:
    """Ids of the labelled images (sorted); see the module docstring for the rule."""
    if not 0 < percent <= 100:
        raise SplitError(f'percent must be in (0, 100], not {percent}')
    ids = sorted(im['id'] for im in coco['images'])
    if not ids:
        raise SplitError('the json has no images')
    budget = int(percent / 100.0 * len(ids))
    classes_of, images_of, boxes_of = _index(coco, ids)
    order = sorted(images_of, key=lambda c: (len(images_of[c]), c))  # rarest first
    if budget < len(order):
        raise SplitError(f'{format_percent(percent)}% of {len(ids)} images is {budget} labelled image(s), '
                         f'fewer than the {len(order)} classes present; every class needs one')
    rng = np.random.default_rng(seed)
    chosen: set = set()
    have: Counter = Counter()

    def take(i: int) -> None:
        chosen.add(i)
        have.update(classes_of[i])

    for c in order:  # 1. one image per class, among its least crowded images
        if have[c] == 0:
            cands = [i for i in images_of[c] if i not in chosen]
            fewest = min(boxes_of[i] for i in cands)
            cands = [i for i in cands if boxes_of[i] == fewest]
            take(cands[int(rng.integers(len(cands)))])
    abnormal = [i for i in ids if classes_of[i]]
    want_abnormal = min(budget, max(len([i for i in chosen if classes_of[i]]),
                                    round(percent / 100.0 * len(abnormal))))
    box_cap = percent / 100.0 * sum(boxes_of.values())
    passed = []
    for k in rng.permutation(len(abnormal)):  # 2. the population's share of abnormal images
        i = abnormal[int(k)]
        if sum(1 for j in chosen if classes_of[j]) >= want_abnormal:
            break
        if i in chosen:
            continue
        if sum(boxes_of[j] for j in chosen) + boxes_of[i] > box_cap:
            passed.append(i)
            continue
        take(i)
    for i in sorted(passed, key=lambda j: boxes_of[j]):  # only when the others ran out: lightest first
        if sum(1 for j in chosen if classes_of[j]) >= want_abnormal:
            break
        take(i)
    normal = [i for i in ids if not classes_of[i]]
    rest = [normal[int(k)] for k in rng.permutation(len(normal))]
    others = [i for i in ids if i not in chosen and classes_of[i]]
    rest += [others[int(k)] for k in rng.permutation(len(others))]
    for i in rest[:max(0, budget - len(chosen))]:  # 3. normals fill the budget
        take(i)
    return sorted(chosen)


def label_shares(coco: dict, image_ids: set) -> dict:
    """Fraction of the images with findings and of the boxes that ``image_ids`` hold."""
    boxes = Counter(a['image_id'] for a in coco.get('annotations', []))
    abnormal = {i for i in boxes if boxes[i]}
    n_boxes = sum(boxes.values())
    return dict(abnormal_images=len(abnormal & image_ids) / max(1, len(abnormal)),
                boxes=sum(boxes[i] for i in image_ids) / max(1, n_boxes),
                images=len(image_ids) / max(1, len(coco['images'])))


def _class_table(coco: dict, image_ids: set) -> dict:
    names = {c['id']: c['name'] for c in coco.get('categories', [])}
    imgs: dict = defaultdict(set)
    boxes: Counter = Counter()
    for a in coco.get('annotations', []):
        if a['image_id'] in image_ids:
            imgs[a['category_id']].add(a['image_id'])
            boxes[a['category_id']] += 1
    return {names.get(c, str(c)): dict(images=len(imgs[c]), boxes=boxes[c])
            for c in sorted(set(names) | set(imgs))}


def split_semi(ann_file: str,
               out_dir: str,
               percents: Sequence[float] = (1, 2, 5, 10),
               folds: Sequence[int] = (1, 2, 3, 4, 5),
               *,
               seed: int = 0,
               name: Optional[str] = None,
               keep_unlabeled_annotations: bool = False,
               verbose: bool = True) -> list[dict]:
    """Write the labelled/unlabelled jsons for every (fold, percent); return their stats.

    The random generator of a split is seeded with ``(seed, fold, percent)``.
    """
    with open(ann_file) as f:
        coco = json.load(f)
    name = name or os.path.splitext(os.path.basename(ann_file))[0]
    all_ids = {im['id'] for im in coco['images']}
    totals = _class_table(coco, all_ids)
    stats = []
    for fold in folds:
        for percent in percents:
            seed_seq = [int(seed), int(fold), int(round(percent * 1000))]
            labeled = set(select_labeled(coco, percent, seed=seed_seq))
            lab_name, unl_name = split_names(name, fold, percent)
            table = _class_table(coco, labeled)
            shares = label_shares(coco, labeled)
            info = dict(coco.get('info', {}), semi_split=dict(
                source=os.path.basename(ann_file), fold=fold, percent=percent, seed=seed,
                labeled_images=len(labeled), total_images=len(all_ids), classes=table, shares=shares))
            base = {k: v for k, v in coco.items() if k not in ('images', 'annotations', 'info')}
            lab = dict(base, info=info, images=[im for im in coco['images'] if im['id'] in labeled],
                       annotations=[a for a in coco.get('annotations', []) if a['image_id'] in labeled])
            unl_anns = [a for a in coco.get('annotations', []) if a['image_id'] not in labeled] \
                if keep_unlabeled_annotations else []
            unl = dict(base, info=dict(coco.get('info', {})),
                       images=[im for im in coco['images'] if im['id'] not in labeled], annotations=unl_anns)
            atomic_write_json(os.path.join(out_dir, lab_name), lab)
            atomic_write_json(os.path.join(out_dir, unl_name), unl)
            stats.append(dict(fold=fold, percent=percent, labeled=len(labeled),
                              unlabeled=len(all_ids) - len(labeled), classes=table, shares=shares,
                              files=(lab_name, unl_name)))
            if verbose:
                print(f'{lab_name}: {len(labeled)} labelled / {len(all_ids) - len(labeled)} unlabelled images; '
                      f'labelled share of images {shares["images"]:.1%}, of images with findings '
                      f'{shares["abnormal_images"]:.1%}, of boxes {shares["boxes"]:.1%}')
                width = max([len(k) for k in table] + [5])
                print(f'  {"class":<{width}}  images (of all)  boxes (of all)')
                for cname, row in table.items():
                    tot = totals[cname]
                    print(f'  {cname:<{width}}  {row["images"]:>6} ({tot["images"]:>5})  '
                          f'{row["boxes"]:>5} ({tot["boxes"]:>5})')
    return stats
