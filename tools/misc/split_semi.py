"""Split a COCO json into labelled / unlabelled parts for semi-supervised detection.

Every class present keeps at least one labelled image (rarest classes first); the labelled
part holds the population's share of images with findings and of boxes; images without
findings fill the rest. The printout gives both shares.
Names as mmdet's tools/misc/split_coco.py: <name>.<fold>@<percent>.json and
<name>.<fold>@<percent>-unlabeled.json.

Example:
  python tools/misc/split_semi.py data/vindr_png/annotations/train.json \
      --out-dir data/vindr_png/semi_anns --labeled-percent 1 5 10 --fold 5
"""
import argparse
import sys
from typing import Optional, Sequence

from anomed_mmdet.datasets.converters.semi_split import SplitError, split_semi


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('ann_file', help='COCO json to split (e.g. annotations/train.json)')
    p.add_argument('--out-dir', required=True, help='folder for the split jsons')
    p.add_argument('--labeled-percent', type=float, nargs='+', default=[1, 2, 5, 10],
                   help='percent(s) of images that are labelled')
    p.add_argument('--fold', type=int, default=5, help='number of folds: writes folds 1..FOLD')
    p.add_argument('--folds', type=int, nargs='+', help='explicit fold numbers (overrides --fold)')
    p.add_argument('--seed', type=int, default=0, help='base seed (each split uses seed, fold, percent)')
    p.add_argument('--name', help='file name stem (default: that of ann_file)')
    p.add_argument('--keep-unlabeled-annotations', action='store_true',
                   help='keep the boxes of unlabelled images in the -unlabeled json (as mmdet does)')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    folds = a.folds or list(range(1, a.fold + 1))
    try:
        split_semi(a.ann_file, a.out_dir, a.labeled_percent, folds, seed=a.seed, name=a.name,
                   keep_unlabeled_annotations=a.keep_unlabeled_annotations)
    except SplitError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
