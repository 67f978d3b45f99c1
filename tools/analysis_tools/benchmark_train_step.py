"""Training-step time of AnoMed against SoftTeacher and MeanTeacher, side by side in one process.

Every method gets the benchmark's config, the same trunk checkpoint and copies of the same
batches; steps are timed round-robin and the median of each method is reported, split into
phases (teacher pseudo labels, supervised loss, unsupervised loss, AnoMed's hesitant losses,
backward + optimizer step), with each method's total as a ratio of SoftTeacher's.

Example (after the default benchmark has trained its first trunk):

    python tools/analysis_tools/benchmark_train_step.py --repeats 15 \\
        --checkpoint-dir work_dirs/benchmark/default
"""
import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

from ssod_benchmark import BUDGETS, METHODS, Run
from ssod_benchmark.execute import git_commit, trunk_checkpoint
from ssod_benchmark.step_time import PHASES, time_steps

SEMI = [k for k, m in METHODS.items() if m.semi]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--methods', nargs='+', choices=SEMI,
                   default=['soft_teacher', 'mean_teacher', 'anomed'])
    p.add_argument('--budget', choices=list(BUDGETS), default='default')
    p.add_argument('--data-root', help='default data/benchmark/synth_cxr_<N> (made by benchmark_ssod.py)')
    p.add_argument('--checkpoint-dir', help="a benchmark work dir: the trunks' burn-in checkpoints "
                   'are read from it (default: random weights)')
    p.add_argument('--ratio', type=int, default=5)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--repeats', type=int, default=10, help='timed steps per method')
    p.add_argument('--warmup', type=int, default=2, help='untimed steps per method first')
    p.add_argument('--device', help='where the steps run (default: cuda when a GPU is visible, else cpu)')
    p.add_argument('--out', help='also write the medians as JSON (default docs/results/step_time_<budget>.json '
                   'when --checkpoint-dir is given: the report judges the step target on it; "" for none)')
    return p.parse_args()


def main() -> None:
    args = parse_args()
    budget = BUDGETS[args.budget]
    data_root = args.data_root or str(REPO / 'data' / 'benchmark' / f'synth_cxr_{budget.num_images}')
    if not (Path(data_root) / 'annotations' / 'benchmark').is_dir():
        sys.exit(f'{data_root} has no benchmark split: run tools/analysis_tools/benchmark_ssod.py first '
                 'or give --data-root')
    checkpoints = {}
    if args.checkpoint_dir:
        for m in args.methods:
            ckpt = trunk_checkpoint(Run(m, args.ratio, args.seed), budget, Path(args.checkpoint_dir))
            if not ckpt.is_file():
                sys.exit(f'missing trunk checkpoint {ckpt}')
            checkpoints[METHODS[m].trunk] = str(ckpt)
    import torch
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    res = time_steps(args.methods, budget, str(REPO), data_root, checkpoints, repeats=args.repeats,
                     warmup=args.warmup, ratio=args.ratio, seed=args.seed, device=device)
    ref = res.get('soft_teacher', {}).get('total')
    cols = list(PHASES) + ['total']
    print(f'median seconds per training step, {args.repeats} steps per method after {args.warmup} '
          f'warm-up, round-robin, {args.ratio}% labels, seed {args.seed}, on {device}')
    print('| method | ' + ' | '.join(cols) + ' | x SoftTeacher |')
    print('|---' * (len(cols) + 2) + '|')
    for m, r in res.items():
        ratio = f'{r["total"] / ref:.2f}' if ref else '-'
        print(f'| {METHODS[m].label} | ' + ' | '.join(f'{r[c]:.3f}' for c in cols) + f' | {ratio} |')
    out = args.out if args.out is not None else (
        str(REPO / 'docs' / 'results' / f'step_time_{budget.name}.json') if args.checkpoint_dir else '')
    if out:
        rec = dict(budget=budget.name, ratio=args.ratio, seed=args.seed, repeats=args.repeats, warmup=args.warmup,
                   device=device, trunk_checkpoints=bool(checkpoints), commit=git_commit(str(REPO)), median_s=res)
        Path(out).write_text(json.dumps(rec, indent=1) + '\n')
        print(f'written {out}')


if __name__ == '__main__':
    main()
