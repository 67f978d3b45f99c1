"""Export the PLO's hesitant (and optionally confident) boxes on unlabelled images for review.

A detector (the teacher of a teacher-student checkpoint, or a plain one) predicts on every image
of a COCO json of unlabelled images, with the teacher's labelling NMS (the PLO's ``soft_nms``
when set, as AnoMed labels); the configured :class:`PseudoLabelOptimizer` (its checkpoint
buffers loaded: calibration, alignment statistics) puts each box in a bucket. Its running
statistics are reset after every image, so the buckets do not depend on the image order.

Outputs (``out_dir``): ``candidates.json`` (COCO: the images, categories and one annotation per
candidate with ``score``, ``raw_score``, ``bucket``, ``rank``; ``info`` identifies the data set),
``review.csv`` (one row per candidate, ranked, with an empty ``decision`` column) and
``overlays/<name>.png``.
"""
import copy
import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch import nn

from ..models.plo.pseudo_label_optimizer import CONFIDENT, HESITANT, PseudoLabelOptimizer
from ..utils.atomic_io import atomic_write_json, atomic_write_text

CSV_FIELDS = ('rank', 'candidate_id', 'image_id', 'file_name', 'bucket', 'score', 'class',
              'x1', 'y1', 'x2', 'y2', 'decision', 'note')
BUCKETS = {CONFIDENT: 'confident', HESITANT: 'hesitant'}
#: overlay colours (RGB): confident green, hesitant orange
PALETTE = ((0, 190, 0), (255, 140, 0))


class ReviewError(ValueError):
    """Bad review input; the message names the file and the offending value."""


def images_fingerprint(images: Sequence[Dict[str, Any]]) -> str:
    """SHA-256 of the ``(id, file_name)`` pairs of a COCO ``images`` list (order-free)."""
    pairs = sorted((int(img['id']), str(img['file_name'])) for img in images)
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


def build_plo(cfg: Config, state_dict: Dict[str, torch.Tensor], num_classes: int) -> PseudoLabelOptimizer:
    """The config's ``model.plo`` with the checkpoint's ``plo.*`` buffers (if any) loaded."""
    from mmdet.registry import MODELS
    plo_cfg = dict(cfg.model.get('plo') or {})
    plo_cfg.pop('hesitant', None)  # the detector's hesitant losses, not the PLO's
    plo_cfg.setdefault('type', 'PseudoLabelOptimizer')
    plo_cfg.setdefault('num_classes', num_classes)
    plo = MODELS.build(plo_cfg)
    own = {k[len('plo.'):]: v for k, v in state_dict.items() if k.startswith('plo.')}
    if own:
        plo.load_state_dict(own, strict=True)
    return plo.eval()


@torch.no_grad()
def teacher_instances(model: nn.Module, img: np.ndarray, pipeline, nms: Optional[dict]) -> InstanceData:
    """The detector's boxes on ``img`` (its frame), with ``nms`` in place of its own NMS."""
    from mmdet.apis import inference_detector
    from ..models.detectors.anomed import test_time_nms
    with test_time_nms(model, nms):
        pred = inference_detector(model, img, test_pipeline=pipeline).pred_instances
    return InstanceData(bboxes=pred.bboxes.cpu(), scores=pred.scores.cpu(), labels=pred.labels.long().cpu())


def split_boxes(plo: PseudoLabelOptimizer, inst: InstanceData) -> List[Dict[str, Any]]:
    """Non-scrap boxes with their aligned score and bucket; the PLO's statistics left as found."""
    state = copy.deepcopy(plo.state_dict())
    scores, groups, _, _ = plo.split([inst])
    plo.load_state_dict(state)
    out = []
    for i in torch.nonzero(groups[0] != -1).squeeze(1).tolist():
        out.append(dict(bbox=[float(v) for v in inst.bboxes[i]], label=int(inst.labels[i]),
                        score=float(scores[0][i]), raw_score=float(inst.scores[i]),
                        bucket=BUCKETS[int(groups[0][i])]))
    return out


def rank_key(cand: Dict[str, Any], class_counts: Dict[str, int]):
    """Hesitant first; then score nearest 0.5 (in steps of 0.05); then the class with fewer
    labelled boxes; then image and candidate id."""
    return (cand['bucket'] != 'hesitant', round(abs(cand['score'] - 0.5) / 0.05),
            class_counts.get(cand['class'], 0), cand['image_id'], cand['id'])


def review_rows(candidates: List[Dict[str, Any]], file_names: Dict[int, str]) -> str:
    """The CSV text, one row per candidate in rank order."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator='\n')
    writer.writeheader()
    for c in sorted(candidates, key=lambda c: c['rank']):
        x, y, w, h = c['bbox']
        writer.writerow(dict(rank=c['rank'], candidate_id=c['id'], image_id=c['image_id'],
                             file_name=file_names[c['image_id']], bucket=c['bucket'], score=c['score'],
                             x1=x, y1=y, x2=round(x + w, 2), y2=round(y + h, 2), decision='', note='',
                             **{'class': c['class']}))
    return buf.getvalue()


def _read_checked(img_dir: Path, img_info: Dict[str, Any]) -> np.ndarray:
    from ..apis.inference import read_image
    path = Path(img_dir) / img_info['file_name']
    img = read_image(path)
    if img.shape[:2] != (img_info['height'], img_info['width']):
        raise ReviewError(f'{path}: {img.shape[1]}x{img.shape[0]} px, the images json says '
                          f'{img_info["width"]}x{img_info["height"]}')
    return img


def _as_candidate(box: Dict[str, Any], cid: int, image_id: int, cls: str, cat_id: int) -> Dict[str, Any]:
    """A COCO annotation (xywh) of one PLO box, with its score, bucket and class name."""
    x1, y1, x2, y2 = (round(v, 2) for v in box['bbox'])
    return dict(id=cid, image_id=image_id, category_id=cat_id, bbox=[x1, y1, round(x2 - x1, 2), round(y2 - y1, 2)],
                area=round((x2 - x1) * (y2 - y1), 2), iscrowd=0, score=round(box['score'], 4),
                raw_score=round(box['raw_score'], 4), bucket=box['bucket'], **{'class': cls})


def _write_overlay(img: np.ndarray, cands: List[Dict[str, Any]], path: Path) -> None:
    import mmcv
    from ..apis.inference import draw_detections
    dets = [dict(bbox=[x, y, x + w, y + h], score=c['score'], label=int(c['bucket'] == 'hesitant'),
                 **{'class': f'#{c["id"]} {c["class"]} {c["bucket"][0].upper()}'})
            for c in cands for x, y, w, h in [c['bbox']]]
    mmcv.imwrite(draw_detections(img, dets, PALETTE), str(path))


def export_review(model: nn.Module, plo: PseudoLabelOptimizer, coco: Dict[str, Any], img_dir: Path,
                  out_dir: Path, with_confident: bool = False, class_counts: Optional[Dict[str, int]] = None,
                  overlays: bool = True, info: Optional[Dict[str, Any]] = None, max_images: Optional[int] = None,
                  log=print) -> Dict[str, Any]:
    """Run ``model`` + ``plo`` on the images of ``coco`` (the first ``max_images``) and write the
    review files (module doc). ``class_counts``: labelled boxes per class name (rarer ranks first).

    Returns the content of ``candidates.json``.
    """
    from ..apis.inference import build_test_pipeline

    classes = list(model.dataset_meta['classes'])
    cat_of = {c['name']: c['id'] for c in coco['categories']}
    missing = [c for c in classes if c not in cat_of]
    if missing:
        raise ReviewError(f'the model\'s classes {missing} are not categories of the images json '
                          f'({sorted(cat_of)})')
    pipeline = build_test_pipeline(model.cfg)
    candidates: List[Dict[str, Any]] = []
    images = coco['images'][:max_images] if max_images is not None else coco['images']
    for img_info in images:
        img = _read_checked(img_dir, img_info)
        boxes = split_boxes(plo, teacher_instances(model, img, pipeline, plo.soft_nms))
        new = [_as_candidate(b, len(candidates) + k + 1, img_info['id'], classes[b['label']],
                             cat_of[classes[b['label']]])
               for k, b in enumerate(b for b in boxes if with_confident or b['bucket'] == 'hesitant')]
        candidates += new
        if overlays and new:
            _write_overlay(img, new, Path(out_dir) / 'overlays' / (Path(img_info['file_name']).stem + '.png'))
        log(f'{img_info["file_name"]}: {sum(c["bucket"] == "hesitant" for c in new)} hesitant, '
            f'{sum(c["bucket"] == "confident" for c in new)} confident')
    for rank, c in enumerate(sorted(candidates, key=lambda c: rank_key(c, class_counts or {})), 1):
        c['rank'] = rank
    t1, t2 = plo.thresholds()
    result = dict(info=dict(description='AnoMed-MMDet review candidates', **(info or {}),
                            images_fingerprint=images_fingerprint(coco['images']),
                            with_confident=with_confident,
                            thresholds={c: [round(float(t1[i]), 4), round(float(t2[i]), 4)]
                                        for i, c in enumerate(classes)}),
                  images=images, categories=coco['categories'], annotations=candidates)
    atomic_write_json(Path(out_dir) / 'candidates.json', result, indent=1)
    atomic_write_text(review_rows(candidates, {i['id']: i['file_name'] for i in images}),
                      Path(out_dir) / 'review.csv')
    return result
