"""Labelled / unlabelled SSOD splits of a COCO json, stratified so every class is labelled.

File names follow mmdet's ``tools/misc/split_coco.py``: ``<name>.<fold>@<percent>.json``
and ``<name>.<fold>@<percent>-unlabeled.json`` (percent written with ``:g``: ``10``,
``0.5``). The labelled image count is ``floor(percent / 100 * images)`` as in mmdet.

Selection (deterministic for ``(seed, fold)``; images are ordered by id first):

1. classes rarest first (by images containing them): a random image containing the class
   unless it has one already (error if the budget is smaller than the number of classes);
2. classes rarest first again: top up to ``ceil(percent / 100 * images_with_class)``
   while the budget lasts;
3. fill the budget with random remaining images (negatives included).

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

from .common import atomic_write_json

__all__ = ['SplitError', 'select_labeled', 'split_semi', 'split_names', 'format_percent']


class SplitError(ValueError):
    """The requested split cannot be made (too few images for the classes, bad percent...)."""


def format_percent(percent: float) -> str:
    """``10.0 -> '10'``, ``0.5 -> '0.5'`` (the ``@<percent>`` of the file names)."""
    return f'{percent:g}'


def split_names(name: str, fold: int, percent: float) -> tuple[str, str]:
    """File names of the labelled and unlabelled jsons."""
    tag = f'{name}.{fold}@{format_percent(percent)}'
    return f'{tag}.json', f'{tag}-unlabeled.json'


def select_labeled(coco: dict, percent: float, seed: int | Sequence[int] = 0) -> list[int]:
    """Ids of the labelled images (sorted); see the module docstring for the rule."""
    if not 0 < percent <= 100:
        raise SplitError(f'percent must be in (0, 100], not {percent}')
    ids = sorted(im['id'] for im in coco['images'])
    if not ids:
        raise SplitError('the json has no images')
    budget = int(percent / 100.0 * len(ids))
    known = set(ids)
    classes_of: dict[int, set] = defaultdict(set)
    for a in coco.get('annotations', []):
        if a['image_id'] in known:
            classes_of[a['image_id']].add(a['category_id'])
    images_of: dict[int, list] = defaultdict(list)
    for i in ids:
        for c in classes_of[i]:
            images_of[c].append(i)
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

    for c in order:  # 1. one image per class
        if have[c] == 0:
            cands = [i for i in images_of[c] if i not in chosen]
            take(cands[int(rng.integers(len(cands)))])
    for c in order:  # 2. proportional top-up
        need = math.ceil(percent / 100.0 * len(images_of[c]))
        cands = [i for i in images_of[c] if i not in chosen]
        for k in rng.permutation(len(cands)):
            if have[c] >= need or len(chosen) >= budget:
                break
            take(cands[int(k)])
    rest = [i for i in ids if i not in chosen]  # 3. random fill, negatives included
    for k in rng.permutation(len(rest))[:max(0, budget - len(chosen))]:
        take(rest[int(k)])
    return sorted(chosen)


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
            info = dict(coco.get('info', {}), semi_split=dict(
                source=os.path.basename(ann_file), fold=fold, percent=percent, seed=seed,
                labeled_images=len(labeled), total_images=len(all_ids), classes=table))
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
                              unlabeled=len(all_ids) - len(labeled), classes=table,
                              files=(lab_name, unl_name)))
            if verbose:
                print(f'{lab_name}: {len(labeled)} labelled / {len(all_ids) - len(labeled)} unlabelled images')
                width = max([len(k) for k in table] + [5])
                print(f'  {"class":<{width}}  images (of all)  boxes (of all)')
                for cname, row in table.items():
                    tot = totals[cname]
                    print(f'  {cname:<{width}}  {row["images"]:>6} ({tot["images"]:>5})  '
                          f'{row["boxes"]:>5} ({tot["boxes"]:>5})')
    return stats
