"""tools/analysis_tools/vis_cam.py: a panel per image (PNG and DICOM) for a plain and a
teacher-student checkpoint, ground truth from a COCO json; unreadable inputs are named."""
import json

import cv2
import numpy as np
import pytest

from tests.conftest import REPO
from tests.inference_helpers import (PLAIN_CFG, SEMI_CFG, build_model, gray_image, load_tool,
                                     save_checkpoint, semi_checkpoint, write_dicom16, write_png)

vis_cam = load_tool(REPO / 'tools/analysis_tools/vis_cam.py')


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ckpts')
    return save_checkpoint(build_model(PLAIN_CFG), tmp / 'plain.pth'), semi_checkpoint(tmp)[1]


def test_panels_for_two_checkpoints_on_png_and_dicom(ckpts, tmp_path, capsys):
    plain, semi = ckpts
    write_png(tmp_path / 'in' / 'chest.png', gray_image(150, 200))
    write_dicom16(tmp_path / 'in' / 'scan.dcm', gray_image(120, 100, seed=1))
    ann = tmp_path / 'gt.json'
    ann.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='images/chest.png', width=200, height=150),
                dict(id=2, file_name='scan.png', width=100, height=120)],  # matched by stem
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[100, 50, 25, 20], area=500, iscrowd=0),
                     dict(id=2, image_id=2, category_id=3, bbox=[10, 10, 30, 40], area=1200, iscrowd=0)],
        categories=[dict(id=i + 1, name=n) for i, n in enumerate(['nodule', 'calcification', 'mass'])])))
    rc = vis_cam.main([str(tmp_path / 'in'), '--model', str(PLAIN_CFG), str(plain), '--model', str(SEMI_CFG),
                       str(semi), '--ann-file', str(ann), '--out-dir', str(tmp_path / 'out'),
                       '--score-thr', '0.05', '--device', 'cpu'])
    assert rc == 0
    out = capsys.readouterr().out
    assert '2 panel(s)' in out
    for name, (h, w) in [('chest', (150, 200)), ('scan', (120, 100))]:
        panel = cv2.imread(str(tmp_path / 'out' / f'{name}.png'))
        assert panel is not None and panel.shape[0] > h
        assert panel.shape[1] == 3 * w + 2 * 4  # image + ground truth, plain model, AnoMed teacher
    gt = vis_cam.load_ground_truth(str(ann))
    assert gt['chest.png'][0]['bbox'] == [100, 50, 125, 70] and gt['scan'][0]['class'] == 'GT mass'


def test_default_titles_and_errors(ckpts, tmp_path, capsys):
    plain, semi = ckpts
    png = write_png(tmp_path / 'a.png', gray_image(64, 64))
    (tmp_path / 'broken.png').write_bytes(b'not a png')
    rc = vis_cam.main([str(png), str(tmp_path / 'broken.png'), str(tmp_path / 'missing.png'),
                       '--model', str(SEMI_CFG), str(semi), '--out-dir', str(tmp_path / 'out'), '--device', 'cpu'])
    captured = capsys.readouterr()
    assert rc == 1 and '1 panel(s)' in captured.out and '2 input error(s)' in captured.out
    assert 'broken.png' in captured.err and 'missing.png' in captured.err
    panel = cv2.imread(str(tmp_path / 'out' / 'a.png'))
    assert panel.shape[1] == 2 * 64 + 4 and np.any(panel != 255)
    with pytest.raises(SystemExit):
        vis_cam.parse_args([str(png), '--model', 'a.py', 'b.pth', '--title', 'one', 'two'])
