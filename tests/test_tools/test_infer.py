"""tools/infer.py: PNG, DICOM and folder inputs -> JSON per image, results.json, overlays;
unreadable inputs are reported by name and the others go on."""
import json
import subprocess
import sys

import cv2
import pytest

from tests.conftest import REPO
from tests.inference_helpers import (CLASSES, SEMI_CFG, gray_image, load_tool, semi_checkpoint,
                                     write_dicom16, write_png)

infer = load_tool(REPO / 'tools/infer.py')


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    return semi_checkpoint(tmp_path_factory.mktemp('ckpt'))[1]


def run(ckpt, *args):
    return infer.main([str(SEMI_CFG), str(ckpt), *map(str, args), '--device', 'cpu'])


def check_record(rec, width, height):
    assert set(rec) >= {'file', 'width', 'height', 'dicom', 'score_thr', 'num_detections',
                        'detections', 'json'}
    assert (rec['width'], rec['height']) == (width, height)
    assert rec['num_detections'] == len(rec['detections'])
    for det in rec['detections']:
        x1, y1, x2, y2 = det['bbox']
        assert 0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height
        assert det['class'] == CLASSES[det['label']] and det['score'] >= rec['score_thr']


def test_png_and_dicom_files(ckpt, tmp_path):
    png = write_png(tmp_path / 'in' / 'chest.png', gray_image(150, 200))
    dcm = write_dicom16(tmp_path / 'in' / 'scan.dcm', gray_image(120, 100, seed=1))
    out = tmp_path / 'out'
    assert run(ckpt, png, dcm, '--out-dir', out, '--score-thr', '0.05') == 0
    summary = json.loads((out / 'results.json').read_text())
    assert summary['classes'] == list(CLASSES) and summary['branch'] == 'teacher'
    assert summary['errors'] == [] and summary['score_thr'] == 0.05
    (rp, rd) = summary['results']
    check_record(rp, 200, 150)
    check_record(rd, 100, 120)
    assert rp['dicom'] is False and rd['dicom'] is True
    assert rp['num_detections'] > 0
    for rec, name, shape in ((rp, 'chest', (150, 200, 3)), (rd, 'scan', (120, 100, 3))):
        assert json.loads((out / 'preds' / f'{name}.json').read_text()) == rec
        vis = cv2.imread(str(out / 'vis' / f'{name}.png'))
        assert rec['overlay'] == str(out / 'vis' / f'{name}.png') and vis.shape == shape


def test_folder_with_a_corrupt_file_reports_it_and_goes_on(ckpt, tmp_path, capsys):
    d = tmp_path / 'folder'
    write_png(d / 'a.png', gray_image(64, 80))
    write_dicom16(d / 'b.dcm', gray_image(64, 64, seed=2))
    (d / 'broken.png').write_bytes(b'\x89PNG garbage')
    (d / 'readme.txt').write_text('not an image')
    out = tmp_path / 'out'
    assert run(ckpt, d, '--out-dir', out, '--no-overlay', '--score-thr', '0') == 1
    summary = json.loads((out / 'results.json').read_text())
    assert [r['file'] for r in summary['results']] == [str(d / 'a.png'), str(d / 'b.dcm')]
    assert [e['file'] for e in summary['errors']] == [str(d / 'broken.png')]
    assert 'broken.png' in summary['errors'][0]['error']
    assert sorted(p.name for p in (out / 'preds').iterdir()) == ['a.json', 'b.json']
    assert not (out / 'vis').exists()
    err = capsys.readouterr()
    assert 'broken.png' in err.err and 'broken.png' in err.out


def test_missing_input_is_named(ckpt, tmp_path, capsys):
    assert run(ckpt, tmp_path / 'nowhere.dcm', '--out-dir', tmp_path / 'out') == 1
    assert 'nowhere.dcm: no such file' in capsys.readouterr().err


def test_command_line(ckpt, tmp_path):
    png = write_png(tmp_path / 'x.png', gray_image(90, 70))
    res = subprocess.run([sys.executable, str(REPO / 'tools/infer.py'), str(SEMI_CFG), str(ckpt), str(png),
                          '--out-dir', str(tmp_path / 'out'), '--score-thr', '0.1'],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert res.returncode == 0, res.stderr
    assert '1 image(s) done, 0 error(s)' in res.stdout
    rec = json.loads((tmp_path / 'out' / 'preds' / 'x.json').read_text())
    check_record(rec, 70, 90)
    assert (tmp_path / 'out' / 'vis' / 'x.png').is_file()
