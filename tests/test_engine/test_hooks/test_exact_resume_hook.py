"""ExactResumeHook: a resumed toy run (random augmentations in the loader, random noise in the
loss, random draws between steps) logs the unbroken run's losses bit for bit."""
import random
import shutil
import uuid

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch.utils.data import Dataset

from anomed_mmdet.engine.hooks import exact_resume_hook
from anomed_mmdet.engine.hooks.exact_resume_hook import CHECKPOINT_KEY
from anomed_mmdet.utils.rng_state import get_rng_state, set_rng_state
from tests.test_engine.toy import ToyModel


class NoisyData(Dataset):
    """Every draw is augmented with Python, NumPy and torch random numbers (as mmcv transforms do)."""

    def __len__(self) -> int:
        return 10

    def __getitem__(self, idx: int) -> dict:
        g = torch.Generator().manual_seed(idx)
        x = torch.randn(4, generator=g) + torch.rand(4) + float(np.random.rand()) + random.random()
        return dict(inputs=x, target=torch.randn(1, generator=g))


class Record(Hook):
    """The loss of each iteration, and a random draw between steps (as validation does)."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.losses = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.losses[runner.iter + 1] = float(outputs['loss'])
        torch.rand(3), np.random.rand(), random.random()


def run(work_dir, max_iters=6, resume_from=None, exact=True, num_workers=0, seed=0):
    import anomed_mmdet  # noqa: F401  (registers the hooks)
    model = ToyModel()
    model.loss_fn = lambda loss: dict(loss=loss * (1 + torch.rand(())))  # main-process randomness
    hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=2),
                 logger=dict(type='LoggerHook', interval=1))
    if exact:
        hooks['exact_resume'] = dict(type='ExactResumeHook')
    runner = Runner(
        model=model, work_dir=str(work_dir), experiment_name=f'exact_{uuid.uuid4().hex}',
        default_scope='mmdet',
        train_dataloader=dict(dataset=NoisyData(), sampler=dict(type='InfiniteSampler', shuffle=True),
                              batch_size=3, num_workers=num_workers,
                              persistent_workers=num_workers > 0),
        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        default_hooks=hooks, randomness=dict(seed=seed, deterministic=True),
        resume=resume_from is not None, load_from=resume_from)
    record = Record()
    runner.register_hook(record)
    runner.train()
    return record.losses


@pytest.fixture(autouse=True)
def restore_deterministic_mode():
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


def resumed(tmp_path, name, ckpt, **kwargs):
    """Resume in a fresh work dir from a copy of ``ckpt`` (the unbroken run's own checkpoint)."""
    work = tmp_path / name
    work.mkdir()
    shutil.copy(ckpt, work / 'start.pth')
    return run(work, resume_from=str(work / 'start.pth'), **kwargs)


@pytest.mark.parametrize('num_workers', [0, 2])
def test_resumed_run_logs_the_unbroken_losses(tmp_path, num_workers):
    full = run(tmp_path / 'full', num_workers=num_workers)
    assert sorted(full) == [1, 2, 3, 4, 5, 6]
    again = resumed(tmp_path, 'again', tmp_path / 'full/iter_2.pth', num_workers=num_workers)
    assert sorted(again) == [3, 4, 5, 6]
    assert [again[i] for i in again] == [full[i] for i in again]  # bit for bit


def test_without_the_hook_the_resumed_losses_differ(tmp_path):
    """The comparison above can fail: without RNG states the augmentations and noise differ."""
    full = run(tmp_path / 'full', exact=False)
    again = resumed(tmp_path, 'again', tmp_path / 'full/iter_2.pth', exact=False)
    assert any(again[i] != full[i] for i in again)


def test_checkpoint_holds_the_states_of_the_step_end(tmp_path):
    run(tmp_path / 'full', max_iters=2)
    ckpt = torch.load(str(tmp_path / 'full/iter_2.pth'), map_location='cpu', weights_only=True)
    entry = ckpt[CHECKPOINT_KEY]
    assert entry['batches'] == 2 and len(entry['states']) == 1
    assert entry['sampler_seed'] == 0
    before = get_rng_state()
    set_rng_state(entry['states'][0])
    a = (random.random(), np.random.rand(), torch.rand(2))
    set_rng_state(entry['states'][0])
    assert (random.random(), np.random.rand()) == a[:2] and torch.equal(torch.rand(2), a[2])
    set_rng_state(before)


def test_warnings_for_an_old_checkpoint_and_another_seed(tmp_path, monkeypatch):
    lines = []
    monkeypatch.setattr(exact_resume_hook, '_warn', lines.append)
    run(tmp_path / 'full', max_iters=2)
    ckpt = torch.load(str(tmp_path / 'full/iter_2.pth'), map_location='cpu', weights_only=True)
    old = dict(ckpt)
    old.pop(CHECKPOINT_KEY)
    torch.save(old, str(tmp_path / 'old.pth'))
    run(tmp_path / 'a', max_iters=3, resume_from=str(tmp_path / 'old.pth'))
    assert len(lines) == 1 and 'has no RNG states' in lines[0], lines
    ckpt[CHECKPOINT_KEY]['sampler_seed'] = 12345
    torch.save(ckpt, str(tmp_path / 'seed.pth'))
    run(tmp_path / 'b', max_iters=3, resume_from=str(tmp_path / 'seed.pth'))
    assert len(lines) == 2 and "sampler's seed is 0, the checkpoint's run had 12345" in lines[1], lines


def test_project_configs_save_the_rng_states():
    """One config per family (parsing all of them takes a minute; they share default_runtime)."""
    from mmengine.config import Config

    from tests.conftest import REPO
    families = sorted(p for p in (REPO / 'configs').iterdir() if p.is_dir() and p.name != '_base_')
    paths = [sorted(f.glob('*.py'))[0] for f in families] + [REPO / 'configs/anomed_vindr.py']
    assert len(paths) >= 7
    for path in paths:
        assert Config.fromfile(str(path)).default_hooks.exact_resume.type == 'ExactResumeHook', path


def test_every_rank_states_are_gathered_and_each_rank_restores_its_own(tmp_path, monkeypatch):
    """DDP, simulated: rank 0 saves the states all_gather_object collected at each step; a rank
    restores the entry of its own rank (rank 1 here: the checkpoint's second entry)."""
    other = dict(get_rng_state(), torch=torch.Generator().manual_seed(99).get_state())
    monkeypatch.setattr(exact_resume_hook, 'get_world_size', lambda: 2)
    monkeypatch.setattr(exact_resume_hook, 'all_gather_object', lambda state: [state, other])
    run(tmp_path / 'full', max_iters=2)
    states = torch.load(str(tmp_path / 'full/iter_2.pth'), map_location='cpu')[CHECKPOINT_KEY]['states']
    assert len(states) == 2 and torch.equal(states[1]['torch'], other['torch'])
    restored = []
    monkeypatch.setattr(exact_resume_hook, 'get_rank', lambda: 1)
    monkeypatch.setattr(exact_resume_hook, 'set_rng_state', restored.append)
    run(tmp_path / 'again', max_iters=3, resume_from=str(tmp_path / 'full/iter_2.pth'))
    assert torch.equal(restored[0]['torch'], other['torch'])  # the first restore: at the resumed batch
