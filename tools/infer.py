"""Detect lesions on images, DICOM files or folders with a trained model.

    python tools/infer.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir outputs/infer

CONFIG may be a teacher-student config (AnoMed, ...) or a plain detector config; CHECKPOINT
a teacher-student checkpoint (the teacher is used; --branch student for the student) or a
plain detector's. Folders are read for png/jpg/jpeg/bmp/tif/tiff/dcm/dicom/dic files.
Writes OUT_DIR/preds/<name>.json per image (boxes x1,y1,x2,y2 in the input's pixels, class,
score), OUT_DIR/vis/<name>.png overlays (unless --no-overlay) and OUT_DIR/results.json.
An unreadable input is reported and skipped; the exit status is then 1.
"""
import argparse
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Detect on images / DICOM files / folders')
    parser.add_argument('config', help='config file (teacher-student or plain detector)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('inputs', nargs='+', help='image or DICOM files, or folders of them')
    parser.add_argument('--out-dir', default='outputs/infer', help='where preds/, vis/ and results.json go')
    parser.add_argument('--score-thr', type=float, default=0.3, help='keep boxes scoring at least this')
    parser.add_argument('--no-overlay', action='store_true', help='do not write PNG overlays')
    parser.add_argument('--device', default=None, help='e.g. cpu, cuda:0 (default: cuda:0 if available, else cpu)')
    parser.add_argument('--branch', choices=['teacher', 'student'], default='teacher',
                        help='which detector of a teacher-student checkpoint to run')
    parser.add_argument('--recursive', action='store_true', help='also read sub-folders')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value (xxx=yyy format)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from anomed_mmdet.apis import init_xray_detector, run_inference

    model = init_xray_detector(args.config, args.checkpoint, device=args.device,
                               branch=args.branch, cfg_options=args.cfg_options)
    summary = run_inference(model, args.inputs, args.out_dir, score_thr=args.score_thr,
                            overlay=not args.no_overlay, recursive=args.recursive)
    n_ok, n_err = len(summary['results']), len(summary['errors'])
    print(f'{n_ok} image(s) done, {n_err} error(s); results: {args.out_dir}/results.json')
    if n_err:
        print('failed:\n' + '\n'.join(f'  {e["error"]}' for e in summary['errors']), file=sys.stderr)
    return 1 if n_err else 0


if __name__ == '__main__':
    sys.exit(main())
