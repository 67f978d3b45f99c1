"""Turn benchmark rows into the table of docs/benchmark.md, the targets check and a plot."""
import math
import statistics
from typing import Dict, Iterable, List, Optional, Sequence

from .plan import METHODS, Budget, build_plan

AP, AP50 = 'coco/bbox_mAP', 'coco/bbox_mAP_50'
MAP40, CPM = 'vinbigdata/mAP', 'froc/cpm'  # VinBigData mAP@0.4 (VOCMetric), FROC CPM


def _mean_sd(values: Sequence[float]) -> tuple:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return float('nan'), float('nan')
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else float('nan'))


def class_ap(metrics: Dict[str, float], cls: str) -> float:
    """Per-class AP50:95 as mmdet's CocoMetric(classwise=True) logs it (``coco/<cls>_precision``)."""
    return float(metrics.get(f'coco/{cls}_precision', float('nan')))


def aggregate(rows: Sequence[dict], classes: Sequence[str]) -> List[dict]:
    """One entry per (method, ratio): mean and spread over seeds, medians of the costs."""
    groups: Dict[tuple, List[dict]] = {}
    for r in rows:
        groups.setdefault((r['ratio'], r['method']), []).append(r)
    order = list(METHODS)
    out = []
    for (ratio, method), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))):
        entry = dict(method=method, ratio=ratio, n=len(rs), seeds=sorted(r['seed'] for r in rs))
        entry['ap'] = _mean_sd([r['metrics'].get(AP, float('nan')) for r in rs])
        entry['val_ap'] = _mean_sd([r.get('val_metrics', {}).get(AP, float('nan')) for r in rs])
        entry['ap50'] = _mean_sd([r['metrics'].get(AP50, float('nan')) for r in rs])
        entry['map40'] = _mean_sd([r['metrics'].get(MAP40, float('nan')) for r in rs])
        entry['cpm'] = _mean_sd([r['metrics'].get(CPM, float('nan')) for r in rs])
        entry['cls'] = {c: _mean_sd([class_ap(r['metrics'], c) for r in rs])[0] for c in classes}
        spi = [r['sec_per_iter'] for r in rs if not math.isnan(r['sec_per_iter'])]
        entry['sec_per_iter'] = statistics.median(spi) if spi else float('nan')
        rss = [r['peak_rss_mb'] for r in rs if not math.isnan(r['peak_rss_mb'])]
        entry['peak_rss_mb'] = max(rss) if rss else float('nan')
        out.append(entry)
    return out


def report_rows(results: Iterable[dict], budget: Budget) -> List[dict]:
    """Finished rows of the budget's plan."""
    names = {p.name for p in build_plan(budget)}
    return [r for r in results if r['name'] in names]


def _fmt(mean_sd: tuple, scale: float = 100.0) -> str:
    m, s = mean_sd
    if math.isnan(m):
        return 'n/a'
    return f'{m * scale:.1f}' + ('' if math.isnan(s) else f' ± {s * scale:.1f}')


def _find(entries: Sequence[dict], method: str, ratio: int) -> Optional[dict]:
    return next((e for e in entries if e['method'] == method and e['ratio'] == ratio), None)


def paired(rows: Sequence[dict], a: str, b: str, ratio: int, value=lambda m: m.get(AP, float('nan'))) -> tuple:
    """Differences ``a - b`` (points) on the seeds both methods have: (mean, sd, {seed: difference})."""
    def by_seed(method):
        return {r['seed']: value(r['metrics']) for r in rows if r['method'] == method and r['ratio'] == ratio}
    va, vb = by_seed(a), by_seed(b)
    diffs = {s: (va[s] - vb[s]) * 100 for s in sorted(set(va) & set(vb))}
    return (*_mean_sd(list(diffs.values())), diffs)


def _paired_text(mean: float, sd: float, diffs: dict) -> str:
    spread = '' if math.isnan(sd) else f' ± {sd:.1f}'
    return f'{mean:+.1f}{spread} (paired, {len(diffs)} seed{"s" if len(diffs) != 1 else ""})'


def targets(entries: Sequence[dict], rare: str, ratio: int, rows: Sequence[dict] = (),
            seeds_needed: int = 1, step_time: Optional[dict] = None) -> List[tuple]:
    """(target, measured, met) for the issue's targets at ``ratio`` % labels (AP in points).

    Accuracy targets are read from ``rows`` (the per-seed records) as paired differences on the
    seeds both methods have (mean ± sd over seeds), so a partly finished plan never compares
    different seed sets; none is met before ``seeds_needed`` seeds of the pair are in.
    ``step_time`` is ``benchmark_train_step.py --out``'s record (methods timed side by side in one
    process): the step target is judged on it only; row medians come from different sittings.
    """
    res = []
    ano = _find(entries, 'anomed', ratio)
    if ano is None:
        return res

    def enough(seeds):
        return len(seeds) >= max(seeds_needed, 1)

    def needed(seeds):
        return '' if enough(seeds) else f'; {seeds_needed} seeds needed'

    if _find(entries, 'supervised', ratio) is not None:
        d, sd, seeds = paired(rows, 'anomed', 'supervised', ratio)
        above = sum(v > 0 for v in seeds.values())
        res.append(('AnoMed >= supervised + 3.0 AP50:95, each seed above',
                    f'{_paired_text(d, sd, seeds)}; above supervised in {above} of {len(seeds)}{needed(seeds)}',
                    d >= 3.0 and enough(seeds) and above == len(seeds)))
    for key, margin in (('soft_teacher', 1.0), ('mean_teacher', 0.0)):
        if _find(entries, key, ratio) is not None:
            d, sd, seeds = paired(rows, 'anomed', key, ratio)
            res.append((f'AnoMed >= {METHODS[key].label} + {margin:.1f} AP50:95',
                        _paired_text(d, sd, seeds) + needed(seeds), d >= margin and enough(seeds)))
    base = [e['method'] for e in entries if e['ratio'] == ratio and METHODS[e['method']].baseline]
    if base:
        diffs = {m: paired(rows, 'anomed', m, ratio, value=lambda mt: class_ap(mt, rare)) for m in base}
        worst = min(diffs, key=lambda m: diffs[m][0])  # the baseline AnoMed leads least (or trails most)
        d, sd, seeds = diffs[worst]
        res.append((f'rarest class ({rare}) AP above every baseline (hardest: {METHODS[worst].label})',
                    _paired_text(d, sd, seeds) + needed(seeds),
                    all(v[0] > 0 and enough(v[2]) for v in diffs.values())))
    name = "AnoMed's training step <= 0.85x SoftTeacher's, side by side (benchmark_train_step.py)"
    steps = (step_time or {}).get('median_s', {})
    if 'anomed' in steps and 'soft_teacher' in steps:
        q = steps['anomed']['total'] / steps['soft_teacher']['total']
        res.append((name, f'{q:.2f}x ({step_time["repeats"]} steps each, round-robin)', q <= 0.85))
    else:
        st = _find(entries, 'soft_teacher', ratio)
        rough = (f'; row medians, different sittings: {ano["sec_per_iter"] / st["sec_per_iter"]:.2f}x'
                 if st is not None and st['sec_per_iter'] > 0 else '')
        res.append((name, 'not measured' + rough, False))
    return res


def regime_checks(entries: Sequence[dict], rows: Sequence[dict], ratio: int,
                  gap: float = 8.0, plateau_tol: float = 1.0) -> List[tuple]:
    """(check, measured, met): labels bind at ``ratio`` (100 % labels >= ``gap`` AP above) and the
    supervised row has plateaued on val: its last third gains < ``plateau_tol`` AP (every seed), and,
    once the ``supervised_2x`` row is in, twice the iterations gain < ``plateau_tol`` AP."""
    res = []
    sup, full = _find(entries, 'supervised', ratio), _find(entries, 'supervised_full', 100)
    if sup is not None and full is not None:
        d = (full['ap'][0] - sup['ap'][0]) * 100
        res.append((f'supervised 100% >= supervised {ratio}% + {gap:.0f} AP50:95 (test)', f'{d:+.1f}', d >= gap))
    gains = []
    for r in rows:
        curve = r.get('val_curve') or []
        if r['method'] == 'supervised' and r['ratio'] == ratio and len(curve) >= 2:
            gains.append((curve[-1][1] - curve[-2][1]) * 100)
    if gains:
        res.append((f'supervised {ratio}% plateaued: val AP50:95 gain over the last third < {plateau_tol:.1f} '
                    '(each seed)', ', '.join(f'{g:+.1f}' for g in gains), max(gains) < plateau_tol))
    # under LR steps the last third always holds the anneal; the plateau that matters is whether the
    # same schedule stretched twice as long gains (same seed, final checkpoints, val)
    val = {(r['method'], r['seed']): r['val_metrics'][AP] for r in rows
           if r['ratio'] == ratio and r['method'] in ('supervised', 'supervised_2x') and AP in r.get('val_metrics', {})}
    pairs = [(s, (v - val[('supervised', s)]) * 100) for (m, s), v in sorted(val.items())
             if m == 'supervised_2x' and ('supervised', s) in val]
    if pairs:
        res.append((f'supervised {ratio}% at 2x iterations gains < {plateau_tol:.1f} val AP50:95 (same seed)',
                    ', '.join(f'{g:+.1f} (seed {s})' for s, g in pairs), max(g for _, g in pairs) < plateau_tol))
    return res


def render_markdown(entries: Sequence[dict], classes: Sequence[str], rare: str) -> str:
    """The results table (AP in points, 0-100; val: the split settings are chosen on, test: the rest)."""
    head = ['labels', 'method', 'runs', 'val AP50:95', 'AP50:95', 'AP50', 'mAP@0.4', 'FROC CPM'] + \
        [f'AP {c}' + (' (rarest)' if c == rare else '') for c in classes] + ['s / iter (median)', 'peak RSS (MiB)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for e in entries:
        cells = [f'{e["ratio"]}%', METHODS[e['method']].label, str(e['n']), _fmt(e['val_ap']),
                 _fmt(e['ap']), _fmt(e['ap50']),
                 _fmt(e['map40']), _fmt(e['cpm'])]
        cells += [_fmt((e['cls'][c], float('nan'))) for c in classes]
        cells += [f'{e["sec_per_iter"]:.2f}', f'{e["peak_rss_mb"]:.0f}']
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_ratios(entries: Sequence[dict], out_png: str) -> None:
    """AP50:95 against the label ratio, one line per method of the plan (error bars: spread over
    seeds); opt-in rows are left to the table."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8.4, 4.2))
    for method in METHODS:
        pts = sorted((e['ratio'], e['ap']) for e in entries if e['method'] == method)
        if not pts:
            continue
        xs = [p[0] for p in pts]
        ys = [p[1][0] * 100 for p in pts]
        err = [0.0 if math.isnan(p[1][1]) else p[1][1] * 100 for p in pts]
        if method == 'supervised_full':
            ax.axhline(ys[0], ls='--', color='gray', label=METHODS[method].label)
            continue
        ax.errorbar(xs, ys, yerr=err, marker='o', capsize=3, label=METHODS[method].label)
    ratios = sorted({e['ratio'] for e in entries if e['method'] != 'supervised_full'})
    ax.set_xticks(ratios)
    if len(ratios) == 1:
        ax.set_xlim(ratios[0] - 5, ratios[0] + 5)
    ax.set_xlabel('labelled images (% of train)')
    ax.set_ylabel('test AP50:95')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc='center left', bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
