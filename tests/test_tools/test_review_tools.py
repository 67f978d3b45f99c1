"""export_review.py -> a scripted review -> merge_review.py on the tiny synthetic set: the labelled
split grows by exactly the accepted and corrected boxes, and the semi config reads the result."""
import csv
import json

import numpy as np
import pytest

from tests.conftest import REPO, load_json
from tests.inference_helpers import PLAIN_CFG, SEMI_CFG, load_tool, semi_checkpoint

export = load_tool(REPO / 'tools/misc/export_review.py')
merge = load_tool(REPO / 'tools/misc/merge_review.py')
# the seeded random-weight teacher scores 0.176-0.179: thresholds that give both buckets and scrap
LOW = ['--cfg-options', 'model.plo.scrap_thr=0.177', 'model.plo.confident_thr=0.1775']


@pytest.fixture(scope='module')
def ckpt(tmp_path_factory):
    return semi_checkpoint(tmp_path_factory.mktemp('review_ckpt'))[1]


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_export_review_merge_round_trip(tiny_synth, ckpt, tmp_path):
    root, _, _ = tiny_synth
    ann = root / 'annotations'
    out = tmp_path / 'review'
    assert export.main([str(SEMI_CFG), str(ckpt), '--images', str(ann / 'train_unlabeled.json'), '--labelled',
                        str(ann / 'train_labeled.json'), '--out-dir', str(out), '--with-confident',
                        '--device', 'cpu', *LOW]) == 0
    cands = load_json(out / 'candidates.json')
    t1, t2 = cands['info']['thresholds']['nodule']
    assert (t1, t2) == (0.1775, 0.177)
    with open(out / 'review.csv', newline='') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(cands['annotations']) > 0
    assert [int(r['rank']) for r in rows] == list(range(1, len(rows) + 1))
    buckets = [r['bucket'] for r in rows]
    assert buckets == sorted(buckets, key=lambda b: b != 'hesitant') and {'hesitant', 'confident'} <= set(buckets)
    for r in rows:  # the buckets are the PLO's thresholds (scores rounded to 4 decimals)
        t1, t2 = cands['info']['thresholds'][r['class']]
        s, tol = float(r['score']), 5e-5
        assert t2 - tol <= s <= t1 + tol if r['bucket'] == 'hesitant' else s >= t1 - tol
    images = {int(r['image_id']) for r in rows}
    assert {p.stem for p in (out / 'overlays').iterdir()} == {
        i['file_name'][:-4] for i in load_json(ann / 'train_unlabeled.json')['images'] if i['id'] in images}

    # the "radiologist": accepts a box that matches a lesion of its class (IoU >= 0.5) and the top-ranked
    # one; moves the first other box of an image with an unfound lesion onto it (corrected); rejects the
    # rest; leaves the image with the smallest id unreviewed
    truth = load_json(ann / 'train.json')
    names = {c['id']: c['name'] for c in truth['categories']}
    gt = {}
    for a in truth['annotations']:
        x, y, w, h = a['bbox']
        gt.setdefault(a['image_id'], []).append(([x, y, x + w, y + h], names[a['category_id']]))
    skipped = min(images)
    expected, fixed = [], set()
    for r in rows:
        i, box = int(r['image_id']), [float(r[k]) for k in ('x1', 'y1', 'x2', 'y2')]
        match = [g for g in gt.get(i, []) if iou(box, g[0]) >= 0.5 and g[1] == r['class']]
        if i == skipped:
            continue
        if r['rank'] == '1' or match:
            r['decision'] = 'accepted'
            expected.append((i, r['class'], box))
        elif gt.get(i) and i not in fixed:
            (x1, y1, x2, y2), cls = gt[i][0]
            r.update(decision='corrected', x1=x1, y1=y1, x2=x2, y2=y2, **{'class': cls})
            expected.append((i, cls, [x1, y1, x2, y2]))
            fixed.add(i)
        else:
            r['decision'] = 'rejected'
    assert fixed and expected
    with open(out / 'review.csv', 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)

    new = tmp_path / 'new'
    assert merge.main([str(out / 'review.csv'), '--labelled', str(ann / 'train_labeled.json'), '--unlabelled',
                       str(ann / 'train_unlabeled.json'), '--out-dir', str(new)]) == 0
    lab0, unl0 = load_json(ann / 'train_labeled.json'), load_json(ann / 'train_unlabeled.json')
    lab, unl = load_json(new / 'train_labeled.json'), load_json(new / 'train_unlabeled.json')
    assert lab['annotations'][:len(lab0['annotations'])] == lab0['annotations']
    added = lab['annotations'][len(lab0['annotations']):]
    assert len(added) == len(expected)  # grows by exactly the accepted + corrected boxes
    got = sorted((a['image_id'], names[a['category_id']], [a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                                                          a['bbox'][1] + a['bbox'][3]]) for a in added)
    for (i, c, b), (j, d, e) in zip(got, sorted(expected)):
        assert (i, c) == (j, d) and np.allclose(b, e, atol=0.02)
    moved = images - {skipped}
    assert {i['id'] for i in lab['images']} == {i['id'] for i in lab0['images']} | moved
    assert {i['id'] for i in unl['images']} == {i['id'] for i in unl0['images']} - moved
    report = load_json(new / 'merge_report.json')
    assert report['images_moved'] == len(moved) and report['labels_added'] == len(expected)
    assert report['corrected'] == len(fixed) and report['undecided'] == sum(r['image_id'] == str(skipped) for r in rows)

    # the semi config reads the new splits
    from mmengine.config import Config
    from mmengine.registry import DATASETS, init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(str(SEMI_CFG))
    sup, unsup = cfg.train_dataloader.dataset.datasets
    for ds, path in ((sup, new / 'train_labeled.json'), (unsup, new / 'train_unlabeled.json')):
        ds.update(data_root=str(root) + '/', ann_file=str(path))
    assert len(DATASETS.build(sup)) == len(lab['images']) and len(DATASETS.build(unsup)) == len(unl['images'])


def test_export_names_its_errors(tiny_synth, ckpt, tmp_path):
    root, _, _ = tiny_synth
    images = str(root / 'annotations/train_unlabeled.json')
    with pytest.raises(SystemExit, match='has no model.plo; pass --plo-config'):
        export.main([str(PLAIN_CFG), str(ckpt), '--images', images, '--out-dir', str(tmp_path)])
    bad = json.loads((root / 'annotations/train_unlabeled.json').read_text())
    bad['images'][0]['width'] += 3
    (tmp_path / 'bad.json').write_text(json.dumps(bad))
    with pytest.raises(SystemExit, match=r'px, the images json says'):
        export.main([str(SEMI_CFG), str(ckpt), '--images', str(tmp_path / 'bad.json'), '--img-dir',
                     str(root / 'images'), '--out-dir', str(tmp_path / 'o'), '--device', 'cpu', '--max-images', '1'])


def test_plain_checkpoint_with_the_plo_of_a_semi_config(tiny_synth, tmp_path):
    from tests.inference_helpers import build_model, save_checkpoint
    root, _, _ = tiny_synth
    plain = save_checkpoint(build_model(PLAIN_CFG), tmp_path / 'plain.pth')
    out = tmp_path / 'out'
    assert export.main([str(PLAIN_CFG), str(plain), '--images', str(root / 'annotations/train_unlabeled.json'),
                        '--plo-config', str(SEMI_CFG), '--max-images', '2', '--no-overlay', '--out-dir', str(out),
                        '--device', 'cpu', '--cfg-options', 'model.plo.scrap_thr=0.0']) == 0
    cands = load_json(out / 'candidates.json')
    assert len(cands['images']) == 2 and cands['annotations'] and not (out / 'overlays').exists()
    assert {c['bucket'] for c in cands['annotations']} == {'hesitant'}  # --with-confident not given
