"""What the tools share: mmdet's common flags, DDP on CPU-only machines, errors as exit codes."""
import os
import os.path as osp
import sys
from argparse import ArgumentParser, Namespace
from typing import Callable, Tuple, Type, Union

from mmengine.config import Config, DictAction


def exit_code(run: Callable[[], object], errors: Union[Type[BaseException], Tuple[type, ...]],
              code: int = 1) -> int:
    """Call ``run()``; return 0, or ``code`` after printing ``error: <message>`` to stderr when it
    raises one of ``errors`` (an expected failure the message explains, not a traceback)."""
    try:
        run()
    except errors as exc:
        print(f'error: {exc}', file=sys.stderr)
        return code
    return 0


def add_common_args(parser: ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument('--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value (xxx=yyy format)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    # torch.distributed.launch passes --local-rank (older: --local_rank)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


RENAMED_CONFIGS = {  # old path -> new path (2026-12: mmdet's naming, issue 15)
    'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_synth-cxr.py':
        'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_semi-0.1-synth-cxr.py',
    'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py':
        'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py',
    'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-0.3k-ft_synth-cxr.py':
        'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-0.3k-ft_semi-0.1-synth-cxr.py',
    'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_synth-cxr.py':
        'configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_semi-0.1-synth-cxr.py',
    'configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_tbx11k.py':
        'configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-tbx11k.py',
    'configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_vindr-cxr.py':
        'configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-vindr-cxr.py',
    'configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_vindr-cxr14.py':
        'configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-vindr-cxr14.py',
    'configs/anomed/anomed_retinanet_r18-slim_fpn_cpu-1k_synth-cxr.py':
        'configs/anomed/anomed_retinanet_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py',
    'configs/finetune/faster-rcnn_r18-slim_sib-fa_cpu-ft-0.5k_coco-xray.py':
        'configs/finetune/faster-rcnn_r18-slim_sib-fa_cpu-0.5k-ft_coco-xray.py',
    'configs/finetune/faster-rcnn_r50_sib-fa_ft-6k_coco-xray.py':
        'configs/finetune/faster-rcnn_r50_sib-fa_6k-ft_coco-xray.py',
    'configs/mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_synth-cxr.py':
        'configs/mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_semi-0.1-synth-cxr.py',
    'configs/mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py':
        'configs/mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py',
    'configs/faster_rcnn/faster-rcnn_r50_sib-fa_20k_tbx11k-10pct.py':
        'configs/sib/faster-rcnn_r50_sib-fa_20k_tbx11k-10pct.py',
    'configs/faster_rcnn/faster-rcnn_r50_sib-fa_20k_vindr-cxr-10pct.py':
        'configs/sib/faster-rcnn_r50_sib-fa_20k_vindr-cxr-10pct.py',
    'configs/faster_rcnn/faster-rcnn_r50_sib-fa_20k_vindr-cxr14-10pct.py':
        'configs/sib/faster-rcnn_r50_sib-fa_20k_vindr-cxr14-10pct.py',
    'configs/soft_teacher/soft-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py':
        'configs/soft_teacher/soft-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py',
}


def check_config_path(path: str) -> None:
    """A missing config that was renamed gets an error naming its new path."""
    if osp.isfile(path):
        return
    key = osp.normpath(path).replace(osp.sep, '/')
    new = next((n for o, n in RENAMED_CONFIGS.items() if key.endswith(o)), None)
    if new is not None:
        raise FileNotFoundError(f'{path}: this config was renamed to {new}')
    raise FileNotFoundError(f'config file not found: {path}')


def config_from_args(args: Namespace) -> Config:
    """Load ``args.config`` and apply the common flags as mmdet's tools do."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    check_config_path(args.config)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.launcher != 'none':
        import torch
        if not torch.cuda.is_available():
            setup_cpu_distributed(cfg, args.launcher)
    return cfg


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Let mmengine 0.10.7 run DDP on CPU-only machines (gloo), e.g. ``tools/dist_train.sh CFG 2``.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` whatever the backend, and wraps the
    model with ``device_ids=[LOCAL_RANK]``, which DDP refuses for a CPU module. So for the
    ``pytorch`` launcher (torchrun's environment variables) the gloo process group is created
    here with ``torch.distributed.init_process_group`` (mmengine then finds it initialised and
    skips its own), and ``model_wrapper_cfg`` passes ``device_ids=None``. PyTorch's DDP does the
    rest, as on GPUs.
    """
    if launcher != 'pytorch':
        raise NotImplementedError('CPU-only distributed runs need --launcher pytorch (torchrun), '
                                  f'got {launcher}')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                   find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    if wrapper['type'] == 'MMDistributedDataParallel':  # a custom wrapper is left as configured
        wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    import torch.distributed as dist
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
