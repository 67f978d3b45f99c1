"""tools/misc/check_dataset.py reports every problem in one pass; exit code 1 when any."""
import importlib.util
import json

import pytest

from tests.conftest import REPO
from tests.test_datasets.bad_data import make_set


def tool():
    spec = importlib.util.spec_from_file_location('check_dataset', REPO / 'tools/misc/check_dataset.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_clean_set_exits_zero(tmp_path, capsys):
    ann = make_set(tmp_path)
    assert tool().main([str(ann), str(tmp_path / 'images')]) == 0
    out = capsys.readouterr().out
    assert 'OK: no problem found' in out and 'without boxes (negatives, kept)' in out


def test_every_problem_is_reported_at_once(tmp_path, capsys):
    ann = make_set(tmp_path, 'undecodable_png')  # only a full decode finds this one
    data = json.loads(ann.read_text())
    data['annotations'][1].update(bbox=[10, 12, 0, 6], area=0)         # zero-area, image 2
    data['annotations'][2].update(category_id=9)                       # unknown category, image 2
    data['images'].append(dict(id=4, file_name='4.png', width=32, height=32))  # missing file
    ann.write_text(json.dumps(data))
    assert tool().main([str(ann), str(tmp_path / 'images'), '--no-progress']) == 1
    out = capsys.readouterr().out
    for kind in ('corrupt_image', 'zero_area_box', 'unknown_category', 'missing_image'):
        assert f'problem: {kind}' in out and f'[{kind}]' in out
    assert 'images with a problem' in out and 'FAILED: 4 problem(s)' in out


@pytest.mark.parametrize('defect', ['not_coco_list', 'not_json'])
def test_not_coco_exits_one(tmp_path, capsys, defect):
    ann = make_set(tmp_path, defect)
    assert tool().main([str(ann), str(tmp_path / 'images')]) == 1
    assert str(ann) in capsys.readouterr().out


def test_header_level_misses_what_decode_finds(tmp_path, capsys):
    ann = make_set(tmp_path, 'undecodable_png')
    assert tool().main([str(ann), str(tmp_path / 'images'), '--level', 'header', '--no-progress']) == 0
    assert tool().main([str(ann), str(tmp_path / 'images'), '--no-progress']) == 1


def test_help_runs_as_a_script():
    import subprocess
    import sys
    res = subprocess.run([sys.executable, 'tools/misc/check_dataset.py', '--help'], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and '--level' in res.stdout, res.stderr
