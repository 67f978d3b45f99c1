"""tools/dist_train.sh / dist_test.sh with 2 CPU processes (gloo): AnoMed trains, and the
2-process test gives the metrics and predictions of the 1-process test of the same checkpoint."""
import json
import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from tests.conftest import REPO
from tests.tiny import tiny_anomed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(cmd, **env) -> str:
    full_env = dict(os.environ, PYTHON=sys.executable, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1',
                    MASTER_ADDR='127.0.0.1', PORT=str(free_port()), **env)
    proc = subprocess.run(cmd, cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-5000:]
    return proc.stdout


def metrics(work_dir: Path) -> dict:
    """The test metrics that mmengine's LoggerHook writes to <work_dir>/<timestamp>/<timestamp>.json."""
    found = [json.loads(line) for f in work_dir.glob('*/*.json') for line in f.read_text().splitlines()]
    found = [m for m in found if 'coco/bbox_mAP' in m]
    assert len(found) == 1, found
    return found[0]


def exact_coco_stats(preds: list, ann_file: str) -> np.ndarray:
    """Unrounded COCO AP/AR of a predictions pickle (CocoMetric rounds to 3 decimals), class-agnostic
    at IoU 0.1 / 0.3 / 0.5: the 4-iteration model's AP is 0.0, and 0 == 0 would prove little."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    gt = COCO(ann_file)
    cat_ids = sorted(gt.getCatIds())
    dets = [dict(image_id=int(p['img_id']), category_id=cat_ids[int(label)], score=float(score),
                 bbox=[float(x1), float(y1), float(x2 - x1), float(y2 - y1)])
            for p in preds for (x1, y1, x2, y2), score, label in zip(
                p['pred_instances']['bboxes'].tolist(), p['pred_instances']['scores'].tolist(),
                p['pred_instances']['labels'].tolist())]
    ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
    ev.params.iouThrs = np.array([0.1, 0.3, 0.5])
    ev.params.useCats = 0
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats


def test_two_process_train_and_test_match_one_process(tiny_synth, tmp_path):
    root, _, _ = tiny_synth
    cfg = tiny_anomed(root, tmp_path / 'train', max_iters=4, ckpt_interval=4, val=False)
    cfg.model.plo.update(confident_thr=0.05, scrap_thr=0.02)
    config = tmp_path / 'anomed_tiny.py'
    cfg.dump(str(config))

    out = run(['bash', 'tools/dist_train.sh', str(config), '2'])
    assert 'Distributed training: True' in out
    log = next((tmp_path / 'train').glob('*/*.log')).read_text()
    assert "'backend': 'gloo'" in log and 'Iter(train) [4/4]' in log
    ckpt = tmp_path / 'train' / 'iter_4.pth'
    saved = torch.load(str(ckpt), map_location='cpu')
    assert saved['meta']['iter'] == 4

    one, two = tmp_path / 'test1', tmp_path / 'test2'
    run([sys.executable, 'tools/test.py', str(config), str(ckpt), '--work-dir', str(one),
         '--out', str(one / 'preds.pkl')])
    run(['bash', 'tools/dist_test.sh', str(config), str(ckpt), '2', '--work-dir', str(two),
         '--out', str(two / 'preds.pkl')])

    m1, m2 = metrics(one), metrics(two)
    keys = [k for k in m1 if k.startswith('coco/')]
    assert 'coco/bbox_mAP' in keys and {k: m1[k] for k in keys} == {k: m2[k] for k in keys}

    # every test image predicted exactly once (DDP pads the last batch; results are de-padded)
    p1, p2 = (pickle.load(open(d / 'preds.pkl', 'rb')) for d in (one, two))
    n_test = len(json.loads((root / 'annotations/test.json').read_text())['images'])
    assert n_test % 2 == 1  # an odd count exercises the padding
    ids1, ids2 = sorted(p['img_id'] for p in p1), sorted(p['img_id'] for p in p2)
    assert ids1 == ids2 and len(set(ids1)) == n_test
    by_id = {p['img_id']: p for p in p2}
    for p in p1:
        a, b = p['pred_instances'], by_id[p['img_id']]['pred_instances']
        assert len(a['scores']) == len(b['scores']) > 0
        torch.testing.assert_close(a['bboxes'], b['bboxes'], atol=1e-3, rtol=1e-4)
        torch.testing.assert_close(a['scores'], b['scores'], atol=1e-5, rtol=1e-4)
    ann = str(root / 'annotations/test.json')
    stats1 = exact_coco_stats(p1, ann)
    assert stats1[0] > 0  # not a trivial zero
    np.testing.assert_allclose(stats1, exact_coco_stats(p2, ann), atol=1e-6)
