"""Side-by-side training-step timing (anomed_mmdet/benchmark/step_time.py) on the tiny set."""
import shutil
from pathlib import Path

import pytest

from tools.analysis_tools.ssod_benchmark import Budget
from tools.analysis_tools.ssod_benchmark.step_time import PHASES, semi_config, time_steps

REPO = Path(__file__).resolve().parents[2]
BUDGET = Budget('tiny', burn_in=2, semi=2, ratios=(50,), seeds=(0,))


def _bench_split(root: Path) -> None:
    bench = root / 'annotations' / 'benchmark'
    bench.mkdir(exist_ok=True)
    shutil.copy(root / 'annotations' / 'train_labeled.json', bench / 'train.1@50.json')
    shutil.copy(root / 'annotations' / 'train_unlabeled.json', bench / 'train.1@50-unlabeled.json')


def test_semi_config_times_the_semi_step_not_burn_in(tiny_synth):
    root, _, _ = tiny_synth
    cfg = semi_config('anomed', BUDGET, str(REPO), str(root), 'trunk.pth', ratio=50)
    assert cfg.model.type == 'AnoMed'
    assert cfg.model.semi_train_cfg.burn_in_iters == 0
    assert cfg.train_dataloader.dataset.datasets[1].ann_file.endswith('train.1@50-unlabeled.json')
    with pytest.raises(ValueError, match='not a semi-supervised'):
        semi_config('supervised', BUDGET, str(REPO), str(root), 'trunk.pth', ratio=50)


def test_time_steps_splits_each_step_into_phases(tiny_synth):
    root, _, _ = tiny_synth
    _bench_split(root)
    res = time_steps(['anomed', 'soft_teacher'], BUDGET, str(REPO), str(root), {}, repeats=2, warmup=0,
                     num_batches=1, ratio=50)
    assert set(res) == {'anomed', 'soft_teacher'}
    for method, r in res.items():
        assert set(r) == set(PHASES) | {'total'}
        assert r['total'] > 0 and r['teacher'] > 0 and r['sup'] > 0 and r['backward+step'] > 0, (method, r)
        # every step's phases add up to its total (medians of sums are not sums of medians: loose)
        assert sum(r[p] for p in PHASES) == pytest.approx(r['total'], rel=0.5)
    assert res['soft_teacher']['hesitant'] == 0.0  # only AnoMed has a hesitant branch


@pytest.mark.skipif(not __import__('torch').cuda.is_available(), reason='needs a GPU')
def test_time_steps_on_the_gpu(tiny_synth):
    """The three semi-supervised methods' full training steps on CUDA (run where a GPU is lent)."""
    root, _, _ = tiny_synth
    _bench_split(root)
    res = time_steps(['anomed', 'soft_teacher', 'mean_teacher'], BUDGET, str(REPO), str(root), {}, repeats=2,
                     warmup=1, num_batches=1, ratio=50, device='cuda')
    assert set(res) == {'anomed', 'soft_teacher', 'mean_teacher'}
    assert all(r['total'] > 0 for r in res.values())
