"""Run one benchmark row (train, then test) in subprocesses and measure it.

Each row's work dir holds its generated config, the train / test logs and checkpoints. A row
that was interrupted resumes from its last checkpoint (``tools/train.py --resume``); a row
whose final checkpoint exists is only re-tested. Peak resident memory is the training
process's ``ru_maxrss`` from ``os.wait4``; seconds per iteration are the median of the
logged iteration times. Every row is scored on test and on val (``val_metrics``: settings are
chosen on val, the test split is for the final table).
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

from .plan import METHODS, Budget, Run, build_config, on_split


def run_command(cmd: List[str], log_path: Path, cwd: str) -> Tuple[float, float]:
    """Run ``cmd`` with output to ``log_path``; (wall seconds, peak RSS in MiB). Raises on failure."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log_path, 'a') as log:
        log.write(f'$ {" ".join(cmd)}\n')
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = ''.join(log_path.read_text().splitlines(keepends=True)[-15:])
        raise RuntimeError(f'command failed (exit {proc.returncode}), log {log_path}:\n{tail}')
    return wall, usage.ru_maxrss / 1024.0


def iteration_times(work_dir: Path) -> List[float]:
    """Logged seconds per iteration of every training session under ``work_dir``."""
    times = []
    for js in sorted(work_dir.glob('*/vis_data/*.json')):
        if js.stem != js.parent.parent.name:
            continue
        for line in js.read_text().splitlines():
            rec = json.loads(line)
            if 'time' in rec and 'loss' in rec:
                times.append(float(rec['time']))
    return times


def latest_test_metrics(test_dir: Path) -> Optional[Dict[str, float]]:
    """The metrics json the newest tools/test.py run wrote under ``test_dir`` (<ts>/<ts>.json)."""
    runs = sorted(p for p in test_dir.glob('*/*.json') if p.stem == p.parent.name)
    return json.loads(runs[-1].read_text()) if runs else None


def trunk_checkpoint(run: Run, budget: Budget, work_dir: Path) -> Path:
    """The checkpoint a row starts from: its trunk's at the burn-in iteration."""
    return work_dir / run.trunk.name / f'iter_{budget.burn_in}.pth'


def final_checkpoint(run: Run, budget: Budget, work_dir: Path) -> Path:
    m = METHODS[run.method]
    iters = budget.semi if m.trunk else budget.scaled(m.iters).total
    return work_dir / run.name / f'iter_{iters}.pth'


def execute(run: Run, budget: Budget, repo: str, data_root: str, work_dir: Path,
            python: str = sys.executable) -> dict:
    """Train (or resume) and test one row; the row's result record."""
    rdir = work_dir / run.name
    rdir.mkdir(parents=True, exist_ok=True)
    trunk_ckpt = None
    if run.trunk is not None:
        trunk_ckpt = str(trunk_checkpoint(run, budget, work_dir))
        if not Path(trunk_ckpt).is_file():
            raise FileNotFoundError(f'{run.name} starts from {trunk_ckpt}, which does not exist')
    cfg = rdir / 'config.py'
    build_config(run, budget, repo, data_root, trunk_ckpt).dump(str(cfg))
    final = final_checkpoint(run, budget, work_dir)
    train_s, peak_mb = 0.0, float('nan')
    if not final.is_file():
        cmd = [python, 'tools/train.py', str(cfg), '--work-dir', str(rdir)]
        if (rdir / 'last_checkpoint').is_file():
            cmd.append('--resume')
        train_s, peak_mb = run_command(cmd, rdir / 'train.out', repo)
        if not final.is_file():
            raise RuntimeError(f'{run.name}: training ended without {final}')
    metrics, test_s = score(cfg, final, 'test', rdir, repo, python)
    times = iteration_times(rdir)
    return dict(name=run.name, method=run.method, ratio=run.ratio, seed=run.seed, budget=budget.name,
                config=METHODS[run.method].config, commit=git_commit(repo), metrics=metrics,
                val_metrics=score_val(run, budget, data_root, work_dir, repo, python) if budget.score_val else {},
                val_curve=val_curve(rdir), sec_per_iter=statistics.median(times) if times else float('nan'),
                peak_rss_mb=peak_mb, train_wall_s=train_s, test_wall_s=test_s)


def score(cfg: Path, checkpoint: Path, split: str, rdir: Path, repo: str,
          python: str = sys.executable) -> Tuple[Dict[str, float], float]:
    """tools/test.py of ``checkpoint`` with ``cfg`` (whose test loader reads ``split``); its metrics
    and wall seconds."""
    out = rdir / split
    wall, _ = run_command([python, 'tools/test.py', str(cfg), str(checkpoint), '--work-dir', str(out)],
                          rdir / f'{split}.out', repo)
    metrics = latest_test_metrics(out)
    if metrics is None:
        raise RuntimeError(f'{rdir.name}: tools/test.py wrote no metrics under {out}')
    return metrics, wall


def score_val(run: Run, budget: Budget, data_root: str, work_dir: Path, repo: str,
              python: str = sys.executable) -> Dict[str, float]:
    """The val metrics of a trained row's final checkpoint (also for rows finished before rows
    were scored on val: ``benchmark_ssod.py`` fills them in from the kept checkpoint)."""
    rdir = work_dir / run.name
    final = final_checkpoint(run, budget, work_dir)
    if not final.is_file():
        raise FileNotFoundError(f'{run.name}: no final checkpoint {final} to score on val')
    cfg = rdir / 'config_val.py'
    on_split(Config.fromfile(str(rdir / 'config.py')), 'val', data_root).dump(str(cfg))  # the row's own config
    return score(cfg, final, 'val', rdir, repo, python)[0]


def val_curve(work_dir: Path, key: str = 'coco/bbox_mAP') -> List[Tuple[int, float]]:
    """(iteration, ``key``) of every validation logged under ``work_dir`` (the trunk's plateau check)."""
    points = {}
    for js in sorted(work_dir.glob('*/vis_data/*.json')):
        if js.stem != js.parent.parent.name:
            continue
        for line in js.read_text().splitlines():
            rec = json.loads(line)
            if key in rec and 'step' in rec:
                points[int(rec['step'])] = float(rec[key])
    return sorted(points.items())


def git_commit(repo: str) -> str:
    """The repository's short commit, ``-dirty`` when tracked files changed."""
    def git(*args: str) -> str:
        try:
            out = subprocess.run(['git', *args], cwd=repo, capture_output=True, text=True)
        except OSError:  # no git on the machine (or no repository): the row is still recorded
            return ''
        return out.stdout.strip() if out.returncode == 0 else ''
    head = git('rev-parse', '--short', 'HEAD') or 'unknown'
    return head + ('-dirty' if git('status', '--porcelain', '--untracked-files=no') else '')


def load_results(path: Path) -> Dict[str, dict]:
    """Finished rows of a results file (one JSON object per line), by run name."""
    rows = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                rows[rec['name']] = rec
    return rows


def append_result(path: Path, record: dict) -> None:
    """Append one finished row; a line is written whole and flushed to disk."""
    with open(path, 'a') as f:
        f.write(json.dumps(record) + '\n')
        f.flush()
        os.fsync(f.fileno())
