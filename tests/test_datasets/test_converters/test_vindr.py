"""VinDr-CXR converter: WBF numbers, negatives, every bad input in the report, atomic json, re-runs."""
import importlib.util
import json
import os

import cv2
import numpy as np
import pytest

from anomed_mmdet.datasets.converters import common, vindr
from anomed_mmdet.utils import atomic_io
from anomed_mmdet.datasets.converters.common import StrictModeError
from anomed_mmdet.datasets.dicom import read_dicom
from anomed_mmdet.testing import write_dicom
from tests.conftest import REPO

HEADER = 'image_id,class_name,class_id,rad_id,x_min,y_min,x_max,y_max'  # Kaggle column order
ROWS = [
    # line 2..: img_a, three readers on one nodule + one cardiomegaly
    'img_a,Nodule/Mass,8,R1,10,10,20,20',
    'img_a,Nodule/Mass,8,R2,11,11,21,21',
    'img_a,Nodule/Mass,8,R3,9,12,19,22',
    'img_a,Cardiomegaly,3,R1,20,30,50,60',
    # line 6..: img_b negative (No finding), img_c only an unselected class
    'img_b,No finding,14,R1,,,,',
    'img_b,No finding,14,R2,,,,',
    'img_c,Atelectasis,1,R2,5,5,30,30',
    # line 9..: img_d, one good box and every kind of bad row
    'img_d,Calcification,2,R1,5,5,15,15',
    'img_d,Calcification,2,R1,5,5,15,15',       # 10 duplicate of 9
    'img_d,Nodule/Mass,8,R2,,,,',               # 11 missing coords
    'img_d,Nodule/Mass,8,R3,30,30,20,40',       # 12 inverted
    'img_d,Nodul,8,R3,30,30,40,40',             # 13 unknown class
    'img_d,Calcification,2,R2,40,40,64.5,50',   # 14 small overshoot: clipped
    'img_d,Calcification,2,R3,50,50,70,60',     # 15 far outside: skipped
    # line 16..: img_e only an invalid finding row -> image skipped
    'img_e,Cardiomegaly,3,R1,,,,',
    # line 17..: broken DICOMs, a CSV image without file
    'img_trunc,No finding,14,R1,,,,',
    'img_nopix,No finding,14,R1,,,,',
    'img_jls,No finding,14,R1,,,,',
    'img_missing,No finding,14,R1,,,,',         # 20
]


def ramp(h=64, w=64):
    return (np.arange(h * w).reshape(h, w) % 4096).astype(np.uint16)


@pytest.fixture
def vindr_root(tmp_path):
    root = tmp_path / 'vindr'
    d = root / 'train'
    d.mkdir(parents=True)
    write_dicom(d / 'img_a.dicom', ramp(), photometric='MONOCHROME1', window=(2048, 2048))
    write_dicom(d / 'img_b.dicom', ramp(64, 80))
    write_dicom(d / 'img_c.dcm', ramp())
    write_dicom(d / 'img_d.dicom', ramp())
    write_dicom(d / 'img_e.dicom', ramp())
    write_dicom(d / 'img_nocsv.dicom', ramp())
    full = write_dicom(d / 'img_trunc.dicom', ramp())
    data = open(full, 'rb').read()
    with open(full, 'wb') as f:
        f.write(data[:-500])
    write_dicom(d / 'img_nopix.dicom', ramp(), with_pixels=False)
    write_dicom(d / 'img_jls.dicom', ramp(), transfer_syntax='1.2.840.10008.1.2.4.80',
                encapsulated=b'\xff\xd8' + b'\0' * 32)
    (root / 'train.csv').write_text('\n'.join([HEADER] + ROWS) + '\n')
    return root


def run(root, out, **kw):
    kw.setdefault('verbose', False)
    return vindr.convert_vindr(str(root), str(out), 'train', csv_path=str(root / 'train.csv'), **kw)


def load(path):
    with open(path) as f:
        return json.load(f)


def by_name(coco):
    imgs = {im['vindr_id']: im for im in coco['images']}
    anns = {}
    for a in coco['annotations']:
        anns.setdefault(a['image_id'], []).append(a)
    return imgs, anns


def test_wbf_negatives_and_report(vindr_root, tmp_path):
    out = tmp_path / 'out'
    summary = run(vindr_root, out)
    coco = load(out / 'annotations' / 'train.json')
    assert [c['name'] for c in coco['categories']] == list(vindr.PRESETS['paper5'])
    imgs, anns = by_name(coco)
    assert sorted(imgs) == ['img_a', 'img_b', 'img_c', 'img_d']
    # three readers (pairwise IoU >= 0.56) -> one box, the mean: [10, 11, 20, 21]
    a = sorted(anns[imgs['img_a']['id']], key=lambda x: x['category_id'])
    nodule = coco['categories'][[c['name'] for c in coco['categories']].index('Nodule/Mass')]['id']
    cardio = [c['id'] for c in coco['categories'] if c['name'] == 'Cardiomegaly'][0]
    assert [x['category_id'] for x in a] == sorted([nodule, cardio])
    got = {x['category_id']: x['bbox'] for x in a}
    np.testing.assert_allclose(got[nodule], [10, 11, 10, 10], atol=1e-6)
    np.testing.assert_allclose(got[cardio], [20, 30, 30, 30], atol=1e-6)
    assert imgs['img_a']['width'] == 64 and 'rad_id' not in a[0]
    # negatives: No finding only, and unselected class only
    assert imgs['img_b']['id'] not in anns and imgs['img_c']['id'] not in anns
    assert (imgs['img_b']['width'], imgs['img_b']['height']) == (80, 64)
    # img_d: row 9 kept, row 14 clipped to x_max 64
    d = sorted(x['bbox'] for x in anns[imgs['img_d']['id']])
    np.testing.assert_allclose(d, [[5, 5, 10, 10], [40, 40, 24, 10]])
    # the PNG holds read_dicom's pixels (MONOCHROME1 inverted, windowed)
    png = cv2.imread(str(out / 'images' / imgs['img_a']['file_name']), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(png, read_dicom(vindr_root / 'train' / 'img_a.dicom'))

    rep = load(out / 'conversion_report_train.json')
    rows = {s['row']: s['reason'] for s in rep['skips'] if s['kind'] == 'row'}
    assert rows[10].startswith('duplicate of row 9')
    assert rows[11].startswith('missing coordinates')
    assert rows[12].startswith('inverted box')
    assert rows[13].startswith("unknown class name 'Nodul'")
    assert rows[15].startswith('box outside the image')
    assert rows[16].startswith('missing coordinates for Cardiomegaly')
    assert 14 not in rows and [n['row'] for n in rep['notes']] == [14]
    images = {s['image_id']: s['reason'] for s in rep['skips'] if s['kind'] == 'image'}
    assert images['img_trunc'].startswith('truncated or corrupt')
    assert images['img_nopix'].startswith('no pixel data')
    assert 'JPEG-LS' in images['img_jls'] and 'pip install' in images['img_jls']
    assert images['img_missing'].startswith('image file missing')
    assert images['img_nocsv'].startswith('no annotation rows')
    assert images['img_e'].startswith('all 1 finding row(s) invalid')
    skip_rows = {s['image_id']: s['row'] for s in rep['skips'] if s['kind'] == 'image'}
    assert skip_rows['img_missing'] == 20
    assert rep['counts']['filtered'] == {'Atelectasis': 1}
    assert summary['skipped'] == len(rep['skips']) == 12  # 6 rows (9-15, 16) + 6 images
    assert summary['images'] == 4 and summary['negatives'] == 2 and summary['images_per_s'] > 0


def test_fusion_none_keeps_readers_and_max_size(vindr_root, tmp_path):
    out = tmp_path / 'out'
    run(vindr_root, out, fusion='none', max_size=32, classes=('Nodule/Mass', 'Atelectasis'))
    imgs, anns = by_name(load(out / 'annotations' / 'train.json'))
    a = sorted(anns[imgs['img_a']['id']], key=lambda x: x['rad_id'])
    assert [x['rad_id'] for x in a] == ['R1', 'R2', 'R3']
    np.testing.assert_allclose([x['bbox'] for x in a], [[5, 5, 5, 5], [5.5, 5.5, 5, 5], [4.5, 6, 5, 5]])
    assert (imgs['img_a']['width'], imgs['img_a']['orig_width']) == (32, 64)
    assert (imgs['img_b']['width'], imgs['img_b']['height']) == (32, 26)
    assert cv2.imread(str(out / 'images' / 'train' / 'img_b.png'), cv2.IMREAD_UNCHANGED).shape == (26, 32)
    c = anns[imgs['img_c']['id']]  # Atelectasis now selected
    np.testing.assert_allclose(c[0]['bbox'], [2.5, 2.5, 12.5, 12.5])
    assert c[0]['category_id'] == 2


def test_wbf_separate_clusters_numbers():
    rows = [vindr.VinDrRow(1, 'R1', 0, (0, 0, 10, 10)), vindr.VinDrRow(2, 'R2', 0, (2, 2, 12, 12)),
            vindr.VinDrRow(3, 'R3', 0, (50, 50, 60, 60)), vindr.VinDrRow(4, 'R1', 1, (0, 0, 10, 10))]
    fused = vindr.fuse_boxes(rows, 100, 100, 0.4)
    assert [f[0] for f in fused] == [0, 0, 1]
    np.testing.assert_allclose([f[1] for f in fused], [[1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]],
                               atol=1e-6)
    # IoU of the first two is 64/136 = 0.47: a 0.5 threshold keeps them apart
    assert len(vindr.fuse_boxes(rows, 100, 100, 0.5)) == 4


def test_rerun_skips_converted_images(vindr_root, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    run(vindr_root, out, max_size=48)
    first = load(out / 'annotations' / 'train.json')
    pngs = sorted((out / 'images' / 'train').glob('*.png'))
    mtimes = [p.stat().st_mtime_ns for p in pngs]
    calls = []
    real = vindr.read_dicom
    monkeypatch.setattr(vindr, 'read_dicom', lambda p, **k: calls.append(os.path.basename(p)) or real(p, **k))
    summary = run(vindr_root, out, max_size=48)
    assert sorted(calls) == ['img_jls.dicom', 'img_nopix.dicom', 'img_trunc.dicom']  # only the broken ones
    assert [p.stat().st_mtime_ns for p in pngs] == mtimes
    assert load(out / 'annotations' / 'train.json') == first
    assert summary['reused_png'] == 5  # img_e is converted, then skipped for its rows
    # a different size or bit depth converts again
    calls.clear()
    run(vindr_root, out, max_size=48, png16=True)
    assert len(calls) == 8
    assert common.png_info(str(out / 'images' / 'train' / 'img_a.png')) == (48, 48, 16)


def test_strict_fails_before_decoding(vindr_root, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    calls = []
    monkeypatch.setattr(vindr, 'read_dicom', lambda *a, **k: calls.append(1))
    with pytest.raises(StrictModeError, match='CSV validation'):
        run(vindr_root, out, strict=True)
    assert calls == [] and not (out / 'annotations' / 'train.json').exists()
    assert load(out / 'conversion_report_train.json')['summary']['strict_failure'] is True


def test_json_written_atomically(vindr_root, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    run(vindr_root, out)
    path = out / 'annotations' / 'train.json'
    before = path.read_bytes()

    def broken_dump(obj, f, **kw):
        f.write('{"images": [')
        raise RuntimeError('disk full')

    monkeypatch.setattr(atomic_io.json, 'dump', broken_dump)
    with pytest.raises(RuntimeError, match='disk full'):
        run(vindr_root, out, fusion='none')
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ['train.json']


def test_workers_give_same_json(vindr_root, tmp_path):
    # OpenCV's thread pool alive in the parent: forked workers used to hang on it
    cv2.resize(np.zeros((2000, 2000), np.uint8), (500, 500), interpolation=cv2.INTER_AREA)
    run(vindr_root, tmp_path / 'one', workers=1)
    run(vindr_root, tmp_path / 'two', workers=2)
    assert load(tmp_path / 'one/annotations/train.json') == load(tmp_path / 'two/annotations/train.json')


def _tool():
    spec = importlib.util.spec_from_file_location('vindr_tool', REPO / 'tools/dataset_converters/vindr_cxr.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli(vindr_root, tmp_path, capsys):
    tool = _tool()
    out = tmp_path / 'cli'
    assert tool.main([str(vindr_root), str(out), '--preset', 'all14', '--workers', '1']) == 0
    coco = load(out / 'annotations' / 'train.json')
    assert len(coco['categories']) == 14
    text = capsys.readouterr().out
    assert 'images/s' in text and 'skipped: 12' in text
    assert tool.main([str(vindr_root), str(out), '--strict', '--workers', '1']) == 1
    assert tool.main([str(vindr_root), str(out), '--split', 'test']) == 2
    (vindr_root / 'test').mkdir()
    write_dicom(vindr_root / 'test' / 't1.dicom', ramp())
    assert tool.main([str(vindr_root), str(out), '--split', 'test', '--images-only', '--workers', '1']) == 0
    test = load(out / 'annotations' / 'test.json')
    assert len(test['images']) == 1 and test['annotations'] == []
