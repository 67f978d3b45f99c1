"""Turn benchmark rows into the table of docs/benchmark.md, the targets check and a plot."""
import math
import statistics
from typing import Dict, Iterable, List, Optional, Sequence

from .plan import METHODS, Budget, build_plan

AP, AP50 = 'coco/bbox_mAP', 'coco/bbox_mAP_50'


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
        entry['ap50'] = _mean_sd([r['metrics'].get(AP50, float('nan')) for r in rs])
        entry['cls'] = {c: _mean_sd([class_ap(r['metrics'], c) for r in rs])[0] for c in classes}
        spi = [r['sec_per_iter'] for r in rs if not math.isnan(r['sec_per_iter'])]
        entry['sec_per_iter'] = statistics.median(spi) if spi else float('nan')
        rss = [r['peak_rss_mb'] for r in rs if not math.isnan(r['peak_rss_mb'])]
        entry['peak_rss_mb'] = max(rss) if rss else float('nan')
        out.append(entry)
    return out


def report_rows(results: Iterable[dict], budget: Budget) -> List[dict]:
    """Finished rows of the budget's plan, plus any opt-in (``extra``) method rows of its ratios."""
    names = {p.name for p in build_plan(budget)}
    return [r for r in results if r['name'] in names or
            (r['method'] in METHODS and METHODS[r['method']].extra and r['ratio'] in budget.ratios)]


def extra_command(rows: Sequence[dict], command: str) -> List[str]:
    """A bullet with the command that trained the opt-in rows present, if any."""
    extra = [r for r in rows if METHODS[r['method']].extra]
    if not extra:
        return []
    methods = sorted({r['method'] for r in extra})
    trunks = sorted({METHODS[m].trunk for m in methods})
    ratios = sorted({str(r['ratio']) for r in extra})
    seeds = sorted({str(r['seed']) for r in extra})
    return [f'- Opt-in rows: `{command} --methods {" ".join(trunks + methods)} --ratios {" ".join(ratios)} '
            f'--seeds {" ".join(seeds)}` (same work dir: the finished trunks are reused)']


def _fmt(mean_sd: tuple, scale: float = 100.0) -> str:
    m, s = mean_sd
    if math.isnan(m):
        return 'n/a'
    return f'{m * scale:.1f}' + ('' if math.isnan(s) else f' ± {s * scale:.1f}')


def _find(entries: Sequence[dict], method: str, ratio: int) -> Optional[dict]:
    return next((e for e in entries if e['method'] == method and e['ratio'] == ratio), None)


def targets(entries: Sequence[dict], rare: str, ratio: int = 10) -> List[tuple]:
    """(target, measured, met) for the issue's targets at ``ratio`` % labels (AP in points)."""
    res = []
    ano = _find(entries, 'anomed', ratio)
    if ano is None:
        return res
    st = _find(entries, 'soft_teacher', ratio)
    if st is not None:
        d = (ano['ap'][0] - st['ap'][0]) * 100
        res.append(('AnoMed >= SoftTeacher + 3.0 AP50:95', f'{d:+.1f}', d >= 3.0))
    sups = [e for m in ('supervised', 'supervised_fpn') if (e := _find(entries, m, ratio))]
    if sups:
        best = max(sups, key=lambda e: e['ap'][0])
        d = (ano['ap'][0] - best['ap'][0]) * 100
        res.append((f'AnoMed >= supervised + 5.0 AP50:95 (best supervised: {METHODS[best["method"]].label})',
                    f'{d:+.1f}', d >= 5.0))
    base = [e for e in entries if e['ratio'] == ratio and METHODS[e['method']].baseline]
    if base:
        best = max(base, key=lambda e: e['cls'][rare])
        d = (ano['cls'][rare] - best['cls'][rare]) * 100
        res.append((f'rarest class ({rare}) AP above every baseline (best: {METHODS[best["method"]].label})',
                    f'{d:+.1f}', d > 0))
    if st is not None and st['sec_per_iter'] > 0:
        q = ano['sec_per_iter'] / st['sec_per_iter']
        res.append(("AnoMed's training step <= 0.8x SoftTeacher's", f'{q:.2f}x', q <= 0.8))
    return res


def render_markdown(entries: Sequence[dict], classes: Sequence[str], rare: str) -> str:
    """The results table (AP in points, 0-100)."""
    head = ['labels', 'method', 'runs', 'AP50:95', 'AP50'] + \
        [f'AP {c}' + (' (rarest)' if c == rare else '') for c in classes] + ['s / iter (median)', 'peak RSS (MiB)']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for e in entries:
        cells = [f'{e["ratio"]}%', METHODS[e['method']].label, str(e['n']), _fmt(e['ap']), _fmt(e['ap50'])]
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
    for method in (k for k, m in METHODS.items() if not m.extra):
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
