"""Optimizer wrappers that skip the update of an iteration whose loss or gradients are not finite.

One NaN / Inf (a degenerate box, an exploding batch) otherwise reaches the weights through the
optimizer step and, a few iterations later, every weight and the EMA teacher. Here the step is
skipped instead and training goes on; ``max_consecutive`` skips in a row stop the run with
:class:`NonFiniteLossError` (a persistent divergence, not a bad batch). Everything that the
iteration changed is left as it was: no ``optimizer.step`` (so no Adam moments / step count
update), the model's buffers (BN running statistics, the PLO's class statistics) are restored
to their value before the forward pass, and :class:`~anomed_mmdet.engine.hooks.NonFiniteGuardHook`
keeps EMA hooks (``MeanTeacherHook``, ``EMAHook``) from moving the teacher and the iteration-based
LR / momentum schedulers (``ParamSchedulerHook``) from advancing.

Under DDP the ranks agree (one all-reduce of a flag per iteration) so that all of them skip.
The skipped iteration is written to the message hub: runtime info ``nonfinite_skip_iter``
(the 0-based iteration) and ``nonfinite_skips`` (the run's total).
"""
import logging
from contextlib import contextmanager
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.registry import OPTIM_WRAPPERS
from mmengine.dist import all_reduce, get_world_size
from mmengine.logging import MessageHub, print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from torch import Tensor, nn


class NonFiniteLossError(RuntimeError):
    """Too many consecutive iterations with a non-finite loss or gradient."""


class SkipNonFiniteMixin:
    """The skipping logic, shared by the fp32 and the AMP wrapper (see the module docstring)."""

    def _init_nonfinite(self, max_consecutive: int, check_grad: bool, restore_buffers: bool) -> None:
        if max_consecutive < 1:
            raise ValueError(f'max_consecutive must be >= 1, got {max_consecutive}')
        self.max_consecutive = max_consecutive
        self.check_grad = check_grad
        self.restore_buffers = restore_buffers
        self.consecutive_skips = 0
        self.total_skips = 0
        self._first_skip_iter: Optional[int] = None
        self._saved_buffers: List[Tuple[Tensor, Tensor]] = []

    @contextmanager
    def optim_context(self, model: nn.Module):
        """mmengine enters this around the forward pass: remember the buffers first."""
        if self.restore_buffers:
            with torch.no_grad():
                self._saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
        with super().optim_context(model):
            yield

    def update_params(self, loss: Tensor, step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        if not self._finite_on_all_ranks(loss):
            self._skip('loss', loss)
            return
        self.backward(self.scale_loss(loss))
        if self.should_update():
            if self.check_grad and not self._grads_finite():
                self._skip('gradient', None, counted=True)
                return
            self.step(**step_kwargs)
            self.zero_grad(**zero_kwargs)
        self.consecutive_skips = 0
        self._first_skip_iter = None
        self._saved_buffers = []

    @staticmethod
    def _finite_on_all_ranks(loss: Tensor) -> bool:
        bad = (~torch.isfinite(loss.detach())).any().float().reshape(1)
        if get_world_size() > 1:
            all_reduce(bad, op='sum')
        return bad.item() == 0

    def _grads_finite(self) -> bool:
        """Whether the total gradient 2-norm is finite (one fused pass; its cost: docs/reliability.md)."""
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        if not grads:
            return True
        total_norm = getattr(torch.nn.utils, 'get_total_norm', None)
        if total_norm is None:  # torch < 2.6
            return bool(torch.stack([torch.isfinite(g).all() for g in grads]).all())
        return bool(torch.isfinite(total_norm(grads, norm_type=2.0)))

    def _skip(self, what: str, loss: Optional[Tensor], counted: bool = False) -> None:
        hub = MessageHub.get_current_instance()
        it = hub.get_info('iter', 0)
        if self.restore_buffers:
            with torch.no_grad():
                for buf, saved in self._saved_buffers:
                    buf.copy_(saved)
        self._saved_buffers = []
        if not counted:  # backward() counts; keep accumulation windows aligned with iterations
            self._inner_count += 1
        self.zero_grad()        # a partial accumulation window is dropped with the bad batch
        self.consecutive_skips += 1
        self.total_skips += 1
        if self._first_skip_iter is None:
            self._first_skip_iter = it
        hub.update_info('nonfinite_skip_iter', it)
        hub.update_info('nonfinite_skips', self.total_skips)
        value = f' ({loss.detach().float().cpu().item()})' if loss is not None and loss.numel() == 1 else ''
        print_log(f'Iteration {it + 1}: non-finite {what}{value}; optimizer step skipped, weights, '
                  f'buffers and EMA teacher kept ({self.consecutive_skips} in a row, the run stops at '
                  f'{self.max_consecutive}; {self.total_skips} in this run)', logger='current',
                  level=logging.WARNING)
        if self.consecutive_skips >= self.max_consecutive:
            last = hub.get_info('last_ckpt', None)
            where = (f'The last checkpoint is {last}; its weights are from before these iterations '
                     '(`tools/train.py --resume` continues from it).' if last else
                     'No checkpoint was written in this run.')
            raise NonFiniteLossError(
                f'{self.consecutive_skips} consecutive iterations ({self._first_skip_iter + 1} to {it + 1}) '
                f'had a non-finite loss or gradient; training stopped. {where} Lower the learning '
                'rate, clip gradients (optim_wrapper.clip_grad) or check the data of these iterations; '
                'optim_wrapper.max_consecutive sets how many skips in a row are tolerated.')


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteOptimWrapper(SkipNonFiniteMixin, OptimWrapper):
    """``OptimWrapper`` that skips non-finite iterations (see the module docstring).

    Args:
        max_consecutive: skips in a row that stop the run with :class:`NonFiniteLossError`.
        check_grad: also skip when the loss is finite but the gradient norm is not (checked
            before clipping, which would otherwise spread a NaN over every parameter).
        restore_buffers: undo the forward pass's buffer updates on a skipped iteration.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``, ...).
    """

    def __init__(self, *args, max_consecutive: int = 3, check_grad: bool = True,
                 restore_buffers: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_nonfinite(max_consecutive, check_grad, restore_buffers)


@OPTIM_WRAPPERS.register_module()
class SkipNonFiniteAmpOptimWrapper(SkipNonFiniteMixin, AmpOptimWrapper):
    """``AmpOptimWrapper`` that skips iterations with a non-finite loss (``tools/train.py --amp``).

    Gradients are not checked: the AMP grad scaler already skips steps with Inf / NaN gradients
    (its overflow probing must not count as a failure). Same other arguments as
    :class:`SkipNonFiniteOptimWrapper`.
    """

    def __init__(self, *args, max_consecutive: int = 3, check_grad: bool = False,
                 restore_buffers: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_nonfinite(max_consecutive, False, restore_buffers)
