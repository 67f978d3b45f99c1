"""tools/model_converters/extract_teacher.py: a plain detector config + checkpoint that mmdet's
DetInferencer loads and that predicts what the teacher inside the semi model predicts."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from anomed_mmdet.apis.inference import build_test_pipeline
from tests.conftest import REPO
from tests.inference_helpers import (CLASSES, PLAIN_CFG, SEMI_CFG, build_model, gray_image, load_tool,
                                     semi_checkpoint)

extract_teacher = load_tool(REPO / 'tools/model_converters/extract_teacher.py')


@pytest.fixture(scope='module')
def extracted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('extract')
    model, ckpt = semi_checkpoint(tmp)
    extract_teacher.main([str(SEMI_CFG), str(ckpt), str(tmp / 'out')])
    name = SEMI_CFG.stem + '_teacher'
    return model, ckpt, tmp / 'out' / f'{name}.py', tmp / 'out' / f'{name}.pth'


def test_checkpoint_holds_the_teacher_weights_and_a_minimal_meta(extracted):
    model, _, _, pth = extracted
    ckpt = torch.load(str(pth))  # weights_only (torch's default) suffices
    assert set(ckpt) == {'meta', 'state_dict'}
    sd = ckpt['state_dict']
    assert sd.keys() == model.teacher.state_dict().keys()
    assert all(torch.equal(v, model.teacher.state_dict()[k]) for k, v in sd.items())
    assert set(ckpt['meta']) == {'dataset_meta', 'mmengine_version', 'source_checkpoint', 'branch', 'iter'}
    assert ckpt['meta']['dataset_meta']['classes'] == CLASSES and ckpt['meta']['branch'] == 'teacher'


def test_config_is_a_plain_detector_without_training_parts(extracted):
    cfg = Config.fromfile(str(extracted[2]))
    assert cfg.model.type == 'FasterRCNN' and [n.type for n in cfg.model.neck] == ['SIB', 'FA']
    assert cfg.model.data_preprocessor.type == 'DetDataPreprocessor'
    assert 'anomed_mmdet' in cfg.custom_imports.imports
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler', 'custom_hooks',
                'plo', 'semi_train_cfg', 'detector'):
        assert key not in cfg, key
    assert cfg.val_cfg.type == 'ValLoop' and cfg.test_cfg.type == 'TestLoop'
    assert cfg.default_hooks.checkpoint.save_best == 'coco/bbox_mAP'
    assert cfg.test_dataloader.dataset.pipeline == Config.fromfile(str(SEMI_CFG)).test_dataloader.dataset.pipeline


def test_det_inferencer_reproduces_the_teacher_of_the_semi_model(extracted):
    from mmdet.apis import DetInferencer, inference_detector

    model, _, cfg_path, pth = extracted
    img = np.repeat(gray_image(150, 200)[:, :, None], 3, axis=2)
    inferencer = DetInferencer(model=str(cfg_path), weights=str(pth), device='cpu', show_progress=False)
    assert inferencer.model.dataset_meta['classes'] == CLASSES
    got = inferencer(img, return_datasamples=True)['predictions'][0].pred_instances

    model.cfg = Config.fromfile(str(SEMI_CFG))  # AnoMed predicts with its teacher
    ref = inference_detector(model, img, test_pipeline=build_test_pipeline(model.cfg)).pred_instances
    assert len(ref) > 0 and len(got) == len(ref)
    torch.testing.assert_close(got.bboxes, ref.bboxes)
    torch.testing.assert_close(got.scores, ref.scores)
    assert torch.equal(got.labels, ref.labels)
    model.student.cfg = model.cfg
    student = inference_detector(model.student, img, test_pipeline=build_test_pipeline(model.cfg)).pred_instances
    assert not torch.equal(student.bboxes, ref.bboxes)


def test_student_option_and_name(extracted, tmp_path):
    model, ckpt, _, _ = extracted
    extract_teacher.main([str(SEMI_CFG), str(ckpt), str(tmp_path), '--student', '--name', 'stu'])
    sd = torch.load(str(tmp_path / 'stu.pth'))['state_dict']
    assert all(torch.equal(v, model.student.state_dict()[k]) for k, v in sd.items())
    assert (tmp_path / 'stu.py').is_file()


def test_a_plain_checkpoint_is_refused(tmp_path):
    plain = build_model(PLAIN_CFG)
    torch.save({'state_dict': plain.state_dict(), 'meta': {}}, str(tmp_path / 'plain.pth'))
    with pytest.raises(ValueError, match='plain detector checkpoint already'):
        extract_teacher.main([str(PLAIN_CFG), str(tmp_path / 'plain.pth'), str(tmp_path / 'out')])


def test_drop_keys_leaves_the_box_head_out(extracted, tmp_path):
    _, ckpt, _, _ = extracted
    extract_teacher.main([str(SEMI_CFG), str(ckpt), str(tmp_path), '--name', 'nohead',
                          '--drop-keys', 'roi_head.bbox_head.fc_cls', 'roi_head.bbox_head.fc_reg'])
    saved = torch.load(str(tmp_path / 'nohead.pth'))
    assert not [k for k in saved['state_dict'] if 'fc_cls' in k or 'fc_reg' in k]
    assert 'roi_head.bbox_head.shared_fcs.0.weight' in saved['state_dict']
    assert saved['meta']['dropped_keys'] == ['roi_head.bbox_head.fc_cls', 'roi_head.bbox_head.fc_reg']
