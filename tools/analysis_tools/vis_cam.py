"""Activation maps of the neck outputs of one or more detectors, one PNG panel per image.

Each panel is one row, like the paper's ``effect_of_modules`` figure: the image with its ground
truth boxes (when ``--ann-file`` is given), then for every ``--model CONFIG CHECKPOINT`` its
activation map (mean |feature| over channels of the neck outputs, averaged over levels;
``anomed_mmdet/apis/activation_maps.py``) with its detections. Teacher-student checkpoints
(AnoMed, Mean Teacher, Soft Teacher) are shown through their teacher (``--branch``).

    python tools/analysis_tools/vis_cam.py data/synth_cxr/images/000003.png \\
        --model configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py sup.pth \\
        --model configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_semi-0.1-synth-cxr.py anomed.pth \\
        --title baseline AnoMed --ann-file data/synth_cxr/annotations/train.json --out-dir outputs/cam
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

import mmcv

from anomed_mmdet.apis import collect_inputs, init_xray_detector, read_image
from anomed_mmdet.apis.activation_maps import make_panel, model_column
from anomed_mmdet.apis.inference import ImageReadError


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Activation-map panels of detectors on images / DICOM files')
    parser.add_argument('inputs', nargs='+', help='image or DICOM files, or folders of them')
    parser.add_argument('--model', nargs=2, action='append', required=True, metavar=('CONFIG', 'CHECKPOINT'),
                        help='a config and its checkpoint; repeat for more models (one column each)')
    parser.add_argument('--title', nargs='+', help='column titles, one per --model (default: config names)')
    parser.add_argument('--ann-file', help='COCO json with the ground truth (images matched by file name)')
    parser.add_argument('--out-dir', default='outputs/vis_cam', help='where the PNG panels go')
    parser.add_argument('--score-thr', type=float, default=0.3, help='draw detections scoring at least this')
    parser.add_argument('--levels', type=int, nargs='+', help='neck levels to average (default: all)')
    parser.add_argument('--branch', choices=['teacher', 'student'], default='teacher',
                        help='branch of teacher-student checkpoints')
    parser.add_argument('--device', default=None, help='e.g. cpu, cuda:0 (default: cuda:0 if available)')
    parser.add_argument('--recursive', action='store_true', help='also read sub-folders')
    args = parser.parse_args(argv)
    if args.title and len(args.title) != len(args.model):
        parser.error(f'--title gives {len(args.title)} titles for {len(args.model)} models')
    return args


def load_ground_truth(ann_file: str) -> Dict[str, List[dict]]:
    """Boxes per image file name (and per name without its ending), as detection dicts."""
    with open(ann_file) as f:
        coco = json.load(f)
    cats = {c['id']: (i, c['name']) for i, c in enumerate(coco['categories'])}
    by_id: Dict[int, List[dict]] = {img['id']: [] for img in coco['images']}
    for ann in coco.get('annotations', []):
        if ann['image_id'] in by_id and ann['category_id'] in cats:
            x, y, w, h = ann['bbox']
            label, name = cats[ann['category_id']]
            by_id[ann['image_id']].append(dict(bbox=[x, y, x + w, y + h], score=1.0, label=label,
                                               **{'class': f'GT {name}'}))
    out: Dict[str, List[dict]] = {}
    for img in coco['images']:
        name = Path(img['file_name']).name
        out[name] = by_id[img['id']]
        out.setdefault(Path(name).stem, by_id[img['id']])
    return out


def ground_truth_for(path: Path, gt: Optional[Dict[str, List[dict]]]) -> Optional[List[dict]]:
    if gt is None:
        return None
    return gt.get(path.name, gt.get(path.stem, []))


def main(argv=None) -> int:
    args = parse_args(argv)
    gt = load_ground_truth(args.ann_file) if args.ann_file else None
    models = [init_xray_detector(cfg, ckpt, device=args.device, branch=args.branch) for cfg, ckpt in args.model]
    titles = args.title or [Path(cfg).stem + (f' ({m.loaded_branch})' if m.loaded_branch else '')
                            for (cfg, _), m in zip(args.model, models)]
    files, errors = collect_inputs(args.inputs, args.recursive)
    for err in errors:
        print(f'error: {err["error"]}', file=sys.stderr)
    out_dir = Path(args.out_dir)
    written = 0
    for path, name in files:
        try:
            img = read_image(path)
        except ImageReadError as e:
            print(f'error: {e}', file=sys.stderr)
            errors.append(dict(file=str(path), error=str(e)))
            continue
        columns = [model_column(m, img, t, args.score_thr, args.levels) for m, t in zip(models, titles)]
        panel = make_panel(img, ground_truth_for(path, gt), columns, models[0].dataset_meta.get('palette'))
        mmcv.imwrite(panel, str(out_dir / f'{name}.png'))
        written += 1
        print(f'{path} -> {out_dir / (name + ".png")}')
    print(f'{written} panel(s) in {out_dir}; {len(errors)} input error(s)')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
