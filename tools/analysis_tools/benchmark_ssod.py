"""Side-by-side benchmark: supervised, MeanTeacher, SoftTeacher, AnoMed and its ablations.

Trains and tests every method on the same synthetic chest X-rays, label ratios, seeds, input
size and iteration budget (protocol: anomed_mmdet/benchmark/plan.py), then writes the table,
the targets check and a plot into docs/benchmark.md (between this budget's markers) and
docs/benchmark_<budget>.png.

Resumable: finished rows are kept in <work-dir>/results.jsonl and skipped on a re-run; an
interrupted row resumes from its last checkpoint. Run it in the background:

    nohup python tools/analysis_tools/benchmark_ssod.py > benchmark.log 2>&1 &     # ~2 h, 2 cores
    python tools/analysis_tools/benchmark_ssod.py --quick                           # ~20 min
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

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from anomed_mmdet.benchmark import (BUDGETS, METHODS, aggregate, build_plan, plot_ratios,  # noqa: E402
                                    render_markdown, targets)
from anomed_mmdet.benchmark.execute import append_result, execute, load_results  # noqa: E402
from anomed_mmdet.benchmark.plan import split_files  # noqa: E402
from anomed_mmdet.benchmark.report import extra_command, report_rows  # noqa: E402
from anomed_mmdet.datasets.converters.semi_split import split_semi  # noqa: E402
from anomed_mmdet.utils.atomic_io import atomic_write_text  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--quick', action='store_true', help='the ~20 minute smoke budget')
    p.add_argument('--methods', nargs='+', choices=list(METHODS), help='only these methods')
    p.add_argument('--ratios', nargs='+', type=int, help='label ratios in percent (override the budget)')
    p.add_argument('--seeds', nargs='+', type=int, help='seeds (override the budget)')
    p.add_argument('--data-root', help='synthetic data folder (generated when missing); '
                   'default data/benchmark/synth_cxr_<N>')
    p.add_argument('--work-dir', help='default work_dirs/benchmark/<budget>')
    p.add_argument('--doc', default=str(REPO / 'docs' / 'benchmark.md'), help='markdown file to update')
    p.add_argument('--report-only', action='store_true', help='write the report from finished rows')
    p.add_argument('--dry-run', action='store_true', help='print the plan and exit')
    return p.parse_args()


def prepare_data(budget, data_root: Path, seed: int = 0) -> None:
    """Generate the images once, and the stratified labelled / unlabelled split per ratio."""
    py = sys.executable
    subprocess.run([py, 'tools/misc/gen_synth_cxr.py', str(data_root), '--num-images', str(budget.num_images),
                    '--size', str(budget.image_size), '--workers', '2', '--skip-existing'], check=True, cwd=REPO)
    for ratio in budget.ratios:
        lab, unlab = (data_root / f for f in split_files(ratio))
        if lab.is_file() and unlab.is_file():
            continue
        lab.parent.mkdir(parents=True, exist_ok=True)
        split_semi(str(data_root / 'annotations' / 'train.json'), str(lab.parent), percents=[ratio],
                   folds=[1], seed=seed)


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


def write_report(doc: Path, budget, rows, data_root: Path, command: str, work_dir: Path) -> str:
    classes, rare, counts = class_names_and_rarest(data_root)
    entries = aggregate(rows, classes)
    png = doc.parent / f'benchmark_{budget.name}.png'
    plot_ratios(entries, str(png))
    checks = targets(entries, rare)
    plan = build_plan(budget)
    done, planned = len({r['name'] for r in rows} & {p.name for p in plan}), len(plan)
    body = [
        f'### Budget `{budget.name}` ({done} of {planned} runs finished)',
        '',
        f'- Command: `{command}`',
        f'- Machine: {machine()}',
        f'- Date: {datetime.date.today().isoformat()}; results file `{shown(work_dir / "results.jsonl")}`',
        *extra_command(rows, command),
        f'- Data: {budget.num_images} synthetic images at {budget.image_size} px (train instances: ' +
        ', '.join(f'{c} {n}' for c, n in counts.items()) + '), trained and tested at 320 px; test split.',
        f'- Budget: supervised trunk {budget.burn_in} + {budget.semi} iterations (batch 4); semi-supervised '
        f'runs start from the trunk at {budget.burn_in} and train {budget.semi} iterations (1 labelled + 4 '
        f'unlabelled images) on the trunk\'s learning-rate curve (AdamW 1e-3, x0.1 at 80% and 93% of '
        f'{budget.burn_in + budget.semi}), EMA momentum {budget.ema_momentum}.',
        '- AP in points (0-100), mean ± sample standard deviation over seeds; per-class AP is AP50:95.',
        '',
        render_markdown(entries, classes, rare),
        '',
        f'![AP50:95 against label ratio]({png.name})',
        '',
    ]
    if checks:
        body += ['| target (10% labels) | measured | met |', '|---|---|---|']
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


def main() -> None:
    args = parse_args()
    budget = BUDGETS['quick' if args.quick else 'default']
    if args.ratios:
        budget = replace(budget, ratios=tuple(args.ratios))
    if args.seeds:
        budget = replace(budget, seeds=tuple(args.seeds))
    full = budget  # the report covers the budget's whole plan whatever --methods trains
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
    command = 'python tools/analysis_tools/benchmark_ssod.py' + (' --quick' if args.quick else '')
    results = work_dir / 'results.jsonl'
    work_dir.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        prepare_data(budget, data_root)
        done = load_results(results)
        t0 = time.time()
        for i, run in enumerate(plan):
            if run.name in done:
                print(f'[{i + 1}/{len(plan)}] {run.name}: finished earlier, skipped', flush=True)
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
    print(write_report(Path(args.doc), full, rows, data_root, command, work_dir))


if __name__ == '__main__':
    main()
