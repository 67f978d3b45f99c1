"""Train a detector from a config (mmdet's tools/train.py flags and behaviour)."""
import argparse

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from anomed_mmdet.utils.cli import add_common_args, config_from_args
from anomed_mmdet.utils.resume import CheckpointError, resolve_resume_checkpoint


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate by the actual batch size')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from the given checkpoint; with no value, from the latest '
                             'checkpoint in the work dir')
    add_common_args(parser)
    return parser.parse_args()


def build_config(args: argparse.Namespace) -> Config:
    cfg = config_from_args(args)
    if args.amp:
        skipping = cfg.optim_wrapper.get('type') == 'SkipNonFiniteOptimWrapper'
        cfg.optim_wrapper.type = 'SkipNonFiniteAmpOptimWrapper' if skipping else 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr.base_batch_size` in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume is not None:
        # checked first: a truncated / damaged checkpoint stops here with its name (CheckpointError);
        # 'auto' with no last_checkpoint in the work dir gives None, a fresh start
        cfg.resume, cfg.load_from = True, resolve_resume_checkpoint(cfg.work_dir, args.resume)
    return cfg


def main() -> None:
    try:
        cfg = build_config(parse_args())
    except CheckpointError as e:
        raise SystemExit(f'tools/train.py: {e}') from None
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
