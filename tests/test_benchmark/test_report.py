"""Aggregation, targets and rendering of benchmark rows."""
import math

import pytest

from anomed_mmdet.benchmark import aggregate, plot_ratios, render_markdown, targets

CLASSES = ['nodule', 'cardiomegaly']


def row(method, ratio, seed, ap, rare_ap=0.1, spi=1.0, rss=1000.0):
    return dict(name=f'{method}_{ratio}_{seed}', method=method, ratio=ratio, seed=seed,
                metrics={'coco/bbox_mAP': ap, 'coco/bbox_mAP_50': ap + 0.2,
                         'coco/nodule_precision': ap, 'coco/cardiomegaly_precision': rare_ap},
                sec_per_iter=spi, peak_rss_mb=rss)


def test_aggregate_mean_spread_and_costs():
    rows = [row('anomed', 10, 0, 0.30, spi=1.0, rss=900), row('anomed', 10, 1, 0.34, spi=3.0, rss=1100),
            row('supervised', 10, 0, 0.20)]
    entries = aggregate(rows, CLASSES)
    ano = next(e for e in entries if e['method'] == 'anomed')
    assert ano['n'] == 2 and ano['seeds'] == [0, 1]
    assert ano['ap'][0] == pytest.approx(0.32) and ano['ap'][1] == pytest.approx(math.sqrt(0.0008))
    assert ano['sec_per_iter'] == pytest.approx(2.0) and ano['peak_rss_mb'] == 1100
    sup = next(e for e in entries if e['method'] == 'supervised')
    assert math.isnan(sup['ap'][1])  # one seed: no spread
    assert [e['method'] for e in entries] == ['supervised', 'anomed']  # table order of METHODS


def test_targets_met_and_missed():
    rows = [row('anomed', 10, 0, 0.40, rare_ap=0.30, spi=0.7), row('soft_teacher', 10, 0, 0.36, rare_ap=0.2, spi=1.0),
            row('supervised', 10, 0, 0.30, rare_ap=0.35), row('supervised_fpn', 10, 0, 0.20)]
    checks = {t.split(' (')[0]: (m, ok) for t, m, ok in targets(aggregate(rows, CLASSES), 'cardiomegaly')}
    assert checks['AnoMed >= SoftTeacher + 3.0 AP50:95'] == ('+4.0', True)
    assert checks['AnoMed >= supervised + 5.0 AP50:95'] == ('+10.0', True)
    assert checks['rarest class'] == ('-5.0', False)  # the supervised SIB+FA row is better
    assert checks["AnoMed's training step <= 0.8x SoftTeacher's"] == ('0.70x', True)


def test_markdown_and_plot(tmp_path):
    rows = [row(m, r, 0, 0.1 * r / 10) for m in ('supervised', 'anomed') for r in (5, 10)]
    rows.append(row('supervised_full', 100, 0, 0.5))
    entries = aggregate(rows, CLASSES)
    md = render_markdown(entries, CLASSES, 'cardiomegaly')
    lines = md.splitlines()
    assert len(lines) == 2 + len(entries)
    assert 'AP cardiomegaly (rarest)' in lines[0]
    assert '| 10% | AnoMed (SIB+FA, PLO) | 1 | 10.0 |' in md
    out = tmp_path / 'plot.png'
    plot_ratios(entries, str(out))
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_report_rows_keep_the_plan_and_opt_in_rows_only():
    from anomed_mmdet.benchmark import BUDGETS
    from anomed_mmdet.benchmark.report import extra_command, report_rows
    budget = BUDGETS['default']
    rows = [dict(row('anomed', 10, 0, 0.3), name='anomed_10pct_seed0'),
            dict(row('anomed_sup4', 10, 0, 0.3), name='anomed_sup4_10pct_seed0'),
            dict(row('anomed_sup4', 50, 0, 0.3), name='anomed_sup4_50pct_seed0'),   # ratio not in budget
            dict(row('anomed', 10, 7, 0.3), name='anomed_10pct_seed7')]             # seed not in budget
    kept = report_rows(rows, budget)
    assert [r['name'] for r in kept] == ['anomed_10pct_seed0', 'anomed_sup4_10pct_seed0']
    assert extra_command(kept[:1], 'python x.py') == []
    (line,) = extra_command(kept, 'python x.py')
    assert '--methods supervised anomed_sup4 --ratios 10 --seeds 0' in line
