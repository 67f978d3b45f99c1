"""Turn a teacher-student (AnoMed, MeanTeacher, SoftTeacher) checkpoint into a plain detector.

    python tools/model_converters/extract_teacher.py CONFIG CKPT OUT_DIR [--student] [--name NAME]
        [--drop-keys PREFIX ...]

Writes OUT_DIR/NAME.py, the plain detector config (``model`` = the config's
``model.detector``; test / val data and evaluation, runtime and ``custom_imports`` kept; the
semi-supervised training parts dropped), and OUT_DIR/NAME.pth, the teacher's (or with
--student the student's) weights without the ``teacher.`` prefix and a minimal ``meta``
(class names, source, iteration). NAME defaults to ``<config name>_<teacher|student>``.
The pair works with mmdet's ``DetInferencer(model=NAME.py, weights=NAME.pth)``,
``tools/test.py``, ``tools/infer.py`` and as ``load_from`` for fine-tuning (docs/inference.md).
--drop-keys leaves weights out: after load_from they keep their fresh initialisation.
"""
import argparse


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Extract the teacher (or student) detector')
    parser.add_argument('config', help='the teacher-student config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='teacher-student checkpoint (teacher.* / student.* keys)')
    parser.add_argument('out_dir', help='folder for NAME.py and NAME.pth')
    parser.add_argument('--student', action='store_true', help='extract the student instead of the teacher')
    parser.add_argument('--name', help='output file name without ending (default: <config name>_teacher)')
    parser.add_argument('--drop-keys', nargs='+', default=[], metavar='PREFIX',
                        help='leave out weights whose names start with these, e.g. '
                             'roi_head.bbox_head.fc_cls roi_head.bbox_head.fc_reg (a fresh box head '
                             'when fine-tuning on as many classes as the checkpoint has)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    from anomed_mmdet.apis import extract_detector

    cfg_path, ckpt_path = extract_detector(args.config, args.checkpoint, args.out_dir,
                                           branch='student' if args.student else 'teacher',
                                           name=args.name, drop_keys=args.drop_keys)
    print(f'config: {cfg_path}\ncheckpoint: {ckpt_path}')


if __name__ == '__main__':
    main()
