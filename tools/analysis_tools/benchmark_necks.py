"""Cost of the necks: params, FLOPs and CPU latency of Faster R-CNN R-50 with FPN, SIB+FPN and
SIB+FA (the AnoMed detector), whole detector and neck alone, side by side in one table.

FLOPs are mmengine's counter (one multiply-add = one FLOP, as mmdet's get_flops.py reports);
the whole detector is counted on its tensor path (backbone, neck, RPN proposals, RoI head),
latency is the median of --repeats `predict` calls after one warm-up, batch 1, eval mode,
torch.no_grad, random weights (init_cfg of the backbone set to None: nothing is downloaded).

Example: python tools/analysis_tools/benchmark_necks.py --sizes 512 1024 --repeats 3
"""
import argparse
import logging
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

REPO = Path(__file__).resolve().parents[2]
VARIANTS: Dict[str, str] = {
    'FPN': 'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'SIB+FPN': str(REPO / 'configs/_base_/models/faster-rcnn_r50_sib-fpn.py'),
    'SIB+FA': str(REPO / 'configs/_base_/models/faster-rcnn_r50_sib-fa.py'),
}


def build_detector(config: str) -> torch.nn.Module:
    import anomed_mmdet  # noqa: F401  (registers SIB / FA)
    from mmdet.registry import MODELS
    if config.startswith('mmdet::'):
        import mmdet
        config = str(Path(mmdet.__file__).parent / '.mim/configs' / config[len('mmdet::'):])
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.eval()


def make_batch(model: torch.nn.Module, size: int) -> dict:
    from mmdet.structures import DetDataSample
    sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                         scale_factor=(1.0, 1.0)))
    img = torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
    return model.data_preprocessor(dict(inputs=[img], data_samples=[sample]), False)


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def flops_params(module: torch.nn.Module, inputs: Tuple) -> Tuple[float, float]:
    info = get_model_complexity_info(module, inputs=inputs, show_table=False, show_arch=False)
    return info['flops'], info['params']


def measure(name: str, size: int, repeats: int) -> dict:
    model = build_detector(VARIANTS[name])
    batch = make_batch(model, size)
    inputs, samples = batch['inputs'], batch['data_samples']
    with torch.no_grad():
        feats = model.backbone(inputs)
        forward = model.forward
        model.forward = partial(forward, data_samples=samples, mode='tensor')
        det_flops, det_params = flops_params(model, (inputs,))
        model.forward = forward
        neck_flops, neck_params = flops_params(model.neck, (feats,))
        det_ms = median_ms(lambda: model.predict(inputs, samples), repeats) if repeats else float('nan')
        neck_ms = median_ms(lambda: model.neck(feats), repeats) if repeats else float('nan')
    return dict(name=name, size=size, det_params=det_params, neck_params=neck_params,
                det_flops=det_flops, neck_flops=neck_flops, det_ms=det_ms, neck_ms=neck_ms)


def table(rows: List[dict], repeats: int) -> str:
    base = {r['size']: r['det_flops'] for r in rows if r['name'] == 'FPN'}
    lines = [f'| neck | input | params det (M) | params neck (M) | GFLOPs det | GFLOPs neck '
             f'| FLOPs det / FPN det | latency det (ms, median of {repeats}) | latency neck (ms) |',
             '|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        ratio = r['det_flops'] / base[r['size']] if r['size'] in base else float('nan')
        det_ms, neck_ms = (f'{r[k]:.0f}' if r[k] == r[k] else '-' for k in ('det_ms', 'neck_ms'))
        lines.append(f"| {r['name']} | {r['size']}² | {r['det_params'] / 1e6:.2f} | "
                     f"{r['neck_params'] / 1e6:.2f} | {r['det_flops'] / 1e9:.1f} | "
                     f"{r['neck_flops'] / 1e9:.1f} | {ratio:.3f}× | {det_ms} | {neck_ms} |")
    return '\n'.join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--sizes', type=int, nargs='+', default=[512, 1024], help='square input sizes')
    p.add_argument('--repeats', type=int, default=3,
                   help='timed runs per measurement (median); 0 skips latency')
    p.add_argument('--necks', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch)')
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    MMLogger.get_current_instance().setLevel(logging.ERROR)
    logging.getLogger('mmengine').setLevel(logging.ERROR)
    torch.manual_seed(0)
    rows = [measure(name, size, a.repeats) for size in a.sizes for name in a.necks]
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads')
    print(table(rows, a.repeats))


if __name__ == '__main__':
    main()
