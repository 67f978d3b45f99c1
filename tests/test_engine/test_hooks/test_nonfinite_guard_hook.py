"""A step skipped for a non-finite loss / gradient does not advance the LR schedule (docs/reliability.md, 4)."""
import pytest
from mmengine.hooks import Hook

from tests.test_engine.toy import toy_runner

NAN_AT = {2, 5}  # 1-based iterations with a NaN loss (not in a row: the run goes on)
MAX_ITERS = 8


class LrRecorder(Hook):
    """The learning rate each iteration's optimizer step uses (1-based), and the schedulers' counters."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.lr = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.lr[runner.iter + 1] = runner.optim_wrapper.get_lr()['lr'][0]


def run(tmp_path, nan_at, **guard):
    runner = toy_runner(
        tmp_path, max_iters=MAX_ITERS,
        optim_wrapper=dict(type='SkipNonFiniteOptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        # warm-up over 3 updates, then a step down after the 5th: both count updates
        param_scheduler=[dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
                         dict(type='MultiStepLR', milestones=[5], gamma=0.1, by_epoch=False)],
        custom_hooks=[dict(type='NonFiniteGuardHook', **guard)])
    rec = LrRecorder()
    runner.register_hook(rec)

    def loss_fn(loss):
        return dict(loss=loss * float('nan') if runner.iter + 1 in nan_at else loss)
    runner.model.loss_fn = loss_fn
    runner.train()
    assert runner.optim_wrapper.total_skips == len(nan_at)
    return runner, [rec.lr[i] for i in range(1, MAX_ITERS + 1)]


def test_skipped_step_does_not_advance_the_lr_schedule(tmp_path):
    _, clean = run(tmp_path / 'clean', set())
    runner, held = run(tmp_path / 'nan', NAN_AT)
    # the update after a skipped one uses the skipped one's LR: the schedule is one update behind
    expected, k = [], 0
    for i in range(1, MAX_ITERS + 1):
        expected.append(clean[i - 1 - k])
        k += i in NAN_AT
    assert held == pytest.approx(expected)
    assert held != pytest.approx(clean)
    # the schedulers counted the 6 updates that were made, not the 8 iterations
    for scheduler in runner.param_schedulers:
        assert scheduler._global_step == MAX_ITERS - len(NAN_AT)


def test_scheduler_hooks_empty_keeps_mmengines_behaviour(tmp_path):
    _, clean = run(tmp_path / 'clean', set())
    runner, advanced = run(tmp_path / 'nan', NAN_AT, scheduler_hooks=())
    assert advanced == pytest.approx(clean)
    assert all(s._global_step == MAX_ITERS for s in runner.param_schedulers)


def test_checkpoint_holds_the_schedule_position(tmp_path):
    """The held position is saved with the schedulers, so ``--resume`` continues from it."""
    import torch
    run(tmp_path / 'nan', NAN_AT)
    state = torch.load(str(tmp_path / 'nan' / 'iter_6.pth'), map_location='cpu', weights_only=False)
    steps = [s['_global_step'] for s in state['param_schedulers']]
    assert steps == [6 - len(NAN_AT)] * 2  # iterations 1..6 with 2 skips: 4 updates counted
