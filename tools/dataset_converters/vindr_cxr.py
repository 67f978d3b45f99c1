"""Convert VinDr-CXR DICOMs + CSV annotations to PNG + COCO json (one split per run).

Examples:
  python tools/dataset_converters/vindr_cxr.py data/vindr-cxr data/vindr_png --split train \
      --preset paper5 --max-size 1024 --workers 8
  python tools/dataset_converters/vindr_cxr.py data/vinbigdata data/vinbig_png --split train \
      --csv data/vinbigdata/train.csv --preset all14 --fusion none

Writes <out>/images/<split>/<image_id>.png, <out>/annotations/<split>.json and
<out>/conversion_report_<split>.json (every skipped file or CSV row, with the reason).
"""
import argparse
import os
import sys
from typing import Optional, Sequence

from anomed_mmdet.datasets.converters.common import StrictModeError
from anomed_mmdet.datasets.converters.vindr import PRESETS, convert_vindr
from anomed_mmdet.utils.cli import exit_code


def find_csv(root: str, split: str) -> Optional[str]:
    """The PhysioNet (annotations/annotations_<split>.csv) or Kaggle (<split>.csv) CSV."""
    for cand in (os.path.join(root, 'annotations', f'annotations_{split}.csv'),
                 os.path.join(root, f'{split}.csv')):
        if os.path.isfile(cand):
            return cand
    return None


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('root', help='VinDr-CXR folder holding <split>/ with the DICOM files')
    p.add_argument('out_dir', help='output folder')
    p.add_argument('--split', default='train', help='sub-folder of root with the DICOMs (train, test)')
    p.add_argument('--csv', help='annotation CSV (default: root/annotations/annotations_<split>.csv '
                                 'or root/<split>.csv)')
    p.add_argument('--images-only', action='store_true',
                   help='no CSV: convert the images, write a json without annotations')
    p.add_argument('--image-dir', help='DICOM folder (default root/<split>)')
    g = p.add_mutually_exclusive_group()
    g.add_argument('--preset', choices=sorted(PRESETS), default=None,
                   help='paper5 (default): the 5 classes of the AnoMed paper; all14: the Kaggle 14')
    g.add_argument('--classes', nargs='+', metavar='NAME', help='explicit class list (in order)')
    p.add_argument('--fusion', choices=['wbf', 'none'], default='wbf',
                   help='wbf: fuse readers\' boxes (Weighted Boxes Fusion); none: keep every box')
    p.add_argument('--wbf-iou', type=float, default=0.4, help='WBF IoU threshold')
    p.add_argument('--max-size', type=int, default=None, help='shrink the long side to this many px')
    p.add_argument('--png-16bit', action='store_true', help='16-bit PNGs (default 8-bit)')
    p.add_argument('--voi', choices=['auto', 'window', 'minmax'], default='auto',
                   help='DICOM intensity window: VOI LUT/window from the file (auto), or min-max')
    p.add_argument('--clip-tolerance', type=float, default=0.02,
                   help='boxes beyond the image by <= this fraction of its long side are clipped, '
                        'further ones skipped')
    p.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    p.add_argument('--overwrite', action='store_true', help='re-convert images whose PNG exists')
    p.add_argument('--out-json', help='annotation json (default out_dir/annotations/<split>.json)')
    p.add_argument('--strict', action='store_true', help='exit with an error on any skip')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    csv_path = None
    if not a.images_only:
        csv_path = a.csv or find_csv(a.root, a.split)
        if csv_path is None:
            print(f'error: no CSV for split {a.split!r} under {a.root}; pass --csv or --images-only',
                  file=sys.stderr)
            return 2
    classes = a.classes or PRESETS[a.preset or 'paper5']
    return exit_code(lambda: convert_vindr(
        a.root, a.out_dir, a.split, csv_path=csv_path, image_dir=a.image_dir, classes=classes,
        fusion=a.fusion, wbf_iou=a.wbf_iou, max_size=a.max_size, png16=a.png_16bit, voi=a.voi,
        clip_tolerance=a.clip_tolerance, workers=a.workers, overwrite=a.overwrite, strict=a.strict,
        out_json=a.out_json), StrictModeError)


if __name__ == '__main__':
    sys.exit(main())
