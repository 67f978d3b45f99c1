"""Convert TBX11K lists + Pascal-VOC XML boxes to COCO json (one json per list).

Example:
  python tools/dataset_converters/tbx11k.py data/TBX11K data/TBX11K/coco \
      --lists TBX11K_train TBX11K_val

Images are not copied: file_name is relative to <root>/imgs. Writes <out>/<list>.json
and <out>/conversion_report_tbx11k.json (every skipped image or box, with the reason).
"""
import argparse
import sys
from typing import Optional, Sequence

from anomed_mmdet.datasets.converters.common import StrictModeError
from anomed_mmdet.datasets.converters.tbx11k import convert_tbx11k
from anomed_mmdet.utils.cli import exit_code


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('root', help='TBX11K folder (imgs/, annotations/xml/, lists/)')
    p.add_argument('out_dir', help='folder for the json files and the report')
    p.add_argument('--lists', nargs='+', metavar='LIST',
                   help='list names (TBX11K_train) or paths; default every lists/*.txt')
    p.add_argument('--uncertain', choices=['skip', 'active', 'obsolete'], default='skip',
                   help='PulmonaryTuberculosis boxes (TB type uncertain): skip and report (default), '
                        'or map to ActiveTuberculosis / ObsoletePulmonaryTuberculosis')
    p.add_argument('--clip-tolerance', type=float, default=0.02,
                   help='boxes beyond the image by <= this fraction of its long side are clipped, '
                        'further ones skipped')
    p.add_argument('--strict', action='store_true', help='exit with an error on any skip')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    return exit_code(lambda: convert_tbx11k(a.root, a.out_dir, a.lists, uncertain=a.uncertain,
                                            clip_tolerance=a.clip_tolerance, strict=a.strict),
                     StrictModeError)


if __name__ == '__main__':
    sys.exit(main())
