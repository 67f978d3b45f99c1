"""The PLO ablation on the val split: every semi-supervised row continues the same supervised
FPN trunk for the same budget; one PLO part is switched off (or one value changed) per row.

    python tools/analysis_tools/plo_ablation.py                      # train the trunk + every row
    python tools/analysis_tools/plo_ablation.py --rows anomed mean-teacher --seeds 0 1
    python tools/analysis_tools/plo_ablation.py --report             # table from the results file

Each finished row is appended to ``docs/results/plo_ablation.json`` (row, seed, config
overrides, commit, val metrics) and skipped when the script runs again, so a plan can be
finished over several sittings. Settings are read on val only; the test split is not touched.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

from ssod_benchmark.execute import git_commit

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / 'docs/results/plo_ablation.json'
TRUNK = 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-0.5k_synth-cxr-10pct.py'
ANOMED = 'configs/anomed/anomed_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_semi-0.1-synth-cxr.py'
MEAN_TEACHER = 'configs/mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_semi-0.1-synth-cxr.py'
SUPERVISED = 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr-10pct.py'
SOFT_NMS = "dict(_delete_=True, type='soft_nms', iou_threshold=0.5, min_score=0.05)"
ALIGN = "dict(_delete_=True, type='scores', momentum=0.99, alpha=1.0, max_ratio=2.0, min_ratio=1.0, min_score=0.05)"
# row -> (config, python lines appended to a config that inherits it)
ROWS: Dict[str, tuple] = {
    'supervised-continued': (SUPERVISED, [
        "train_cfg = dict(max_iters=300, val_interval=300)",
        "param_scheduler = [dict(type='MultiStepLR', begin=0, end=300, by_epoch=False, milestones=[250], gamma=0.1)]",
        "optim_wrapper = dict(optimizer=dict(lr=2e-4))"]),
    'mean-teacher': (MEAN_TEACHER, []),
    'anomed': (ANOMED, []),
    'anomed-calibrated': (ANOMED, ["model = dict(plo=dict(class_thrs='calibrated'))"]),
    'anomed-dist-align': (ANOMED, [f"model = dict(plo=dict(dist_align={ALIGN}))"]),
    'anomed-calibrated-dist-align': (ANOMED, [f"model = dict(plo=dict(class_thrs='calibrated', dist_align={ALIGN}))"]),
    'anomed-no-hesitant': (ANOMED, ["model = dict(plo=dict(hesitant=False))"]),
    'anomed-soft-nms': (ANOMED, [f"model = dict(plo=dict(soft_nms={SOFT_NMS}))"]),
    'anomed-bn-ema': (ANOMED, ["custom_hooks = [dict(type='BurnInMeanTeacherHook', momentum=0.01, skip_buffer=False)]"]),
    'anomed-align-loss': (ANOMED, ["model = dict(plo=dict(dist_align=dict(_delete_=True, type='loss', loss_weight=0.1)))"]),
    'anomed-unsup-0.5': (ANOMED, ["model = dict(semi_train_cfg=dict(unsup_weight=0.5))"]),
    'anomed-unsup-2': (ANOMED, ["model = dict(semi_train_cfg=dict(unsup_weight=2.0))"]),
}
NO_VAL = "val_cfg = None\nval_dataloader = None\nval_evaluator = None"


def commit() -> str:
    return git_commit(str(REPO))


def load_results() -> List[dict]:
    return json.loads(RESULTS.read_text()) if RESULTS.is_file() else []


def run(cmd: List[str], log: Path) -> None:
    with log.open('a') as f:
        if subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT).returncode:
            sys.exit(f'failed: {" ".join(cmd)} (log: {log})')


def newest_metrics(test_dir: Path) -> Optional[dict]:
    runs = sorted(p for p in test_dir.glob('*/*.json') if p.stem == p.parent.name)
    return json.loads(runs[-1].read_text()) if runs else None


def val_test(config: str, ckpt: Path, out_dir: Path, log: Path) -> dict:
    """tools/test.py on the val split (the teacher for semi checkpoints): the config's val
    loader and evaluator as its test ones."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = out_dir / 'val_as_test.py'
    cfg.write_text(f"_base_ = '{(REPO / config).resolve()}'\n"
                   "test_dataloader = dict(dataset=dict(ann_file='annotations/val.json'))\n"
                   "test_evaluator = dict(_base_.val_evaluator, _delete_=True)\n")
    run([sys.executable, 'tools/test.py', str(cfg), str(ckpt), '--work-dir', str(out_dir)], log)
    return newest_metrics(out_dir)


def train_trunk(work: Path, seed: int) -> Path:
    wd = work / f'trunk-seed{seed}'
    ckpt = wd / 'iter_500.pth'
    if not ckpt.is_file():
        wd.mkdir(parents=True, exist_ok=True)
        run([sys.executable, 'tools/train.py', TRUNK, '--work-dir', str(wd), '--cfg-options',
             f'randomness.seed={seed}'], wd / 'ablation.log')
    return ckpt


def run_row(name: str, seed: int, work: Path, trunk: Path) -> dict:
    config, lines = ROWS[name]
    wd = work / f'{name}-seed{seed}'
    wd.mkdir(parents=True, exist_ok=True)
    cfg = wd / 'row_config.py'  # the row (evaluated on val) ...
    cfg.write_text('\n'.join([f"_base_ = '{REPO / config}'", *lines, '']))
    train_cfg = wd / 'row_train.py'  # ... trained without validation
    train_cfg.write_text(f"_base_ = '{cfg}'\n{NO_VAL}\n")
    ckpt = wd / 'iter_300.pth'
    if not ckpt.is_file():
        run([sys.executable, 'tools/train.py', str(train_cfg), '--work-dir', str(wd), '--cfg-options',
             f'load_from={trunk}', f'randomness.seed={seed}'], wd / 'ablation.log')
    metrics = val_test(str(cfg), ckpt, wd / 'val', wd / 'ablation.log')
    return dict(row=name, seed=seed, config=config, overrides=lines, commit=commit(), split='val',
                metrics=metrics)


def report(results: List[dict]) -> str:
    import numpy as np
    classes = sorted({k.split('/')[1][:-len('_precision')] for r in results for k in r['metrics']
                      if k.endswith('_precision')})
    head = ['row', 'seeds', 'AP50:95', 'AP50'] + classes
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    order = ['trunk'] + list(ROWS)
    for name in sorted({r['row'] for r in results}, key=lambda n: order.index(n) if n in order else 99):
        rs = [r['metrics'] for r in results if r['row'] == name]

        def cell(key: str) -> str:
            v = 100 * np.array([m.get(key, np.nan) for m in rs])
            return f'{v.mean():.1f}' + (f' ± {v.std(ddof=1):.1f}' if len(v) > 1 else '')
        lines.append('| ' + ' | '.join([name, str(len(rs)), cell('coco/bbox_mAP'), cell('coco/bbox_mAP_50')]
                                       + [cell(f'coco/{c}_precision') for c in classes]) + ' |')
    return '\n'.join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--rows', nargs='+', choices=list(ROWS), default=list(ROWS))
    p.add_argument('--seeds', nargs='+', type=int, default=[0])
    p.add_argument('--work-dir', type=Path, default=REPO / 'work_dirs/plo_ablation')
    p.add_argument('--trunk-seed', type=int, help='start every seed from this seed\'s trunk (the spread then '
                   'covers the semi-supervised stage only); default: each seed its own trunk')
    p.add_argument('--report', action='store_true', help='print the table of the results file and exit')
    a = p.parse_args()
    results = load_results()
    if not a.report:
        for seed in a.seeds:
            t_seed = seed if a.trunk_seed is None else a.trunk_seed
            trunk = train_trunk(a.work_dir, t_seed)
            if not any(r['row'] == 'trunk' and r['seed'] == t_seed for r in results):
                m = val_test(TRUNK, trunk, a.work_dir / f'trunk-seed{t_seed}' / 'val',
                             a.work_dir / f'trunk-seed{t_seed}' / 'ablation.log')
                results.append(dict(row='trunk', seed=t_seed, config=TRUNK, overrides=[], commit=commit(),
                                    split='val', metrics=m))
                RESULTS.write_text(json.dumps(results, indent=1))
            for name in a.rows:
                if any(r['row'] == name and r['seed'] == seed for r in results):
                    continue
                results.append(dict(run_row(name, seed, a.work_dir, trunk), trunk_seed=t_seed))
                RESULTS.write_text(json.dumps(results, indent=1))
                print(f'{name} seed {seed}: val AP50:95 {results[-1]["metrics"]["coco/bbox_mAP"]:.3f}', flush=True)
    print(report(results))


if __name__ == '__main__':
    main()
