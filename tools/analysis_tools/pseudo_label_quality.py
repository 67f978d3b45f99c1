"""What the PLO really does: precision and GT recall of its confident / hesitant / scrap boxes.

Builds the semi-supervised detector of CONFIG (AnoMed: the PLO exactly as configured, with its
alignment, calibrated thresholds, teacher Soft-NMS, dedup and caps), loads CHECKPOINT (a
teacher-student checkpoint, or a plain detector one: teacher and student both get it) and
replays the labelling of training with the teacher fixed: each step feeds one labelled image
(class prior; calibration) and a batch of unlabelled images whose teacher boxes the PLO splits.
Every box is scored against the ground truth the unlabelled images really have (--gt; the
synthetic set keeps it). The first --warmup steps only fill the PLO's running statistics.

Example (the trunk of docs/plo.md, the PLO of the ablation config):
    python tools/analysis_tools/pseudo_label_quality.py \
        configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_semi-0.1-synth-cxr.py \
        work_dirs/plo_ablation/trunk-seed0/iter_500.pth --data-root data/synth_cxr
"""
import argparse
import json
import math
from pathlib import Path
from typing import List

import torch


BUCKET_OF_GROUP = {0: 0, 1: 1, -1: 2}  # PLO group (confident, hesitant, scrap) -> table bucket


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='a semi-supervised (AnoMed) config')
    p.add_argument('checkpoint')
    p.add_argument('--data-root', default='data/synth_cxr', type=Path)
    p.add_argument('--labelled', default='annotations/train_labeled.json')
    p.add_argument('--unlabelled', default='annotations/train_unlabeled.json')
    p.add_argument('--gt', default='annotations/train.json', help='ground truth of the unlabelled images')
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--warmup', type=int, default=25, help='steps that only fill the running statistics')
    p.add_argument('--max-images', type=int, default=0, help='unlabelled images scored (0: all)')
    p.add_argument('--iou', type=float, default=0.5)
    p.add_argument('--cfg-options', nargs='+', default=[], help='key=value overrides of the config')
    return p.parse_args()


def build(a: argparse.Namespace):
    from mmdet.registry import MODELS
    from mmengine.config import Config, DictAction
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from anomed_mmdet.utils.checkpoint import allow_mmengine_checkpoints
    cfg = Config.fromfile(a.config)
    if a.cfg_options:
        ns = argparse.Namespace()
        DictAction(option_strings=[], dest='o')(None, ns, a.cfg_options)
        cfg.merge_from_dict(ns.o)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    allow_mmengine_checkpoints()
    load_checkpoint(model, a.checkpoint, map_location='cpu', logger='silent')
    model.eval()
    scale = next(t['scale'] for t in cfg.test_dataloader.dataset.pipeline if t['type'] == 'Resize')
    return cfg, model, scale


def pipeline(scale, with_gt: bool):
    from mmcv.transforms import Compose
    steps = [dict(type='LoadImageFromFile')]
    if with_gt:
        steps.append(dict(type='LoadAnnotations', with_bbox=True))
    steps += [dict(type='Resize', scale=scale, keep_ratio=True),
              dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                                    'scale_factor', 'homography_matrix'))]
    return Compose(steps)


def records(root: Path, ann: str, with_gt: bool) -> List[dict]:
    coco = json.loads((root / ann).read_text())
    label_of = {c['id']: k for k, c in enumerate(sorted(coco['categories'], key=lambda c: c['id']))}
    anns = {}
    for x in coco.get('annotations', []):
        bx, by, bw, bh = x['bbox']
        anns.setdefault(x['image_id'], []).append(dict(bbox=[bx, by, bx + bw, by + bh], bbox_label=label_of[x['category_id']],
                                                       ignore_flag=0))
    out = []
    for im in coco['images']:
        rec = dict(img_path=str(root / 'images' / im['file_name']), img_id=im['id'])
        if with_gt:
            rec['instances'] = anns.get(im['id'], [])
        out.append(rec)
    return out


def batch(model, pipe, recs):
    data = [pipe(dict(r)) for r in recs]
    return model.data_preprocessor({'inputs': [d['inputs'] for d in data],
                                    'data_samples': [d['data_samples'] for d in data]}, False)


@torch.no_grad()
def teacher_boxes(model, inputs, samples):
    """The teacher's boxes (original image frame), with the labelling NMS the PLO configures."""
    from contextlib import nullcontext
    from mmdet.models.detectors import SemiBaseDetector
    try:
        from anomed_mmdet.models.detectors.anomed import test_time_nms
        context = test_time_nms(model.teacher, getattr(model.plo, 'soft_nms', None))
    except ImportError:  # a PLO before the repair applied its Soft-NMS itself
        context = nullcontext()
    with context:
        samples, _ = SemiBaseDetector.get_pseudo_instances(model, inputs, samples)
    return [s.gt_instances for s in samples]


@torch.no_grad()
def split(plo, raw):
    """Each teacher box's PLO group and the thresholds; for a PLO without ``split`` (before the
    repair, to measure it on the same checkpoint) the group is read back from its output boxes."""
    if hasattr(plo, 'split'):
        _, groups, t1, t2 = plo.split(raw)
        return groups, t1, t2
    t1, t2 = plo.thresholds()
    pseudo, _ = plo(raw)
    groups = []
    for r, p in zip(raw, pseudo):
        g = torch.full((len(r),), -1, dtype=torch.long)
        for box, grp in zip(p.bboxes, p.plo_group):
            same = ((r.bboxes == box).all(1) & (g == -1)).nonzero()
            if len(same):
                g[same[0, 0]] = grp
        groups.append(g)
    return groups, t1, t2


def main() -> None:
    a = parse_args()
    from ssod_benchmark.pseudo_labels import PseudoLabelQuality
    cfg, model, scale = build(a)
    labelled = records(a.data_root, a.labelled, True)
    unlabelled = records(a.data_root, a.unlabelled, False)
    if a.max_images:
        unlabelled = unlabelled[:a.max_images]
    gt = {r['img_id']: r['instances'] for r in records(a.data_root, a.gt, True)}
    lab_pipe, unlab_pipe = pipeline(scale, True), pipeline(scale, False)
    cats = json.loads((a.data_root / a.gt).read_text())['categories']
    classes = [c['name'] for c in sorted(cats, key=lambda c: c['id'])]
    quality = PseudoLabelQuality(classes, 1.0, 0.0, a.iou)
    steps = [unlabelled[i:i + a.batch_size] for i in range(0, len(unlabelled), a.batch_size)]
    for step, recs in enumerate(steps[:a.warmup] + steps):
        lab = batch(model, lab_pipe, [labelled[step % len(labelled)]])
        model.plo.update_gt_distribution([s.gt_instances.labels for s in lab['data_samples']])
        if getattr(model.plo, 'needs_labelled_predictions', False):
            model.calibrate_on_labelled(lab['inputs'], lab['data_samples'])
        unlab = batch(model, unlab_pipe, recs)
        raw = teacher_boxes(model, unlab['inputs'], unlab['data_samples'])
        groups, t1, t2 = split(model.plo, raw)
        if step < a.warmup:
            continue
        for r, inst, g in zip(recs, raw, groups):
            truth = gt.get(r['img_id'], [])
            quality.add(inst.bboxes.numpy(), inst.scores.numpy(), inst.labels.numpy(),
                        [t['bbox'] for t in truth], [t['bbox_label'] for t in truth],
                        buckets=[BUCKET_OF_GROUP[int(x)] for x in g])
    print(f'{len(unlabelled)} unlabelled images after {a.warmup} warm-up steps; IoU {a.iou}; '
          f'{a.config}; {a.checkpoint}')
    print('final t1 per class: ' + ', '.join(f'{c} {float(t):.2f}' for c, t in zip(classes, t1))
          + '; t2: ' + ', '.join(f'{float(t):.2f}' for t in t2))
    print('| bucket | class | boxes | precision | GT found |')
    print('|---|---|---|---|---|')
    for r in quality.summary():
        if r['boxes'] == 0 and r['cls'] != 'all':
            continue
        prec = 'n/a' if math.isnan(r['precision']) else f'{r["precision"]:.2f}'
        rec = 'n/a' if math.isnan(r['recall']) else f'{r["recall"]:.2f}'
        print(f'| {r["bucket"]} | {r["cls"]} | {r["boxes"]} | {prec} | {rec} |')


if __name__ == '__main__':
    main()
