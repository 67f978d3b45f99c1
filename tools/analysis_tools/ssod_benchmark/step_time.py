"""Training-step time of the semi-supervised methods, side by side on the same batches.

Each method's detector is built from the benchmark's own config (``build_config``), loaded
from the same trunk checkpoint and given deep copies of the same pre-loaded batches. Methods are
timed round-robin (one step each, in rotating order), so machine noise hits them alike; the
result is the median of each method's steps after a warm-up. Data loading and the EMA hook are
outside the timed step (they cost every method the same). The step is split into the phases of
mmdet's ``SemiBaseDetector.loss``: the teacher's pseudo labels, the supervised loss, the
unsupervised loss (AnoMed's hesitant losses also on their own) and the rest (backward and the
optimizer step). On a GPU every timer waits for the device's queued work first.
"""
import copy
import statistics
import time
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

from .plan import METHODS, Budget, Run, build_config

PHASES = ('teacher', 'sup', 'unsup', 'hesitant', 'backward+step')
_METHOD_PHASES = {'get_pseudo_instances': 'teacher', 'loss_by_gt_instances': 'sup',
                  'loss_by_pseudo_instances': 'unsup'}


def semi_config(method: str, budget: Budget, repo: str, data_root: str, trunk_ckpt: str,
                ratio: int = 5, seed: int = 0) -> Config:
    """The benchmark config of a semi-supervised row, burn-in off (the step is the semi step)."""
    if not METHODS[method].semi:
        raise ValueError(f'{method} is not a semi-supervised method')
    cfg = build_config(Run(method, ratio, seed), budget, repo, data_root, trunk_ckpt)
    cfg.model.setdefault('semi_train_cfg', {})['burn_in_iters'] = 0
    return cfg


class StepTimer:
    """A detector, its optimizer and per-phase timers around its ``train_step``."""

    def __init__(self, cfg: Config, checkpoint: Optional[str], device: str = 'cpu') -> None:
        from mmdet.registry import MODELS
        self.model = MODELS.build(cfg.model)
        if checkpoint:
            load_checkpoint(self.model, checkpoint, map_location='cpu', logger='silent')
        self.device = torch.device(device)
        self.model.to(self.device)  # its data preprocessor moves each batch there
        self.model.train()
        self.optim_wrapper = build_optim_wrapper(self.model, cfg.optim_wrapper)
        self.phase_s: Dict[str, float] = {}
        self._wrap_phases()

    def _wrap_phases(self) -> None:
        for attr, phase in _METHOD_PHASES.items():
            setattr(self.model, attr, self._timed(getattr(self.model, attr), phase))

    def _now(self) -> float:
        """Wall clock once the device has finished what was queued (CUDA runs asynchronously)."""
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def _timed(self, fn: Callable, phase: str) -> Callable:
        def wrapper(*args, **kwargs):
            start = self._now()
            try:
                return fn(*args, **kwargs)
            finally:
                self.phase_s[phase] = self.phase_s.get(phase, 0.0) + self._now() - start
        return wrapper

    @contextmanager
    def _hesitant_timer(self) -> Iterator[None]:
        """Time AnoMed's hesitant losses (inside its unsupervised phase) on their own."""
        model = getattr(self.model, 'module', self.model)
        original = getattr(model, 'hesitant_loss', None)
        if original is None:  # not AnoMed, or no hesitant branch
            yield
            return
        model.hesitant_loss = self._timed(original, 'hesitant')
        try:
            yield
        finally:
            model.hesitant_loss = original

    def step(self, batch: dict) -> Dict[str, float]:
        """One training step on a copy of ``batch``; seconds per phase and ``total``."""
        data = copy.deepcopy(batch)
        self.phase_s = {}
        with self._hesitant_timer():
            start = self._now()
            self.model.train_step(data, self.optim_wrapper)
            total = self._now() - start
        phases = {p: self.phase_s.get(p, 0.0) for p in PHASES}
        phases['unsup'] -= phases['hesitant']
        phases['backward+step'] = total - sum(phases[p] for p in ('teacher', 'sup', 'unsup', 'hesitant'))
        phases['total'] = total
        return phases


def load_batches(cfg: Config, num: int, seed: int = 0) -> List[dict]:
    """``num`` training batches of ``cfg``'s loader (workers off, so nothing runs beside the steps)."""
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    batches, it = [], iter(loader)
    for _ in range(num):
        batches.append(next(it))
    return batches


def time_steps(methods: Sequence[str], budget: Budget, repo: str, data_root: str,
               checkpoints: Dict[str, str], repeats: int = 10, warmup: int = 2, num_batches: int = 4,
               ratio: int = 5, seed: int = 0, device: str = 'cpu') -> Dict[str, Dict[str, float]]:
    """Median seconds per phase and per step of each method, timed round-robin.

    ``checkpoints`` maps each method's trunk key (``supervised``, ``supervised_fpn``) to the
    checkpoint its detector starts from (missing: random weights).
    """
    init_default_scope('mmdet')
    import anomed_mmdet  # noqa: F401  (registers AnoMed, SIB, FA, hooks)
    torch.manual_seed(seed)
    MessageHub.get_current_instance().update_info('iter', 0)
    cfgs = {m: semi_config(m, budget, repo, data_root, checkpoints.get(METHODS[m].trunk) or 'none.pth', ratio, seed)
            for m in methods}
    timers = {m: StepTimer(cfgs[m], checkpoints.get(METHODS[m].trunk), device) for m in methods}
    batches = load_batches(cfgs[methods[0]], num_batches, seed)  # the semi configs share their data
    samples: Dict[str, List[Dict[str, float]]] = {m: [] for m in methods}
    for r in range(warmup + repeats):
        order = list(methods[r % len(methods):]) + list(methods[:r % len(methods)])
        for m in order:
            phases = timers[m].step(batches[r % len(batches)])
            if r >= warmup:
                samples[m].append(phases)
    return {m: {k: statistics.median(s[k] for s in samples[m]) for k in samples[m][0]} for m in methods}
