"""Running benchmark rows: subprocess measurement, results file, and a tiny end-to-end pair."""
import json
import shutil
import sys

import pytest

from tools.analysis_tools.ssod_benchmark import Budget, Run
from tools.analysis_tools.ssod_benchmark.execute import (append_result, execute, git_commit, iteration_times,
                                                         load_results, run_command)
from tests.conftest import REPO


def test_run_command_measures_memory_and_reports_failures(tmp_path):
    wall, peak = run_command([sys.executable, '-c', 'x = bytearray(200 * 2**20); print("ok")'],
                             tmp_path / 'a.log', str(tmp_path))
    assert wall > 0 and peak >= 200  # MiB, the child's own peak
    assert 'ok' in (tmp_path / 'a.log').read_text()
    with pytest.raises(RuntimeError, match=r'(?s)exit 3.*\nboom'):
        run_command([sys.executable, '-c', 'import sys; print("boom"); sys.exit(3)'], tmp_path / 'b.log', str(tmp_path))


def test_git_commit_without_git(tmp_path, monkeypatch):
    assert git_commit(str(REPO)) not in ('', 'unknown')
    monkeypatch.setenv('PATH', str(tmp_path))  # no git on the machine (a bare GPU box): recorded, not raised
    assert git_commit(str(REPO)) == 'unknown'


def test_results_file_round_trip(tmp_path):
    path = tmp_path / 'results.jsonl'
    assert load_results(path) == {}
    append_result(path, dict(name='a', v=1))
    append_result(path, dict(name='b', v=2))
    append_result(path, dict(name='a', v=3))  # a re-measured row: the last one counts
    assert load_results(path) == {'a': dict(name='a', v=3), 'b': dict(name='b', v=2)}


def test_iteration_times_read_training_logs_only(tmp_path):
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / '20260101_000000.json').write_text('\n'.join(json.dumps(r) for r in [
        dict(iter=10, loss=1.0, time=0.5), dict(iter=20, loss=0.9, time=0.7), dict(iter=20, time=9.0)]))
    (vis / 'scalars.json').write_text(json.dumps(dict(iter=10, loss=1.0, time=99.0)))
    assert iteration_times(tmp_path) == [0.5, 0.7]


def test_supervised_trunk_then_anomed_end_to_end(tiny_synth, tmp_path):
    """Two real rows on the tiny set: the trunk's burn-in checkpoint starts AnoMed; a re-run only re-tests."""
    root, _, _ = tiny_synth
    bench = root / 'annotations' / 'benchmark'
    bench.mkdir(exist_ok=True)
    shutil.copy(root / 'annotations' / 'train_labeled.json', bench / 'train.1@50.json')
    shutil.copy(root / 'annotations' / 'train_unlabeled.json', bench / 'train.1@50-unlabeled.json')
    budget = Budget('tiny', burn_in=2, semi=2, ratios=(50,), seeds=(0,), methods=('supervised', 'anomed'),
                    lr_steps=(0.75, 0.9))
    work = tmp_path / 'work'
    trunk = execute(Run('supervised', 50, 0), budget, str(REPO), str(root), work)
    assert (work / 'supervised_50pct_seed0' / 'iter_2.pth').is_file()  # the burn-in checkpoint
    assert 0.0 <= trunk['metrics']['coco/bbox_mAP'] <= 1.0
    assert trunk['peak_rss_mb'] > 100 and trunk['sec_per_iter'] > 0
    assert trunk['config'].endswith('sib-fa_cpu-1k_synth-cxr.py') and trunk['commit']
    assert trunk['val_curve'] and trunk['val_curve'][-1][0] == 4  # validated at the end (and each third)
    val = (work / 'supervised_50pct_seed0' / 'config_val.py').read_text()
    assert "ann_file='annotations/val.json'" in val  # scored on val too, from its own config
    assert 0.0 <= trunk['val_metrics']['coco/bbox_mAP'] <= 1.0
    ano = execute(Run('anomed', 50, 0), budget, str(REPO), str(root), work)
    log = (work / 'anomed_50pct_seed0' / 'train.out').read_text()
    assert 'Load checkpoint from' in log and 'supervised_50pct_seed0/iter_2.pth' in log
    assert 'TrunkOptimStateHook: optimizer state of' in log  # no optimizer restart
    assert ano['train_wall_s'] > 0 and 'coco/bbox_mAP_50' in ano['metrics'] and 'coco/bbox_mAP' in ano['val_metrics']
    again = execute(Run('anomed', 50, 0), budget, str(REPO), str(root), work)
    assert again['train_wall_s'] == 0.0  # finished rows are not retrained
    assert again['metrics']['coco/bbox_mAP'] == ano['metrics']['coco/bbox_mAP']
