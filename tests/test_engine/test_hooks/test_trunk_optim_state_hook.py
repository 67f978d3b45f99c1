"""A semi-supervised run started from a supervised trunk continues the trunk's optimizer state."""
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from anomed_mmdet.engine.hooks import carry_optimizer_state
from tests.tiny import tiny_anomed, tiny_supervised


class FirstIterState(Hook):
    """The optimizer state of every student parameter when the first iteration starts."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.state = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.state is None:
            opt = runner.optim_wrapper.optimizer
            self.state = {n[len('student.'):]: {k: v.clone() for k, v in opt.state.get(p, {}).items()}
                          for n, p in runner.model.named_parameters() if n.startswith('student.')}


def trunk(tiny_synth, tmp_path):
    root = tiny_synth[0]
    cfg = tiny_supervised(root, tmp_path / 'trunk', max_iters=3, ckpt_interval=3, val=False)
    Runner.from_cfg(cfg).train()
    ckpt = tmp_path / 'trunk' / 'iter_3.pth'
    return ckpt, torch.load(str(ckpt), map_location='cpu', weights_only=False)


def semi_first_state(tiny_synth, tmp_path, ckpt, carry: bool) -> dict:
    cfg = tiny_anomed(tiny_synth[0], tmp_path / f'semi-{carry}', max_iters=1, ckpt_interval=1, val=False)
    cfg.load_from = str(ckpt)
    if carry:
        cfg.custom_hooks.append(dict(type='TrunkOptimStateHook', checkpoint=str(ckpt)))
    runner = Runner.from_cfg(cfg)
    rec = FirstIterState()
    runner.register_hook(rec)
    runner.train()
    return rec.state


def test_first_semi_iteration_has_the_trunks_moments_and_step_count(tiny_synth, tmp_path):
    ckpt, saved = trunk(tiny_synth, tmp_path)
    trunk_names = [n for n, _ in
                   Runner.from_cfg(tiny_supervised(tiny_synth[0], tmp_path / 'names', val=False)).model.named_parameters()]
    trunk_state = {trunk_names[i]: saved['optimizer']['state'][i] for i in saved['optimizer']['param_groups'][0]['params']
                   if i in saved['optimizer']['state']}
    assert trunk_state, 'the trunk saved no optimizer state'

    fresh = semi_first_state(tiny_synth, tmp_path, ckpt, carry=False)
    assert not any(fresh.values())  # without the hook: a restart, no moments

    carried = semi_first_state(tiny_synth, tmp_path, ckpt, carry=True)
    assert set(k for k, v in carried.items() if v) == set(trunk_state)
    for name, state in trunk_state.items():
        assert float(carried[name]['step']) == float(state['step']) == 3.0
        for key in ('exp_avg', 'exp_avg_sq'):
            # the run's state sits on its device, the checkpoint was read onto the CPU
            assert torch.equal(carried[name][key].cpu(), state[key]), (name, key)


def test_a_different_detector_is_refused():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    opt = torch.optim.AdamW(model.parameters())
    state = dict(state={}, param_groups=[dict(params=[0, 1, 2])])
    with pytest.raises(ValueError, match='optimised 3 parameters'):
        carry_optimizer_state(opt, model, state, prefix='')
    state = dict(state={0: dict(step=torch.tensor(1.), exp_avg=torch.zeros(3, 2), exp_avg_sq=torch.zeros(3, 2))},
                 param_groups=[dict(params=[0, 1])])
    with pytest.raises(ValueError, match=r'0.weight: trunk exp_avg has shape \(3, 2\)'):
        carry_optimizer_state(opt, model, state, prefix='')
