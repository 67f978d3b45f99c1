"""Same seed, deterministic=True: identical losses on the CPU, supervised and AnoMed."""
import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from tests.tiny import tiny_anomed, tiny_supervised


@pytest.fixture(autouse=True)
def restore_deterministic_mode():
    """randomness.deterministic calls torch.use_deterministic_algorithms(True), process-wide."""
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


def losses(cfg) -> dict:
    runner = Runner.from_cfg(cfg)
    runner.train()
    scalars = runner.message_hub.log_scalars
    return {k: scalars[k].data[0].copy() for k in scalars if k.startswith('train/') and 'loss' in k}


@pytest.mark.parametrize('make', [tiny_supervised, tiny_anomed], ids=['supervised', 'anomed'])
def test_same_seed_gives_identical_losses(make, tiny_synth, tmp_path):
    root, _, _ = tiny_synth
    runs = [losses(make(root, tmp_path / f'run{i}', max_iters=3, ckpt_interval=100, seed=7, val=False))
            for i in range(2)]
    assert runs[0].keys() == runs[1].keys() and 'train/loss' in runs[0]
    for key in runs[0]:
        assert len(runs[0][key]) == 3, key
        assert np.array_equal(runs[0][key], runs[1][key]), (key, runs[0][key], runs[1][key])
    if make is tiny_supervised:  # the comparison can fail: another seed gives other losses
        other = losses(make(root, tmp_path / 'other', max_iters=3, ckpt_interval=100, seed=8, val=False))
        assert not np.array_equal(other['train/loss'], runs[0]['train/loss'])
