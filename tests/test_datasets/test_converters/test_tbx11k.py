"""TBX11K converter: classes, negatives, uncertain TB, every bad input in the report, atomic json."""
import importlib.util
import json
import os

import cv2
import numpy as np
import pytest

from anomed_mmdet.utils import atomic_io
from anomed_mmdet.datasets.converters.common import StrictModeError
from anomed_mmdet.datasets.converters.tbx11k import convert_tbx11k
from tests.conftest import REPO


def voc(objects, size=(64, 64)):
    objs = ''.join(
        f'<object><name>{n}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>'
        f'<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>' for n, b in objects)
    return (f'<annotation><filename>x.png</filename><size><width>{size[0]}</width>'
            f'<height>{size[1]}</height><depth>3</depth></size>{objs}</annotation>')


@pytest.fixture
def tbx(tmp_path):
    root = tmp_path / 'TBX11K'
    for group, names in dict(health=['h1', 'h2'], sick=['s1'], tb=['tb1', 'tb2', 'tb3', 'tb4', 'tb5', 'tb6'],
                             test=['t1']).items():
        (root / 'imgs' / group).mkdir(parents=True)
        for n in names:
            cv2.imwrite(str(root / 'imgs' / group / f'{n}.png'), np.zeros((64, 64, 3), np.uint8))
    x = root / 'annotations' / 'xml'
    x.mkdir(parents=True)
    (x / 'tb1.xml').write_text(voc([('ActiveTuberculosis', (10, 12, 30, 40)),
                                    ('ObsoletePulmonaryTuberculosis', (40, 5, 60, 20)),
                                    ('PulmonaryTuberculosis', (1, 1, 9, 9))]))
    (x / 'tb2.xml').write_text(voc([('PulmonaryTuberculosis', (5, 5, 15, 15))]))   # only uncertain
    (x / 'tb3.xml').write_text('<annotation><object><name>Active')                   # malformed
    (x / 'tb4.xml').write_text(voc([('ActiveTuberculosis', (30, 30, 20, 40)),         # inverted
                                    ('ActiveTuberculosis', (50, 50, 64.5, 60)),       # clipped
                                    ('ActiveTuberculosis', (50, 50, 80, 60)),         # outside
                                    ('ActiveTuberculosis', ('', 3, 4, 5)),            # missing
                                    ('Tuberculosis', (1, 1, 5, 5))], size=(128, 128)))  # unknown
    # tb5 has no XML; h2 has a contradicting XML; tb6 fine
    (x / 'h2.xml').write_text(voc([('ActiveTuberculosis', (1, 1, 5, 5))]))
    (x / 'tb').mkdir()  # nested xml/<group>/<stem>.xml wins over xml/<stem>.xml
    (x / 'tb' / 'tb6.xml').write_text(voc([('ObsoletePulmonaryTuberculosis', (2, 3, 12, 13))]))
    (x / 'tb6.xml').write_text(voc([('ActiveTuberculosis', (1, 1, 60, 60))]))
    lists = root / 'lists'
    lists.mkdir()
    (lists / 'TBX11K_train.txt').write_text('\n'.join([
        'health/h1.png', 'sick/s1.png', 'tb/tb1.png', 'tb/tb2.png', 'tb/tb3.png', 'tb/tb4.png',
        'tb/tb5.png', 'health/h2.png', 'tb/tb1.png', 'tb/missing.png']) + '\n')
    (lists / 'TBX11K_val.txt').write_text('tb/tb6.png\nhealth/h1.png\n')
    (lists / 'TBX11K_test.txt').write_text('test/t1.png\n')
    return root


def load(p):
    with open(p) as f:
        return json.load(f)


def test_convert_and_report(tbx, tmp_path):
    out = tmp_path / 'coco'
    res = convert_tbx11k(str(tbx), str(out), verbose=False)
    train = load(out / 'TBX11K_train.json')
    assert [c['name'] for c in train['categories']] == ['ActiveTuberculosis', 'ObsoletePulmonaryTuberculosis']
    imgs = {im['file_name']: im for im in train['images']}
    assert sorted(imgs) == ['health/h1.png', 'sick/s1.png', 'tb/tb1.png', 'tb/tb4.png']
    anns = {}
    for a in train['annotations']:
        anns.setdefault(imgs_by_id(train)[a['image_id']], []).append((a['category_id'], a['bbox']))
    assert sorted(anns['tb/tb1.png']) == [(1, [10, 12, 20, 28]), (2, [40, 5, 20, 15])]
    assert anns['tb/tb4.png'] == [(1, [50, 50, 14, 10])]  # clipped at x = 64
    assert 'health/h1.png' not in anns and 'sick/s1.png' not in anns
    assert imgs['health/h1.png']['width'] == 64
    test = load(out / 'TBX11K_test.json')
    assert len(test['images']) == 1 and test['annotations'] == []
    assert res['lists']['TBX11K_val'] == dict(images=2, annotations=1, negatives=1)
    val = load(out / 'TBX11K_val.json')
    assert [(a['category_id'], a['bbox']) for a in val['annotations']] == [(2, [2, 3, 10, 10])]

    rep = load(out / 'conversion_report_tbx11k.json')
    img_reasons = {s['image']: s['reason'] for s in rep['skips'] if s['kind'] == 'image'}
    assert img_reasons['tb/tb2.png'].startswith('all 1 box(es) skipped')
    assert img_reasons['tb/tb3.png'].startswith('bad XML')
    assert img_reasons['tb/tb5.png'] == 'no XML annotation for a TB image'
    assert img_reasons['health/h2.png'].startswith('1 box(es) in the XML of a health/')
    assert img_reasons['tb/missing.png'] == 'image file missing'
    dup = [s for s in rep['skips'] if s['reason'].startswith('duplicate')]
    assert dup[0]['row'] == 9 and dup[0]['reason'] == 'duplicate of line 3'
    boxes = [(s['image'], s['row'], s['reason']) for s in rep['skips'] if s['kind'] == 'box']
    tb4 = {r: why for im, r, why in boxes if im == 'tb/tb4.png'}
    assert tb4[1].startswith('inverted box') and tb4[3].startswith('box outside the image')
    assert tb4[4].startswith('missing coordinates') and tb4[5] == "unknown object name 'Tuberculosis'"
    assert any(im == 'tb/tb1.png' and why.startswith('uncertain class') for im, _, why in boxes)
    notes = [n['reason'] for n in rep['notes']]
    assert any(n.startswith('box clipped') for n in notes)
    assert any(n.startswith('XML size 128x128 differs') for n in notes)
    assert rep['summary']['skipped'] == len(rep['skips']) == 12  # 6 boxes + 6 images


def imgs_by_id(coco):
    return {im['id']: im['file_name'] for im in coco['images']}


def test_uncertain_mapped(tbx, tmp_path):
    convert_tbx11k(str(tbx), str(tmp_path / 'o'), ['TBX11K_train'], uncertain='obsolete', verbose=False)
    train = load(tmp_path / 'o' / 'TBX11K_train.json')
    names = imgs_by_id(train)
    got = sorted((names[a['image_id']], a['category_id'], a['bbox']) for a in train['annotations'])
    assert ('tb/tb2.png', 2, [5, 5, 10, 10]) in got and ('tb/tb1.png', 2, [1, 1, 8, 8]) in got
    assert not (tmp_path / 'o' / 'TBX11K_val.json').exists()


def test_strict_and_atomic(tbx, tmp_path, monkeypatch):
    out = tmp_path / 'o'
    with pytest.raises(StrictModeError):
        convert_tbx11k(str(tbx), str(out), strict=True, verbose=False)
    assert not (out / 'TBX11K_train.json').exists()
    assert load(out / 'conversion_report_tbx11k.json')['summary']['strict_failure'] is True
    convert_tbx11k(str(tbx), str(out), ['TBX11K_val'], strict=True, verbose=False)  # val is clean
    before = (out / 'TBX11K_val.json').read_bytes()

    def broken_dump(obj, f, **kw):
        f.write('{"images": [')
        raise OSError('disk full')

    monkeypatch.setattr(atomic_io.json, 'dump', broken_dump)
    with pytest.raises(OSError, match='disk full'):
        convert_tbx11k(str(tbx), str(out), ['TBX11K_val'], verbose=False)
    assert (out / 'TBX11K_val.json').read_bytes() == before
    assert not [f for f in os.listdir(out) if f.endswith('.tmp')]


def test_cli(tbx, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('tbx_tool', REPO / 'tools/dataset_converters/tbx11k.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main([str(tbx), str(tmp_path / 'c'), '--lists', 'TBX11K_val', 'TBX11K_test']) == 0
    assert 'TBX11K_val: 2 images' in capsys.readouterr().out
    assert tool.main([str(tbx), str(tmp_path / 'c'), '--strict']) == 1
    with pytest.raises(FileNotFoundError):
        tool.main([str(tbx), str(tmp_path / 'c'), '--lists', 'nope'])
