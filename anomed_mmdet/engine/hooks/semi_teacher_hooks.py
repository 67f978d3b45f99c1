"""Teacher hooks for every teacher-student method alike: burn-in copy, EMA warm-up, frozen BN.

* :class:`BurnInMeanTeacherHook` is mmdet's ``MeanTeacherHook`` that leaves the teacher alone
  during the detector's ``semi_train_cfg.burn_in_iters``, copies the student into it (weights
  and buffers) when the burn-in ends, and can warm the EMA up: momentum
  ``max(momentum, warmup / (warmup + k))`` ``k`` iterations after the copy (MixPL's schedule).
* :class:`FreezeBNStatsHook` keeps every batch-norm layer of the model in eval mode from the end
  of the burn-in (iteration 0 without one): the student's statistics stop following the strong
  views and 1-image labelled batches, and the teacher labels with statistics gathered on the
  labelled data's clean views. BN weights and biases still train.
"""
from typing import Optional

from mmdet.engine.hooks import MeanTeacherHook
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def semi_model(runner) -> nn.Module:
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


def burn_in_iters(model: nn.Module) -> int:
    """``semi_train_cfg.burn_in_iters`` of a teacher-student detector (0 when absent)."""
    cfg = getattr(model, 'semi_train_cfg', None) or {}
    return int(cfg.get('burn_in_iters', 0) or 0)


@HOOKS.register_module()
class BurnInMeanTeacherHook(MeanTeacherHook):
    """EMA teacher that starts as a copy of the student at the end of the burn-in.

    Args:
        momentum: EMA momentum after the warm-up (``teacher = (1 - m) teacher + m student``).
        interval: update every ``interval`` iterations.
        skip_buffer: as mmdet's hook (buffers are always copied at the burn-in copy).
        warmup: ``None`` or the warm-up constant of ``max(momentum, warmup / (warmup + k))``.
    """

    def __init__(self, momentum: float = 0.001, interval: int = 1, skip_buffer: bool = True,
                 warmup: Optional[float] = None) -> None:
        super().__init__(momentum=momentum, interval=interval, skip_buffer=skip_buffer)
        if warmup is not None and warmup <= 0:
            raise ValueError(f'BurnInMeanTeacherHook warmup must be > 0 or None, got {warmup}')
        self.warmup = warmup

    @staticmethod
    def copy_student(model: nn.Module) -> None:
        """Teacher := student, weights and buffers."""
        model.teacher.load_state_dict(model.student.state_dict())

    def momentum_at(self, iters_since_copy: int) -> float:
        if self.warmup is None:
            return self.momentum
        return max(self.momentum, min(1.0, self.warmup / (self.warmup + iters_since_copy)))

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        model = semi_model(runner)
        done, start = runner.iter + 1, burn_in_iters(model)
        if done < start:
            return
        if done == start:
            self.copy_student(model)
            return
        if done % self.interval == 0:
            self.momentum_update(model, self.momentum_at(done - start))


@HOOKS.register_module()
class FreezeBNStatsHook(Hook):
    """Batch-norm statistics frozen from ``begin`` (default: the model's burn-in end) on.

    Args:
        begin: first iteration with frozen statistics; ``None`` reads ``burn_in_iters``.
    """

    priority = 'HIGH'

    def __init__(self, begin: Optional[int] = None) -> None:
        self.begin = begin
        self._norms: Optional[list] = None  # the model's BN layers, found once

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        model = semi_model(runner)
        begin = burn_in_iters(model) if self.begin is None else self.begin
        if runner.iter < begin:
            return
        if self._norms is None:
            self._norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
        for m in self._norms:  # mmengine's model.train() ran before this hook
            m.eval()
