"""tools/analysis_tools/plo_ablation.py: every row's config builds; the report's mean ± sd."""
import pytest
from mmengine.config import Config

from tests.conftest import REPO
from tests.inference_helpers import load_tool

ablation = load_tool(REPO / 'tools/analysis_tools/plo_ablation.py')


@pytest.mark.parametrize('row', sorted(ablation.ROWS))
def test_every_row_config_parses_with_its_overrides(row, tmp_path):
    config, lines = ablation.ROWS[row]
    path = tmp_path / 'row.py'
    path.write_text('\n'.join([f"_base_ = '{REPO / config}'", *lines, '']))
    cfg = Config.fromfile(str(path))
    if row.startswith('anomed'):
        assert cfg.model.type == 'AnoMed'
    if row == 'anomed-no-hesitant':
        assert cfg.model.plo.hesitant is False
    if row == 'anomed-calibrated':
        assert cfg.model.plo.class_thrs == 'calibrated'


def test_report_gives_mean_and_sample_sd_over_seeds():
    def rec(row, seed, ap, cls_ap):
        return dict(row=row, seed=seed, metrics={'coco/bbox_mAP': ap, 'coco/bbox_mAP_50': 2 * ap,
                                                 'coco/nodule_precision': cls_ap})
    table = ablation.report([rec('anomed', 0, 0.30, 0.2), rec('anomed', 1, 0.32, 0.4), rec('trunk', 0, 0.1, 0.1)])
    lines = table.splitlines()
    assert lines[0] == '| row | seeds | AP50:95 | AP50 | nodule |'
    assert lines[2].startswith('| trunk | 1 | 10.0 |')  # the trunk first, then the plan's order
    assert lines[3] == '| anomed | 2 | 31.0 ± 1.4 | 62.0 ± 2.8 | 30.0 ± 14.1 |'
