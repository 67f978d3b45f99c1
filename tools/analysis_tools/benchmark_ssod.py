"""Side-by-side benchmark: supervised, MeanTeacher, SoftTeacher, AnoMed and its ablations.

Trains and tests every method on the same synthetic chest X-rays, labelled folds, seeds, input
size and iteration budget (protocol v2: tools/analysis_tools/ssod_benchmark/plan.py), then
writes the table, the regime checks, the targets check and a plot into docs/benchmark.md
(between this budget's markers) and docs/benchmark_<budget>.png.

Resumable: finished rows are appended to docs/results/benchmark_<budget>.jsonl (commit it) and
skipped on a re-run; an interrupted row resumes from its last checkpoint. Run it in the
background:

    nohup python tools/analysis_tools/benchmark_ssod.py > benchmark.log 2>&1 &    # main rows, 3 seeds
    python tools/analysis_tools/benchmark_ssod.py --ablations     # + the ablation rows (first seed)
    python tools/analysis_tools/benchmark_ssod.py --quick          # the smoke budget
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]

from ssod_benchmark import (ABLATIONS, BUDGETS, METHODS, aggregate, build_plan, plot_ratios, regime_checks,
                            render_markdown, targets)
from ssod_benchmark.execute import append_result, execute, final_checkpoint, load_results, score_val
from ssod_benchmark.plan import split_files
from ssod_benchmark.report import report_rows
from anomed_mmdet.datasets.converters.semi_split import split_semi
from anomed_mmdet.utils.atomic_io import atomic_write_text


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--budget', choices=list(BUDGETS), default='default',
                   help='default: the benchmark; quick: a smoke run; demo: `make demo` (supervised and AnoMed)')
    p.add_argument('--quick', action='store_true', help='the smoke budget (same as --budget quick)')
    p.add_argument('--methods', nargs='+', choices=list(METHODS), help='only these methods')
    p.add_argument('--ablations', action='store_true', help='add the ablation rows (first seed; they reuse the '
                   'first trunk and write to the same results file)')
    p.add_argument('--ratios', nargs='+', type=int, help='label ratios in percent (override the budget)')
    p.add_argument('--seeds', nargs='+', type=int, help='seeds (override the budget)')
    p.add_argument('--data-root', help='synthetic data folder (generated when missing); '
                   'default data/benchmark/synth_cxr_<N>')
    p.add_argument('--work-dir', help='default work_dirs/benchmark/<budget>')
    p.add_argument('--doc', default=str(REPO / 'docs' / 'benchmark.md'), help='markdown file to update')
    p.add_argument('--results', help='results file (one JSON row per line); default '
                   'docs/results/benchmark_<budget>.jsonl')
    p.add_argument('--report-only', action='store_true', help='write the report from finished rows')
    p.add_argument('--dry-run', action='store_true', help='print the plan and exit')
    p.add_argument('--data-only', action='store_true', help='generate the data and labelled folds, then exit '
                   '(before rows run side by side: gpu_run.sh)')
    return p.parse_args()


def prepare_data(budget, data_root: Path) -> None:
    """Generate the images once, and each seed's labelled fold per ratio (seed s: fold s + 1)."""
    py = sys.executable
    workers = str(min(8, os.cpu_count() or 1))
    subprocess.run([py, 'tools/misc/gen_synth_cxr.py', str(data_root), '--num-images', str(budget.num_images),
                    '--size', str(budget.image_size), '--workers', workers, '--skip-existing'], check=True, cwd=REPO)
    for ratio in budget.ratios:
        for seed in budget.seeds:
            lab, unlab = (data_root / f for f in split_files(ratio, seed))
            if lab.is_file() and unlab.is_file():
                continue
            lab.parent.mkdir(parents=True, exist_ok=True)
            split_semi(str(data_root / 'annotations' / 'train.json'), str(lab.parent), percents=[ratio],
                       folds=[seed + 1], seed=0)


def split_lines(budget, data_root: Path) -> list:
    """One bullet per labelled fold: its shares of images, images with findings and boxes."""
    out = []
    for ratio in budget.ratios:
        for seed in budget.seeds:
            lab = data_root / split_files(ratio, seed)[0]
            if lab.is_file():
                sh = json.loads(lab.read_text()).get('info', {}).get('semi_split', {}).get('shares')
                if sh:
                    out.append(f'  - {ratio}%, seed {seed} (`{lab.name}`): {sh["images"]:.1%} of the images, '
                               f'{sh["abnormal_images"]:.1%} of those with findings, {sh["boxes"]:.1%} of the boxes')
    return out


def class_names_and_rarest(data_root: Path) -> tuple:
    train = json.loads((data_root / 'annotations' / 'train.json').read_text())
    cats = sorted(train['categories'], key=lambda c: c['id'])
    counts = {c['id']: 0 for c in cats}
    for a in train['annotations']:
        counts[a['category_id']] += 1
    rare = min(cats, key=lambda c: counts[c['id']])['name']
    return [c['name'] for c in cats], rare, {c['name']: counts[c['id']] for c in cats}


def machine() -> str:
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(':', 1)[1].strip() for line in open('/proc/cpuinfo') if line.startswith('model name'))
        cpu = model
    except (OSError, StopIteration):
        pass
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'
    return f'{cpu}, {os.cpu_count()} cores, {dev}; torch {torch.__version__}, Python {platform.python_version()}'


def shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def write_report(doc: Path, budget, rows, data_root: Path, command: str, results: Path,
                 work_dir: Optional[Path] = None) -> str:
    classes, rare, counts = class_names_and_rarest(data_root)
    entries = aggregate(rows, classes)
    png = doc.parent / f'benchmark_{budget.name}.png'
    plot_ratios(entries, str(png))
    main_ratio = budget.ratios[0]
    step_file = results.parent / f'step_time_{budget.name}.json'  # benchmark_train_step.py --out
    step_time = json.loads(step_file.read_text()) if step_file.is_file() else None
    checks = targets(entries, rare, main_ratio, rows, seeds_needed=len(budget.seeds), step_time=step_time)
    regime = regime_checks(entries, rows, main_ratio)
    # the main plan, and the ablation rows once any of them is in
    main = replace(budget, methods=tuple(m for m in budget.methods if m not in ABLATIONS))
    plan = build_plan(budget if any(r['method'] in ABLATIONS for r in rows) else main)
    done, planned = len({r['name'] for r in rows} & {p.name for p in plan}), len(plan)
    main_names = {p.name for p in build_plan(main)}
    main_min = sum(r['train_wall_s'] + r['test_wall_s'] for r in rows if r['name'] in main_names) / 60
    n_main = len({r['name'] for r in rows} & main_names)
    body = [
        f'### Budget `{budget.name}` ({done} of {planned} runs finished)',
        '',
        f'- Command: `{command}`',
        f'- Machine: {machine()}',
        f'- Time: the {n_main} finished rows of the main plan (of {len(main_names)}) took {main_min:.0f} min of '
        'training and testing (sum of their wall times; val scoring and data generation not included)',
        f'- Date: {datetime.date.today().isoformat()}; results file `{shown(results)}` (each row with its config, '
        'commit and seed)',
        f'- Data: {budget.num_images} synthetic images at {budget.image_size} px (train instances: ' +
        ', '.join(f'{c} {n}' for c, n in counts.items()) + f'), trained and tested at {budget.input_size} px; test split.',
        f'- Protocol v2 (tools/analysis_tools/ssod_benchmark/plan.py): supervised trunk {budget.burn_in} + '
        f'{budget.semi} iterations, 4 labelled images each, ' +
        (f'validated {budget.val_points} times; ' if budget.val_points else 'not validated; ') +
        'semi-supervised rows '
        f'start from it at {budget.burn_in} with its weights and optimizer state and train {budget.semi} '
        f'iterations of 4 labelled (same pipeline) + 4 unlabelled images on its learning-rate curve (AdamW '
        f'1e-3, x0.1 at {budget.milestones()}), EMA momentum {budget.ema_momentum}, BN statistics frozen; '
        'MeanTeacher and SoftTeacher on the same SIB + FA detector.',
        '- Labelled folds (each seed its own; every class labelled, the population\'s shares held):',
        *split_lines(budget, data_root),
        '- AP in points (0-100), mean ± sample standard deviation over seeds; per-class AP is AP50:95. '
        'val: the final checkpoint on the val split (settings are chosen on it); every other column is test.',
        '- Step time: `python tools/analysis_tools/benchmark_train_step.py --repeats 15 --checkpoint-dir '
        f'{shown(work_dir or REPO / "work_dirs" / "benchmark" / budget.name)}` (methods side by side in one process, on the first trunk) writes '
        f'`{shown(step_file)}`' + (f' (commit {step_time["commit"]})' if step_time else ' (not run yet)') + '.',
        '',
        render_markdown(entries, classes, rare),
        '',
        f'![AP50:95 against label ratio]({png.name})',
        '',
    ]
    if regime:
        body += ['| regime check | measured | met |', '|---|---|---|']
        body += [f'| {t} | {m} | {"yes" if ok else "**no**"} |' for t, m, ok in regime]
        body.append('')
    if checks:
        body += [f'| target ({main_ratio}% labels) | measured | met |', '|---|---|---|']
        body += [f'| {t} | {m} | {"yes" if ok else "**no**"} |' for t, m, ok in checks]
        body.append('')
    text = '\n'.join(body)
    start, end = f'<!-- benchmark:{budget.name}:start -->', f'<!-- benchmark:{budget.name}:end -->'
    old = doc.read_text() if doc.is_file() else '# Benchmark\n'
    block = f'{start}\n{text}\n{end}'
    if start in old and end in old:
        new = re.sub(re.escape(start) + '.*?' + re.escape(end), lambda _: block, old, flags=re.S)
    else:
        new = old.rstrip('\n') + '\n\n' + block + '\n'
    atomic_write_text(new, doc)
    return text


def headline(rows, budget) -> str:
    """AnoMed against the supervised row of the same seed, and the benchmark's figure for context."""
    ap = {(r['method'], r['seed']): 100 * r['metrics'].get('coco/bbox_mAP', float('nan')) for r in rows}
    lines = [f'AnoMed vs supervised, seed {s}, test AP50:95: {ap[("anomed", s)]:.1f} vs '
             f'{ap[("supervised", s)]:.1f} ({ap[("anomed", s)] - ap[("supervised", s)]:+.1f})'
             for s in budget.seeds if ('anomed', s) in ap and ('supervised', s) in ap]
    if budget.name != 'default':
        ref = REPO / 'docs' / 'results' / 'benchmark_default.jsonl'
        full = [r for r in load_results(ref).values() if r['method'] in ('anomed', 'supervised')]
        got = {(r['method'], r['seed']): 100 * r['metrics']['coco/bbox_mAP'] for r in full}
        diffs = [got[('anomed', s)] - got[('supervised', s)] for (m, s) in got if m == 'anomed' and ('supervised', s) in got]
        lines.append(f'This is the {budget.name} budget ({budget.total} iterations). The benchmark\'s figure '
                     '(docs/benchmark.md, protocol v2, default budget): ' +
                     (f'AnoMed - supervised = {sum(diffs) / len(diffs):+.1f} AP50:95 over {len(diffs)} seed(s), '
                      f'from {shown(ref)}' if diffs else 'not measured yet'))
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    budget = BUDGETS['quick' if args.quick else args.budget]
    # the report covers every finished row of the budget's plan, whatever this call narrows it to
    full = replace(budget, methods=budget.methods + ABLATIONS,
                   ratios=tuple(dict.fromkeys(budget.ratios + tuple(args.ratios or ()))),
                   seeds=tuple(dict.fromkeys(budget.seeds + tuple(args.seeds or ()))))
    if args.ratios:
        budget = replace(budget, ratios=tuple(args.ratios))
    if args.seeds:
        budget = replace(budget, seeds=tuple(args.seeds))
    if args.ablations:
        budget = replace(budget, methods=budget.methods + ABLATIONS)
    if args.methods:
        budget = replace(budget, methods=tuple(args.methods))
    data_root = Path(args.data_root or REPO / 'data' / 'benchmark' / f'synth_cxr_{budget.num_images}').resolve()
    work_dir = Path(args.work_dir or REPO / 'work_dirs' / 'benchmark' / budget.name).resolve()
    plan = build_plan(budget)
    if args.dry_run:
        for r in plan:
            print(r.name, '<-', r.trunk.name if r.trunk else 'scratch')
        return
    # the command that trains these rows (--report-only only rewrites the doc)
    command = 'python tools/analysis_tools/benchmark_ssod.py' + ('' if budget.name == 'default'
                                                                 else f' --budget {budget.name}')
    # committed with the repo, so the report regenerates from it and a plan finishes over sittings
    results = Path(args.results or REPO / 'docs' / 'results' / f'benchmark_{budget.name}.jsonl')
    work_dir.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        prepare_data(budget, data_root)
        if args.data_only:
            return
        done = load_results(results)
        t0 = time.time()
        for i, run in enumerate(plan):
            if run.name in done:
                print(f'[{i + 1}/{len(plan)}] {run.name}: finished earlier, skipped', flush=True)
                if (budget.score_val and 'val_metrics' not in done[run.name]
                        and final_checkpoint(run, budget, work_dir).is_file()):
                    # rows finished before every row was scored on val: score the kept checkpoint
                    rec = dict(done[run.name], val_metrics=score_val(run, budget, str(data_root), work_dir,
                                                                     str(REPO)))
                    append_result(results, rec)
                    done[run.name] = rec
                    print(f'    val AP50:95 {rec["val_metrics"].get("coco/bbox_mAP", float("nan")) * 100:.1f} '
                          '(scored now)', flush=True)
                continue
            print(f'[{i + 1}/{len(plan)}] {run.name}: training ({(time.time() - t0) / 60:.1f} min so far)', flush=True)
            rec = execute(run, budget, str(REPO), str(data_root), work_dir)
            append_result(results, rec)
            done[run.name] = rec
            print(f'    AP50:95 {rec["metrics"].get("coco/bbox_mAP", float("nan")) * 100:.1f}  '
                  f'{rec["sec_per_iter"]:.2f} s/iter  peak {rec["peak_rss_mb"]:.0f} MiB', flush=True)
    rows = report_rows(load_results(results).values(), full)
    if not rows:
        sys.exit(f'no finished rows in {results}')
    print(write_report(Path(args.doc), full, rows, data_root, command, results, work_dir))
    print(headline(rows, budget))


if __name__ == '__main__':
    main()
