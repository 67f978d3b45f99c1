"""Merge a reviewed review.csv into new labelled / unlabelled COCO splits.

    python tools/misc/merge_review.py outputs/review/review.csv --candidates outputs/review/candidates.json \\
        --labelled data/synth_cxr/annotations/train_labeled.json \\
        --unlabelled data/synth_cxr/annotations/train_unlabeled.json --out-dir data/synth_cxr/annotations/review1

Decisions: accepted / corrected (edited class and x1 y1 x2 y2) / rejected / empty (not reviewed).
Images whose rows all have a decision move to the labelled split. Writes OUT_DIR/<labelled
name>, OUT_DIR/<unlabelled name> and OUT_DIR/merge_report.json, and prints the report.
docs/review.md.
"""
import argparse
import json
import sys
from pathlib import Path

from anomed_mmdet.review import ReviewError, merge_review, read_review
from anomed_mmdet.utils.atomic_io import atomic_write_json


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Merge a reviewed review.csv into the semi-supervised splits')
    parser.add_argument('review', help='the reviewed review.csv')
    parser.add_argument('--candidates', help='candidates.json of the export (default: beside the CSV)')
    parser.add_argument('--labelled', required=True, help='COCO json of the labelled split')
    parser.add_argument('--unlabelled', required=True, help='COCO json of the unlabelled split (the export\'s)')
    parser.add_argument('--out-dir', required=True, help='where the new splits go (not the input folder)')
    return parser.parse_args(argv)


def load_json(path: Path) -> dict:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ReviewError(f'{path}: cannot read it as json ({e})') from e
    if not isinstance(data, dict) or not isinstance(data.get('images'), list):
        raise ReviewError(f'{path}: not a COCO json (no images list)')
    return data


def main(argv=None) -> int:
    args = parse_args(argv)
    paths = dict(review=Path(args.review), labelled=Path(args.labelled), unlabelled=Path(args.unlabelled),
                 candidates=Path(args.candidates) if args.candidates else Path(args.review).parent / 'candidates.json')
    out = Path(args.out_dir)
    if out.resolve() in (paths['labelled'].resolve().parent, paths['unlabelled'].resolve().parent):
        raise SystemExit(f'merge_review.py: --out-dir {out} holds the input splits; choose a new folder')
    try:
        rows = read_review(paths['review'])
        lab, unl, report = merge_review(paths, load_json(paths['candidates']), load_json(paths['labelled']),
                                        load_json(paths['unlabelled']), rows)
    except (ReviewError, OSError) as e:
        raise SystemExit(f'merge_review.py: {e}') from None
    atomic_write_json(out / paths['labelled'].name, lab)
    atomic_write_json(out / paths['unlabelled'].name, unl)
    atomic_write_json(out / 'merge_report.json', report, indent=1)
    for key, value in report.items():
        print(f'{key}: {value}')
    print(f'-> {out / paths["labelled"].name}, {out / paths["unlabelled"].name}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
