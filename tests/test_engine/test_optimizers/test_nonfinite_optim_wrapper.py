"""A NaN / Inf loss or gradient skips its step (weights, buffers, EMA teacher kept); K in a row stop."""
import math

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from anomed_mmdet.engine.optimizers import NonFiniteLossError, SkipNonFiniteOptimWrapper
from anomed_mmdet.utils.resume import verify_checkpoint
from tests.test_engine.toy import toy_runner
from tests.tiny import mmlogger_messages, tiny_anomed


class StateRecorder(Hook):
    """State after each iteration (1-based), once every other hook (EMA included) has run."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.states = {}

    def before_train(self, runner) -> None:
        self.states[runner.iter] = self._state(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.states[runner.iter + 1] = self._state(runner)

    @staticmethod
    def _state(runner) -> dict:
        state = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
        opt = runner.optim_wrapper.optimizer.state
        state['opt_steps'] = sorted(float(s['step']) for s in opt.values() if 'step' in s)
        return state


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k] for k in a)


def changed(a: dict, b: dict, prefix: str) -> bool:
    return any(not torch.equal(a[k], b[k]) for k in a if k.startswith(prefix) and a[k].is_floating_point())


def test_anomed_nan_step_is_skipped_and_three_in_a_row_stop_the_run(tiny_synth, tmp_path):
    root, _, _ = tiny_synth
    cfg = tiny_anomed(root, tmp_path, max_iters=10, ckpt_interval=2, val=False)
    assert cfg.optim_wrapper.type == 'SkipNonFiniteOptimWrapper' and cfg.optim_wrapper.max_consecutive == 3
    runner = Runner.from_cfg(cfg)
    nan_at = {3, 5, 6, 7}  # 1-based: one isolated NaN, then three in a row
    original = runner.model.loss

    def loss(*args, **kwargs):
        losses = original(*args, **kwargs)
        if runner.iter + 1 in nan_at:
            losses['sup_loss_cls'] = losses['sup_loss_cls'] * float('nan')
        return losses
    runner.model.loss = loss
    rec = StateRecorder()
    runner.register_hook(rec)
    with mmlogger_messages() as log, \
            pytest.raises(NonFiniteLossError, match=r'3 consecutive iterations \(5 to 7\)') as err:
        runner.train()
    assert 'iter_6.pth' in str(err.value)

    s = rec.states
    assert sorted(s) == [0, 1, 2, 3, 4, 5, 6]  # iteration 7 raised before its hooks
    # iteration 3: student, teacher (EMA), BN running stats, PLO statistics and Adam state as after 2
    assert same(s[3], s[2])
    assert {'plo.class_score_ema', 'teacher.backbone.bn1.running_mean'} <= set(s[3])
    # iteration 4 trains again: student and teacher move
    assert changed(s[3], s[4], 'student.') and changed(s[3], s[4], 'teacher.')
    assert s[4]['opt_steps'][0] == s[2]['opt_steps'][0] + 1
    assert same(s[5], s[4]) and same(s[6], s[4])
    assert runner.message_hub.get_info('nonfinite_skips') == 4
    log = '\n'.join(log)
    assert 'Iteration 3: non-finite loss (nan); optimizer step skipped' in log
    assert 'sup_loss_cls=nan' in log and 'EMA update skipped' in log

    # the last checkpoint (written at iteration 6, weights of iteration 4) is intact and finite
    last = (tmp_path / 'last_checkpoint').read_text().strip()
    assert last.endswith('iter_6.pth')
    verify_checkpoint(last)
    ckpt = torch.load(last, map_location='cpu')
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values() if v.is_floating_point())
    assert all(torch.equal(ckpt['state_dict'][k], s[4][k]) for k in ckpt['state_dict'])


def toy_nonfinite(tmp_path, inject, at, **wrapper):
    runner = toy_runner(tmp_path, max_iters=4, optim_wrapper=dict(
        type='SkipNonFiniteOptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9), **wrapper))
    rec = StateRecorder()
    runner.register_hook(rec)

    def loss_fn(loss):
        if runner.iter + 1 in at:
            loss = inject(loss)
        return dict(loss=loss)
    runner.model.loss_fn = loss_fn
    return runner, rec


def test_finite_loss_with_non_finite_gradient_is_skipped(tmp_path):
    def inf_grad(loss):
        loss.register_hook(lambda g: g * float('inf'))
        return loss
    runner, rec = toy_nonfinite(tmp_path, inf_grad, at={2})
    runner.train()
    s = rec.states
    assert same(s[2], s[1]) and not same(s[3], s[2]) and runner.iter == 4
    assert isinstance(runner.optim_wrapper, SkipNonFiniteOptimWrapper)
    assert runner.optim_wrapper.total_skips == 1 and runner.optim_wrapper.consecutive_skips == 0
    assert all(math.isfinite(x) for x in s[4]['linear.weight'].flatten().tolist())


def test_inf_loss_counts_and_max_consecutive_is_configurable(tmp_path):
    runner, rec = toy_nonfinite(tmp_path, lambda loss: loss + float('inf'), at={2, 3}, max_consecutive=2)
    with pytest.raises(NonFiniteLossError, match=r'2 consecutive iterations \(2 to 3\)'):
        runner.train()
    assert same(rec.states[2], rec.states[1])  # BN running stats restored too


def test_max_consecutive_must_be_positive():
    with pytest.raises(ValueError):
        SkipNonFiniteOptimWrapper(torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1),
                                  max_consecutive=0)


def test_project_configs_skip_non_finite_steps_by_default():
    from mmengine.config import Config

    from tests.conftest import REPO
    for path in sorted((REPO / 'configs').rglob('*.py')):
        if '_base_' in path.parts:
            continue
        cfg = Config.fromfile(str(path))
        assert cfg.optim_wrapper.type == 'SkipNonFiniteOptimWrapper', path
        assert cfg.default_hooks.nonfinite.type == 'NonFiniteGuardHook', path
        assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook', path


def test_amp_flag_keeps_skipping(monkeypatch):
    import importlib.util
    import sys

    from tests.conftest import REPO
    spec = importlib.util.spec_from_file_location('anomed_train_tool', REPO / 'tools/train.py')
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    config = REPO / 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'
    monkeypatch.setattr(sys, 'argv', ['train.py', str(config), '--amp'])
    cfg = train.build_config(train.parse_args())
    assert cfg.optim_wrapper.type == 'SkipNonFiniteAmpOptimWrapper' and cfg.optim_wrapper.max_consecutive == 3
    from mmdet.registry import OPTIM_WRAPPERS
    from mmengine.optim import AmpOptimWrapper
    assert issubclass(OPTIM_WRAPPERS.get('SkipNonFiniteAmpOptimWrapper'), AmpOptimWrapper)
