"""Precision of a teacher's confident / hesitant / scrap pseudo boxes on unlabelled images.

Runs the detector of CHECKPOINT (the teacher of a teacher-student checkpoint) over the images of
--images (e.g. the unlabelled split) and scores its boxes against the ground truth in
--gt (e.g. the full train.json of the synthetic set, which keeps every box). Thresholds are the
config's PLO t1 / t2 unless given.

Example:
    python tools/analysis_tools/pseudo_label_quality.py CONFIG work_dirs/x/iter_300.pth \
        --images data/synth_cxr/annotations/train_unlabeled.json --gt data/synth_cxr/annotations/train.json
"""
import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from anomed_mmdet.apis import init_xray_detector  # noqa: E402
from anomed_mmdet.benchmark.pseudo_labels import PseudoLabelQuality  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--images', required=True, help='COCO json listing the images to label')
    p.add_argument('--gt', required=True, help='COCO json with their ground-truth boxes')
    p.add_argument('--img-dir', help='image folder (default: <dir of --gt>/../images)')
    p.add_argument('--t1', type=float, help='confident threshold (default: the config PLO confident_thr, else 0.7)')
    p.add_argument('--t2', type=float, help='scrap threshold (default: the config PLO scrap_thr, else 0.3)')
    p.add_argument('--iou', type=float, default=0.5)
    p.add_argument('--max-images', type=int, default=0, help='0: all')
    p.add_argument('--device', default=None)
    return p.parse_args()


def main() -> None:
    a = parse_args()
    from mmengine.config import Config
    from anomed_mmdet.apis import predict_file
    cfg = Config.fromfile(a.config)
    plo = cfg.model.get('plo', {}) or {}
    t1 = a.t1 if a.t1 is not None else plo.get('confident_thr', 0.7)
    t2 = a.t2 if a.t2 is not None else plo.get('scrap_thr', 0.3)
    images = json.loads(Path(a.images).read_text())['images']
    gt = json.loads(Path(a.gt).read_text())
    img_dir = Path(a.img_dir) if a.img_dir else Path(a.gt).resolve().parent.parent / 'images'
    cat_ids = [c['id'] for c in sorted(gt['categories'], key=lambda c: c['id'])]
    label_of = {cid: k for k, cid in enumerate(cat_ids)}
    boxes = {}
    for ann in gt['annotations']:
        x, y, w, h = ann['bbox']
        boxes.setdefault(ann['image_id'], []).append(([x, y, x + w, y + h], label_of[ann['category_id']]))
    model = init_xray_detector(cfg, a.checkpoint, device=a.device)
    classes = list(model.dataset_meta['classes'])
    quality = PseudoLabelQuality(classes, t1, t2, a.iou)
    if a.max_images:
        images = images[:a.max_images]
    for im in images:
        rec, _ = predict_file(model, img_dir / im['file_name'], score_thr=0.0)
        dets = rec['detections']
        g = boxes.get(im['id'], [])
        quality.add([d['bbox'] for d in dets], [d['score'] for d in dets], [d['label'] for d in dets],
                    [b for b, _ in g], [k for _, k in g])
    print(f'{len(images)} images, t1 {t1}, t2 {t2}, IoU {a.iou}; {a.checkpoint}')
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
