"""An AnoMed run killed with SIGKILL resumes (`tools/train.py --resume`) with the saved state."""
import copy
import importlib.util
import os
import signal
import subprocess
import sys

import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from tests.conftest import REPO
from tests.tiny import tiny_anomed


def load_train_tool():
    spec = importlib.util.spec_from_file_location('anomed_train_tool', REPO / 'tools/train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class SnapshotHook(Hook):
    """Copies the state the runner starts training from (after resume and every before_train)."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        self.iter = runner.iter
        self.model = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
        self.optimizer = copy.deepcopy(runner.optim_wrapper.state_dict())
        self.schedulers = [copy.deepcopy(s.state_dict()) for s in runner.param_schedulers]


def assert_same(a, b, where='') -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert set(a) == set(b), f'{where}: keys {set(a) ^ set(b)}'
        for k in a:
            assert_same(a[k], b[k], f'{where}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{where}[{i}]')
    else:
        assert a == b, f'{where}: {a!r} != {b!r}'


def test_sigkilled_anomed_run_resumes_from_the_last_checkpoint(tiny_synth, tmp_path):
    root, _, _ = tiny_synth
    work = tmp_path / 'work'
    cfg = tiny_anomed(root, work, max_iters=8, ckpt_interval=2)
    cfg.dump(str(tmp_path / 'resume.py'))
    killed = copy.deepcopy(cfg)
    killed.custom_imports.imports.append('tests.test_tools.kill_hook')
    killed.custom_hooks.append(dict(type='SigkillAfterIterHook', at_iter=5))
    killed.dump(str(tmp_path / 'killed.py'))

    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, 'tools/train.py', str(tmp_path / 'killed.py')], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stdout[-3000:]
    assert (work / 'last_checkpoint').read_text().strip().endswith('iter_4.pth')
    assert not (work / 'iter_6.pth').exists()
    saved = torch.load(str(work / 'iter_4.pth'), map_location='cpu')  # weights_only load
    assert saved['meta']['iter'] == 4

    train = load_train_tool()
    sys_argv = sys.argv
    try:
        sys.argv = ['train.py', str(tmp_path / 'resume.py'), '--resume']
        args = train.parse_args()
    finally:
        sys.argv = sys_argv
    resume_cfg = train.build_config(args)
    assert resume_cfg.load_from.endswith('iter_4.pth') and resume_cfg.resume
    runner = Runner.from_cfg(resume_cfg)
    snap = SnapshotHook()
    runner.register_hook(snap)
    runner.train()

    # the state training continued from is the checkpoint's, tensor for tensor
    assert snap.iter == 4
    state = saved['state_dict']
    assert any(k.startswith('teacher.') for k in state) and any(k.startswith('student.') for k in state)
    assert {'plo.class_score_ema', 'plo.prior.gt_count'} <= set(state)
    assert_same(snap.model, state, 'state_dict')
    assert saved['optimizer']['state'], 'AdamW moments were saved'
    assert_same(snap.optimizer, saved['optimizer'], 'optimizer')
    assert_same(snap.schedulers, saved['param_schedulers'], 'param_schedulers')
    # teacher != student: the EMA state is its own, not a copy of the student
    t = [k for k in state if k.startswith('teacher.') and state[k].is_floating_point()][0]
    assert not torch.equal(state[t], state['student.' + t[len('teacher.'):]])

    # and it trained to the end
    assert runner.iter == 8
    assert (work / 'iter_8.pth').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith('iter_8.pth')
    assert not list(work.glob('.*.partial'))
