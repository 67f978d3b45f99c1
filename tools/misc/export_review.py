"""Export the PLO's hesitant (and optionally confident) findings on unlabelled images for review.

    python tools/misc/export_review.py CONFIG CHECKPOINT --images data/synth_cxr/annotations/train_unlabeled.json \\
        --labelled data/synth_cxr/annotations/train_labeled.json --out-dir outputs/review [--with-confident]

Writes OUT_DIR/candidates.json (COCO, candidate boxes with score and bucket), OUT_DIR/review.csv
(ranked: hesitant first, score nearest 0.5 first, rarer classes first; fill its `decision`
column) and OUT_DIR/overlays/*.png. Then tools/misc/merge_review.py. docs/review.md.
"""
import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from mmengine.config import DictAction

from anomed_mmdet.apis import init_xray_detector
from anomed_mmdet.apis.semi_to_plain import detector_state_dict, load_checkpoint_dict, load_config
from anomed_mmdet.review import ReviewError, export_review
from anomed_mmdet.review.export import build_plo


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export PLO candidates on unlabelled images for review')
    parser.add_argument('config', help='config of the checkpoint (teacher-student or plain detector)')
    parser.add_argument('checkpoint', help='checkpoint file (teacher-student: its teacher is used)')
    parser.add_argument('--images', required=True, help='COCO json of the unlabelled images')
    parser.add_argument('--img-dir', help='folder of the images (default: ../images beside the json)')
    parser.add_argument('--labelled', help='COCO json of the labelled split: class counts for the ranking')
    parser.add_argument('--out-dir', default='outputs/review', help='where the review files go')
    parser.add_argument('--with-confident', action='store_true', help='also export the confident boxes')
    parser.add_argument('--max-images', type=int, help='only the first N images of the json')
    parser.add_argument('--plo-config', help='config whose model.plo to use (default: CONFIG\'s)')
    parser.add_argument('--no-overlay', action='store_true', help='do not write PNG overlays')
    parser.add_argument('--branch', choices=['teacher', 'student'], default='teacher',
                        help='branch of teacher-student checkpoints')
    parser.add_argument('--device', default=None, help='e.g. cpu, cuda:0 (default: cuda:0 if available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings: model.plo.* go to the PLO (CONFIG or --plo-config), '
                             'the others to CONFIG, e.g. model.plo.scrap_thr=0.2')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    opts = args.cfg_options or {}
    plo_opts = {k: v for k, v in opts.items() if k.startswith('model.plo.')}
    det_opts = {k: v for k, v in opts.items() if k not in plo_opts} or None
    plo_cfg = load_config(args.plo_config or args.config)
    plo_cfg.merge_from_dict(plo_opts)
    if not plo_cfg.model.get('plo'):
        raise SystemExit(f'export_review.py: {args.plo_config or args.config} has no model.plo; pass '
                         '--plo-config with a semi-supervised (AnoMed) config')
    try:
        with open(args.images) as f:
            coco = json.load(f)
        counts = None
        if args.labelled:
            with open(args.labelled) as f:
                lab = json.load(f)
            names = {c['id']: c['name'] for c in lab['categories']}
            counts = dict(Counter(names[a['category_id']] for a in lab.get('annotations', [])))
        model = init_xray_detector(args.config, args.checkpoint, device=args.device, branch=args.branch,
                                   cfg_options=det_opts)
        state = load_checkpoint_dict(args.checkpoint)['state_dict']
        plo = build_plo(plo_cfg, state, len(model.dataset_meta['classes']))
        img_dir = Path(args.img_dir) if args.img_dir else Path(args.images).resolve().parent.parent / 'images'
        result = export_review(model, plo, coco, img_dir, Path(args.out_dir), args.with_confident, counts,
                               overlays=not args.no_overlay, max_images=args.max_images,
                               info=dict(config=str(args.config), checkpoint=str(args.checkpoint),
                                         images_json=str(args.images)))
    except (ReviewError, OSError, KeyError, ValueError, RuntimeError) as e:
        raise SystemExit(f'export_review.py: {e}') from None
    buckets = Counter(c['bucket'] for c in result['annotations'])
    print(f'{len(result["images"])} images: {buckets.get("hesitant", 0)} hesitant, '
          f'{buckets.get("confident", 0)} confident candidates -> {args.out_dir}/review.csv '
          f'(thresholds t1/t2 per class: {result["info"]["thresholds"]})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
