"""COCO AP, the VinBigData metric (VOC mAP at IoU 0.4) and FROC together through mmengine's
Evaluator, as the VinDr-CXR test config builds them, on a tiny COCO json with hand-set results.

3 images of 100 x 100 px. Image 1: a nodule [10, 10, 30, 30] and a cardiomegaly [50, 50, 90, 90];
image 2: a nodule [20, 20, 40, 40]; image 3: normal. Predictions: image 1 both lesions exactly
(nodule 0.9, cardiomegaly 0.8); image 2 the nodule shifted 7 px right (IoU 13/27 = 0.48; 0.5 in
VOC's +1 pixel convention), 0.7; image 3 a nodule at 0.95 on nothing.
"""
import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import anomed_mmdet  # noqa: F401  (registers FROCMetric and CheckedCocoDataset)
from tests.conftest import REPO

VINDR = REPO / 'configs/_base_/datasets/vindr_cxr_detection.py'
NODULE, CARDIO = 'Nodule/Mass', 'Cardiomegaly'
GT = {1: [(NODULE, [10, 10, 30, 30]), (CARDIO, [50, 50, 90, 90])], 2: [(NODULE, [20, 20, 40, 40])], 3: []}
PRED = {1: [(NODULE, [10, 10, 30, 30], 0.9), (CARDIO, [50, 50, 90, 90], 0.8)],
        2: [(NODULE, [27, 20, 47, 40], 0.7)],
        3: [(NODULE, [60, 60, 80, 80], 0.95)]}


@pytest.fixture
def tiny_vindr(tmp_path):
    cfg = Config.fromfile(str(VINDR))
    classes = list(cfg.metainfo.classes)
    (tmp_path / 'images').mkdir()
    images, anns = [], []
    for img_id, lesions in GT.items():
        cv2.imwrite(str(tmp_path / 'images' / f'{img_id}.png'), np.full((100, 100), 80, np.uint8))
        images.append(dict(id=img_id, file_name=f'{img_id}.png', width=100, height=100))
        for name, (x1, y1, x2, y2) in lesions:
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=classes.index(name) + 1,
                             bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1), iscrowd=0))
    cats = [dict(id=i + 1, name=c) for i, c in enumerate(classes)]
    ann_file = tmp_path / 'test.json'
    ann_file.write_text(json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return cfg, tmp_path, str(ann_file), classes


def test_coco_vinbigdata_and_froc_together(tiny_vindr):
    cfg, root, ann_file, classes = tiny_vindr
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=str(root) + '/', ann_file=ann_file,
                                  data_prefix=dict(img='images/')))
    metrics = [dict(m, ann_file=ann_file) if 'ann_file' in m else m for m in cfg.test_evaluator]
    assert [m['type'] for m in metrics] == ['CocoMetric', 'VOCMetric', 'FROCMetric']
    evaluator = Evaluator(metrics)
    evaluator.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']   # through the config's test pipeline (1024 px)
        preds = PRED[sample.img_id]
        sample.pred_instances = InstanceData(
            bboxes=torch.tensor([p[1] for p in preds], dtype=torch.float32),
            scores=torch.tensor([p[2] for p in preds]),
            labels=torch.tensor([classes.index(p[0]) for p in preds]))
        evaluator.process([sample])
    m = evaluator.evaluate(len(dataset))

    # COCO AP50, nodule: 0.95 FP, 0.9 TP, 0.7 FP (IoU 0.48) -> precision 0.5 up to recall 0.5:
    # 51 of 101 recall points -> 0.2525; cardiomegaly 1.0; classes without boxes left out
    assert m['coco/bbox_mAP_50'] == 0.626
    # VOC at IoU 0.4 ('area'), nodule: 0.95 FP, 0.9 TP, 0.7 TP -> precision 2/3 over recall
    # 0..1 (envelope) -> 0.667; cardiomegaly 1.0
    assert m['vinbigdata/mAP'] == pytest.approx((2 / 3 + 1) / 2, abs=1e-4)
    assert m['vinbigdata/AP40'] == 0.833
    # FROC (IoU >= 0.5), 3 lesions, 3 images: 0.95 FP -> (1/3, 0); 0.9, 0.8 TP -> (1/3, 2/3);
    # 0.7 FP -> (2/3, 2/3): sensitivity 0 below 1/3 FP per image, then 2/3; CPM 5 * 2/3 / 7
    assert [m[f'froc/sens@{r}'] for r in ('0.125', '0.25', '0.5', '1', '8')] == pytest.approx([0, 0, 2 / 3, 2 / 3, 2 / 3])
    assert m['froc/cpm'] == pytest.approx(10 / 21)
    assert m['froc/Nodule_Mass_cpm'] == pytest.approx(2.5 / 7) and m['froc/Cardiomegaly_cpm'] == 1.0
    assert m['froc/Aortic_enlargement_cpm'] == -1.0   # no lesion of that class


@pytest.mark.parametrize('name', ['vindr_cxr_detection', 'vindr_cxr14_detection',
                                  'semi_vindr_cxr_detection', 'semi_vindr_cxr14_detection'])
def test_vindr_test_evaluators(name):
    cfg = Config.fromfile(str(REPO / f'configs/_base_/datasets/{name}.py'))
    coco, voc, froc = cfg.test_evaluator
    assert coco.type == 'CocoMetric' and coco.ann_file == cfg.test_dataloader.dataset.data_root + \
        cfg.test_dataloader.dataset.ann_file
    assert (voc.type, voc.iou_thrs, voc.eval_mode, voc.prefix) == ('VOCMetric', [0.4], 'area', 'vinbigdata')
    assert froc.type == 'FROCMetric'
    assert cfg.val_evaluator.type == 'CocoMetric'  # checkpoint selection reads coco/bbox_mAP


@pytest.mark.parametrize('name', ['synth_cxr_detection', 'synth_cxr_detection_cpu', 'semi_synth_cxr_detection',
                                  'semi_synth_cxr_detection_cpu', 'coco_xray_detection', 'semi_tbx11k_detection',
                                  'tbx11k_detection'])
def test_other_test_evaluators_add_map40_and_froc(name):
    cfg = Config.fromfile(str(REPO / f'configs/_base_/datasets/{name}.py'))
    coco, voc, froc = cfg.test_evaluator
    assert (coco.type, froc.type) == ('CocoMetric', 'FROCMetric')
    assert (voc.type, voc.iou_thrs, voc.eval_mode, voc.prefix) == ('VOCMetric', [0.4], 'area', 'vinbigdata')
    assert coco.ann_file == cfg.test_dataloader.dataset.data_root + cfg.test_dataloader.dataset.ann_file
    assert cfg.val_evaluator.type == 'CocoMetric'
