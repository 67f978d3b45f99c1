"""The benchmark driver's report: table, val column, plan time and the side-by-side step target."""
import json

from tests.conftest import REPO
from tests.inference_helpers import load_tool

tool = load_tool(REPO / 'tools' / 'analysis_tools' / 'benchmark_ssod.py')


def _row(method, seed, ap, spi, val_ap=None):
    rec = dict(name=f'{method}_5pct_seed{seed}', method=method, ratio=5, seed=seed, budget='default',
               metrics={'coco/bbox_mAP': ap, 'coco/nodule_precision': ap, 'coco/mass_precision': ap},
               val_curve=[], sec_per_iter=spi, peak_rss_mb=1000.0, train_wall_s=600.0, test_wall_s=30.0)
    if val_ap is not None:
        rec['val_metrics'] = {'coco/bbox_mAP': val_ap}
    return rec


def _data(root):
    ann = root / 'annotations'
    ann.mkdir(parents=True)
    cats = [dict(id=1, name='nodule'), dict(id=2, name='mass')]
    anns = [dict(id=i, image_id=1, category_id=1 if i < 3 else 2, bbox=[0, 0, 4, 4]) for i in range(4)]
    (ann / 'train.json').write_text(json.dumps(dict(images=[], annotations=anns, categories=cats)))


def test_report_states_val_time_and_judges_the_step_on_the_side_by_side_record(tmp_path):
    _data(tmp_path / 'data')
    results = tmp_path / 'results' / 'benchmark_default.jsonl'
    results.parent.mkdir()
    rows = [_row('supervised', 0, 0.20, 1.0, val_ap=0.15), _row('soft_teacher', 0, 0.22, 3.0),
            _row('anomed', 0, 0.25, 2.4, val_ap=0.21)]
    doc = tmp_path / 'benchmark.md'
    budget = tool.BUDGETS['default']
    text = tool.write_report(doc, budget, rows, tmp_path / 'data', 'cmd', results)
    assert '| 5% | AnoMed | 1 | 21.0 | 25.0 |' in text  # val, then test AP50:95
    assert '| 5% | SoftTeacher | 1 | n/a | 22.0 |' in text
    assert 'the 3 finished rows of the main plan (of 13) took 32 min' in text  # 3 x (600 + 30) s
    # row medians (0.80x) from different sittings are never a "met"
    assert "side by side (benchmark_train_step.py) | not measured; row medians, different sittings: 0.80x | **no**" \
        in text
    (results.parent / 'step_time_default.json').write_text(json.dumps(dict(
        repeats=15, commit='abc1234', median_s={'anomed': {'total': 2.0}, 'soft_teacher': {'total': 2.5}})))
    text = tool.write_report(doc, budget, rows, tmp_path / 'data', 'cmd', results)
    assert '| 0.80x (15 steps each, round-robin) | yes |' in text
    assert '(commit abc1234)' in text
    assert doc.read_text().count('<!-- benchmark:default:start -->') == 1  # rewritten in place
    assert 'validated 3 times;' in text and '--checkpoint-dir work_dirs/benchmark/default`' in text
    # the demo's trunk does not validate; the step command names the work dir the rows are in
    text = tool.write_report(doc, tool.BUDGETS['demo'], rows, tmp_path / 'data', 'cmd', results, tmp_path / 'wd')
    assert 'not validated;' in text and f'--checkpoint-dir {tmp_path / "wd"}`' in text


def test_a_narrowed_call_reports_every_finished_row_of_the_budget(tmp_path, monkeypatch):
    """`--seeds 1` trains seed 1 only, but the report keeps seed 0's rows (the doc block is rewritten)."""
    _data(tmp_path / 'data')
    results = tmp_path / 'benchmark_default.jsonl'
    results.write_text(''.join(json.dumps(r) + '\n' for r in [
        _row('supervised', 0, 0.20, 1.0), _row('anomed', 0, 0.25, 2.4),
        _row('supervised', 1, 0.22, 1.0), _row('anomed', 1, 0.27, 2.4)]))
    doc = tmp_path / 'benchmark.md'
    monkeypatch.setattr('sys.argv', ['benchmark_ssod.py', '--report-only', '--seeds', '1', '--methods', 'supervised',
                                     '--results', str(results), '--doc', str(doc), '--data-root',
                                     str(tmp_path / 'data'), '--work-dir', str(tmp_path / 'work')])
    tool.main()
    text = doc.read_text()
    assert '(4 of 13 runs finished)' in text
    assert '| 5% | AnoMed | 2 | n/a | 26.0 ± 1.4 |' in text
