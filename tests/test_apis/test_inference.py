"""anomed_mmdet.apis: plain detectors from teacher-student checkpoints, inference on arrays /
files, boxes in the input's pixel frame."""
import numpy as np
import pytest
import torch

from anomed_mmdet.apis import (ImageReadError, collect_inputs, detector_config,
                               detector_state_dict, init_xray_detector, predict_array,
                               predict_file, read_image)
from anomed_mmdet.apis.semi_to_plain import load_checkpoint_dict, load_config
from tests.inference_helpers import (CLASSES, PLAIN_CFG, SEMI_CFG, build_model, gray_image,
                                     save_checkpoint, semi_checkpoint, write_dicom16, write_png)


@pytest.fixture(scope='module')
def semi(tmp_path_factory):
    return semi_checkpoint(tmp_path_factory.mktemp('semi'))


@pytest.fixture(scope='module')
def teacher_model(semi):
    return init_xray_detector(SEMI_CFG, semi[1], device='cpu')


def test_detector_config_and_state_dict_of_a_semi_model():
    cfg = detector_config(SEMI_CFG)
    assert cfg.model.type == 'FasterRCNN' and cfg.model.data_preprocessor.type == 'DetDataPreprocessor'
    assert detector_config(PLAIN_CFG).model == load_config(PLAIN_CFG).model  # plain: unchanged
    sd = {'teacher.a': 1, 'student.a': 2, 'plo.b': 3}
    assert detector_state_dict(sd) == {'a': 1}
    assert detector_state_dict(sd, 'student') == {'a': 2}
    assert detector_state_dict({'a': 1}) == {'a': 1}
    with pytest.raises(KeyError, match='student'):
        detector_state_dict({'teacher.a': 1}, 'student')
    with pytest.raises(ValueError):
        detector_state_dict(sd, 'ema')


def test_boxes_are_in_the_original_pixel_frame(teacher_model):
    """200x150 input, test resize to 320 (x1.6): boxes lie in 200x150 and equal the
    model's boxes in the resized frame divided by 1.6."""
    from mmdet.apis import inference_detector
    from anomed_mmdet.apis.inference import build_test_pipeline

    img = np.repeat(gray_image(150, 200)[:, :, None], 3, axis=2)
    dets = predict_array(teacher_model, img, score_thr=0.0)
    assert dets, 'a random-weight Faster R-CNN still proposes boxes'
    boxes = np.array([d['bbox'] for d in dets])
    assert (boxes >= 0).all() and (boxes[:, [0, 2]] <= 200).all() and (boxes[:, [1, 3]] <= 150).all()
    assert [d['score'] for d in dets] == sorted((d['score'] for d in dets), reverse=True)
    assert {d['class'] for d in dets} <= set(CLASSES)
    assert all(d['class'] == CLASSES[d['label']] for d in dets)

    # mmdet's own inference_detector (its default pipeline) gives the same boxes
    ref = inference_detector(teacher_model, img).pred_instances
    np.testing.assert_allclose(np.sort(boxes, 0), np.sort(ref.bboxes.numpy(), 0), atol=0.01)

    # the same forward without rescaling, in the 320x240 frame, divided by the known factor
    data = build_test_pipeline(teacher_model.cfg)(dict(img=img))
    assert data['data_samples'].img_shape == (240, 320)
    np.testing.assert_allclose(data['data_samples'].scale_factor, (1.6, 1.6))
    batch = teacher_model.data_preprocessor(
        dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
    with torch.no_grad():
        raw = teacher_model.predict(batch['inputs'], batch['data_samples'], rescale=False)[0]
    np.testing.assert_allclose(np.sort(boxes, 0), np.sort(raw.pred_instances.bboxes.numpy() / 1.6, 0),
                               atol=0.01)


def test_teacher_by_default_student_on_request(semi, teacher_model):
    model, ckpt = semi
    img = np.repeat(gray_image(96, 128)[:, :, None], 3, axis=2)
    for branch, sub in (('teacher', model.teacher), ('student', model.student)):
        loaded = teacher_model if branch == 'teacher' else init_xray_detector(SEMI_CFG, ckpt, 'cpu', branch)
        assert loaded.loaded_branch == branch
        for k, v in sub.state_dict().items():
            assert torch.equal(loaded.state_dict()[k], v), k
    t = predict_array(teacher_model, img, 0.0)
    s = predict_array(init_xray_detector(SEMI_CFG, ckpt, 'cpu', 'student'), img, 0.0)
    assert t != s


def test_plain_checkpoint_with_plain_or_semi_config(tmp_path):
    plain = build_model(PLAIN_CFG, seed=1)
    ckpt = save_checkpoint(plain, tmp_path / 'plain.pth', classes=('a', 'b', 'c', 'd', 'e'))
    img = np.repeat(gray_image(64, 80)[:, :, None], 3, axis=2)
    outs = []
    for cfg in (PLAIN_CFG, SEMI_CFG):  # same detector architecture
        model = init_xray_detector(cfg, ckpt, device='cpu')
        assert model.loaded_branch is None and model.dataset_meta['classes'] == ('a', 'b', 'c', 'd', 'e')
        outs.append(predict_array(model, img, 0.0))
    assert outs[0] == outs[1]


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    fpn = build_model('configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py')
    ckpt = save_checkpoint(fpn, tmp_path / 'fpn.pth')
    with pytest.raises(RuntimeError, match='neck'):
        init_xray_detector(PLAIN_CFG, ckpt, device='cpu')


def test_checkpoints_load_weights_only(tmp_path):
    """Arbitrary pickled objects are refused (torch's weights-only loader is kept)."""
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {'x': ImageReadError('boom')}}, str(path))
    with pytest.raises(Exception, match='(?i)weights_only|unsupported global'):
        load_checkpoint_dict(path)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_checkpoint_dict(tmp_path / 'missing.pth')


def test_read_image_png_dicom_and_errors(tmp_path):
    img = gray_image(150, 200)
    png = read_image(write_png(tmp_path / 'a.png', img))
    assert png.shape == (150, 200, 3) and png.dtype == np.uint8 and (png == img[:, :, None]).all()
    dcm = read_image(write_dicom16(tmp_path / 'a.dcm', img))
    assert dcm.shape == (150, 200, 3) and dcm.dtype == np.uint8
    assert np.abs(dcm.astype(int) - png.astype(int)).max() <= 1  # min-max of 0..4080 -> 0..255
    bare = tmp_path / 'no_suffix'  # DICOM recognised by its DICM marker
    bare.write_bytes((tmp_path / 'a.dcm').read_bytes())
    assert read_image(bare).shape == (150, 200, 3)

    with pytest.raises(ImageReadError, match='missing.png: no such file'):
        read_image(tmp_path / 'missing.png')
    (tmp_path / 'bad.png').write_bytes(b'not a png at all')
    with pytest.raises(ImageReadError, match='bad.png'):
        read_image(tmp_path / 'bad.png')
    (tmp_path / 'bad.dcm').write_bytes(b'\0' * 200)
    with pytest.raises(ImageReadError, match='bad.dcm'):
        read_image(tmp_path / 'bad.dcm')


def test_predict_file_record(teacher_model, tmp_path):
    path = write_dicom16(tmp_path / 'x.dcm', gray_image(150, 200))
    record, img = predict_file(teacher_model, path, score_thr=0.0)
    assert img.shape == (150, 200, 3)
    assert record['file'] == str(path) and record['dicom'] is True
    assert (record['width'], record['height']) == (200, 150)
    assert record['num_detections'] == len(record['detections']) > 0
    assert set(record['detections'][0]) == {'bbox', 'score', 'label', 'class'}
    high = predict_file(teacher_model, path, score_thr=1.01)[0]
    assert high['detections'] == []


def test_collect_inputs_names_and_errors(tmp_path):
    d = tmp_path / 'in'
    for name in ('a.png', 'a.dcm', 'b.JPG', 'sub/c.png'):
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_bytes(b'x')
    (d / 'notes.txt').write_text('x')
    (tmp_path / 'empty').mkdir()
    files, errors = collect_inputs([d, tmp_path / 'nope.png', tmp_path / 'empty'])
    assert [n for _, n in files] == ['a_dcm', 'a_png', 'b']
    assert [e['file'] for e in errors] == [str(tmp_path / 'nope.png'), str(tmp_path / 'empty')]
    assert 'no such file' in errors[0]['error'] and 'no image files' in errors[1]['error']
    files, _ = collect_inputs([d], recursive=True)
    assert [n for _, n in files] == ['a_dcm', 'a_png', 'b', 'sub/c']
