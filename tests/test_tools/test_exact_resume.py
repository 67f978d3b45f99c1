"""A resumed run logs the same losses, bit for bit, as an unbroken one (seed, deterministic=True):
the supervised Faster R-CNN and AnoMed (teacher, PLO buffers, RNG states, data position)."""
import copy
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import tests.plain_config_text  # noqa: F401  (yapf formatting is most of a tiny run's time)
from tests.conftest import REPO
from tests.test_tools.loss_log_hook import LossLogHook
from tests.tiny import tiny_anomed, tiny_supervised


@pytest.fixture(autouse=True)
def restore_deterministic_mode():
    """randomness.deterministic calls torch.use_deterministic_algorithms(True), process-wide."""
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


def read_losses(path) -> dict:
    with open(path) as f:
        return {r['iter']: r['losses'] for r in map(json.loads, f)}


def train(cfg, log) -> dict:
    runner = Runner.from_cfg(cfg)
    runner.register_hook(LossLogHook(str(log)))
    runner.train()
    return read_losses(log)


@pytest.mark.parametrize('make,max_iters,stop', [(tiny_supervised, 4, 2), (tiny_anomed, 3, 1)],
                         ids=['supervised', 'anomed'])
def test_resumed_run_logs_the_unbroken_losses(make, max_iters, stop, tiny_synth, tmp_path):
    root, _, _ = tiny_synth
    cfg = make(root, tmp_path / 'full', max_iters=max_iters, ckpt_interval=stop, seed=7, val=False)
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    full = train(cfg, tmp_path / 'full.jsonl')
    assert sorted(full) == list(range(1, max_iters + 1)) and 'loss' in full[1]
    # the run stopped after iteration `stop`: its checkpoint is the unbroken run's own
    work = tmp_path / 'resumed'
    work.mkdir()
    shutil.copy(tmp_path / f'full/iter_{stop}.pth', work / 'start.pth')
    assert torch.load(str(work / 'start.pth'), map_location='cpu')['rng_state']['batches'] == stop
    cfg = make(root, work, max_iters=max_iters, ckpt_interval=stop, seed=7, val=False)
    cfg.resume, cfg.load_from = True, str(work / 'start.pth')
    again = train(cfg, tmp_path / 'resumed.jsonl')
    assert sorted(again) == list(range(stop + 1, max_iters + 1))
    for i in again:
        assert again[i] == full[i], (i, again[i], full[i])  # every loss term, bit for bit


@pytest.mark.slow
def test_sigkilled_anomed_run_resumes_bit_identically(tiny_synth, tmp_path):
    """A real kill: the killed and the resuming run are fresh `tools/train.py` processes."""
    root, _, _ = tiny_synth
    cfg = tiny_anomed(root, tmp_path / 'work', max_iters=4, ckpt_interval=2, seed=7, val=False)
    cfg.custom_imports.imports += ['tests.plain_config_text', 'tests.test_tools.loss_log_hook']
    cfg.custom_hooks.append(dict(type='LossLogHook', path=str(tmp_path / 'resumed.jsonl')))
    cfg.dump(str(tmp_path / 'resume.py'))
    killed = copy.deepcopy(cfg)
    killed.custom_imports.imports.append('tests.test_tools.kill_hook')
    killed.custom_hooks[-1] = dict(type='LossLogHook', path=str(tmp_path / 'killed.jsonl'))
    killed.custom_hooks.append(dict(type='SigkillAfterIterHook', at_iter=3))
    killed.dump(str(tmp_path / 'killed.py'))
    # the unbroken run reads the same dumped file: Config.dump sorts dict keys, and the order of
    # MultiBranch's branches is the order their random augmentations are drawn in
    unbroken = Config.fromfile(str(tmp_path / 'resume.py'))
    unbroken.work_dir = str(tmp_path / 'full')
    unbroken.custom_hooks[-1].path = str(tmp_path / 'full.jsonl')
    Runner.from_cfg(unbroken).train()
    full = read_losses(tmp_path / 'full.jsonl')

    # the thread count of this process: a CPU reduction's order depends on it
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS=str(torch.get_num_threads()))
    for config, extra, code in [('killed.py', [], -signal.SIGKILL), ('resume.py', ['--resume'], 0)]:
        proc = subprocess.run([sys.executable, 'tools/train.py', str(tmp_path / config), *extra], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        assert proc.returncode == code, proc.stdout[-3000:]
    killed, again = read_losses(tmp_path / 'killed.jsonl'), read_losses(tmp_path / 'resumed.jsonl')
    assert sorted(killed) == [1, 2] and sorted(again) == [3, 4]  # the kill came before iter 3 was logged
    for i in (1, 2, 3, 4):
        assert {**killed, **again}[i] == full[i], (i, full[i])
