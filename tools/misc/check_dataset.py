"""Report every problem of a COCO detection json and its image folder, in one pass.

Each image is decoded in full (as training would) unless --level says otherwise. Exits 1 when
anything is wrong, 0 otherwise; images without boxes are negatives, counted, not problems.

Example: python tools/misc/check_dataset.py data/synth_cxr/annotations/train.json data/synth_cxr/images
"""
import argparse
import sys
from typing import List, Optional

from anomed_mmdet.datasets.data_checks import (IMAGE_LEVELS, BadDataError, Report, check_coco,
                                               load_coco_json)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('ann_json', help='COCO annotation file')
    p.add_argument('img_dir', help='folder that the file_name entries are relative to')
    p.add_argument('--level', choices=IMAGE_LEVELS, default='decode',
                   help='image check: decode (default, full decode), header, exists or none')
    p.add_argument('--max-print', type=int, default=200, help='problems printed one a line (all are counted)')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    return p.parse_args(argv)


def summary_table(report: Report) -> str:
    rows = [('images', report.num_images), ('  without boxes (negatives, kept)', report.num_negatives),
            ('annotations', report.num_annotations)]
    rows += [(f'problem: {kind}', n) for kind, n in sorted(report.counts().items())]
    rows += [('images with a problem', len(report.bad_image_ids)), ('problems', len(report.problems))]
    width = max(len(name) for name, _ in rows)
    line = '+' + '-' * (width + 2) + '+' + '-' * 10 + '+'
    body = [f'| {name:<{width}} | {n:>8} |' for name, n in rows]
    return '\n'.join([line, f'| {"":<{width}} | {"count":>8} |', line, *body, line])


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        data = load_coco_json(args.ann_json)
    except BadDataError as e:
        print(f'problem: {e}')
        return 1
    progress = None
    if not args.no_progress:
        from tqdm import tqdm

        def progress(items, total):
            return tqdm(items, total=total, desc=f'checking images ({args.level})', unit='img')
    report = check_coco(data, args.ann_json, args.img_dir, args.level, progress=progress)
    for p in report.problems[:args.max_print]:
        print(f'[{p.kind}] {p}')
    if len(report.problems) > args.max_print:
        print(f'... {len(report.problems) - args.max_print} more (--max-print)')
    print(summary_table(report))
    print('OK: no problem found' if not report.problems else
          f'FAILED: {len(report.problems)} problem(s) in {args.ann_json}')
    return 1 if report.problems else 0


if __name__ == '__main__':
    sys.exit(main())
