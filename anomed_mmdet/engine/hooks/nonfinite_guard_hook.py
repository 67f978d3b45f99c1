"""Keep EMA teachers and the LR schedule still on the iterations whose optimizer step was skipped."""
import functools
import logging
import math
from typing import Optional, Sequence

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.logging import print_log


def step_skipped(runner) -> bool:
    """Whether the optimizer wrapper skipped the current iteration's step (non-finite)."""
    return runner.message_hub.get_info('nonfinite_skip_iter', None) == runner.iter


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Companion of :class:`~anomed_mmdet.engine.optimizers.SkipNonFiniteOptimWrapper`.

    On an iteration whose step the wrapper skipped, the EMA hooks of the run
    (``MeanTeacherHook``, mmengine's ``EMAHook`` and their subclasses, chosen by class name in
    ``ema_hooks``) do not update: their ``after_train_iter`` is wrapped at ``before_train`` so
    that it returns at once on such an iteration. Otherwise the teacher would move towards the
    unchanged student and the EMA would not be "unchanged" by a skipped step.

    The hooks named in ``scheduler_hooks`` (mmengine's ``ParamSchedulerHook``, which steps the
    iteration-based LR / momentum schedulers in ``after_train_iter``) are held the same way: the
    schedule counts optimizer updates, as Adam's step count does (the skipped step does not
    advance it either), so a burst of NaNs during warm-up does not ramp the LR up without
    training. The schedule then ends ``k`` iterations later than ``max_iters`` for ``k`` skips
    (the last ``k`` scheduled values are not reached); epoch-based schedulers are not touched.
    ``scheduler_hooks=()`` lets the schedule advance on skipped steps (mmengine's behaviour).

    The hook also logs which loss terms were not finite. It does nothing on other iterations.

    It lives in ``default_hooks`` (key ``nonfinite``) of ``configs/_base_/default_runtime.py``,
    so configs that replace ``custom_hooks`` keep it.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, ema_hooks: Sequence[str] = ('MeanTeacherHook', 'EMAHook'),
                 scheduler_hooks: Sequence[str] = ('ParamSchedulerHook',)) -> None:
        self.ema_hooks = tuple(ema_hooks)
        self.scheduler_hooks = tuple(scheduler_hooks)

    def before_train(self, runner) -> None:
        guarded = self.ema_hooks + self.scheduler_hooks
        for hook in runner.hooks:
            if any(cls.__name__ in guarded for cls in type(hook).__mro__):
                self._guard(hook)

    @staticmethod
    def _guard(hook: Hook) -> None:
        update = hook.after_train_iter
        if getattr(update, 'nonfinite_guarded', False):
            return

        @functools.wraps(update)
        def guarded(runner, batch_idx: int, data_batch: Optional[dict] = None,
                    outputs: Optional[dict] = None) -> None:
            if step_skipped(runner):
                return None
            return update(runner, batch_idx=batch_idx, data_batch=data_batch, outputs=outputs)

        guarded.nonfinite_guarded = True
        hook.after_train_iter = guarded

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not step_skipped(runner) or not outputs:
            return
        bad = {k: v for k, v in outputs.items() if _not_finite(v)}
        if bad:
            terms = ', '.join(f'{k}={float(v)}' for k, v in bad.items())
            held = ', LR schedule held' if self.scheduler_hooks else ''
            print_log(f'Iteration {runner.iter + 1}: non-finite terms: {terms}; '
                      f'EMA update skipped{held}', logger='current', level=logging.WARNING)


def _not_finite(value) -> bool:
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
