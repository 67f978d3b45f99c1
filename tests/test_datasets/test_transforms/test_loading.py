"""LoadDicomFromFile: alone, in mmcv Compose and in an mmdet detection pipeline."""
import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope

import anomed_mmdet  # noqa: F401  (registers the transform)
from anomed_mmdet.datasets.dicom import DicomReadError, read_dicom
from anomed_mmdet.testing import write_dicom
from anomed_mmdet.datasets.transforms import LoadDicomFromFile
from mmdet.registry import TRANSFORMS

PX = (np.arange(64 * 48).reshape(48, 64) % 4096).astype(np.uint16)


@pytest.fixture
def dcm(tmp_path):
    return str(write_dicom(tmp_path / 'a.dcm', PX, photometric='MONOCHROME1'))


def test_registered_in_mmdet():
    assert TRANSFORMS.get('LoadDicomFromFile') is LoadDicomFromFile


def test_color_grayscale_float(dcm):
    ref = read_dicom(dcm)
    out = LoadDicomFromFile()(dict(img_path=dcm))
    assert out['img'].shape == (48, 64, 3) and out['img'].dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(out['img'][..., c], ref)
    assert out['img_shape'] == (48, 64) and out['ori_shape'] == (48, 64)
    gray = LoadDicomFromFile(color_type='grayscale', to_float32=True, with_meta=True)(dict(img_path=dcm))
    assert gray['img'].shape == (48, 64) and gray['img'].dtype == np.float32
    np.testing.assert_array_equal(gray['img'], ref.astype(np.float32))
    assert gray['dicom_meta']['photometric'] == 'MONOCHROME1'
    g16 = LoadDicomFromFile(color_type='unchanged', bit_depth=16)(dict(img_path=dcm))
    assert g16['img'].dtype == np.uint16 and g16['img'].max() == 65535


def test_png_fallback_and_strict(tmp_path, dcm):
    png = str(tmp_path / 'b.png')
    cv2.imwrite(png, np.full((20, 30), 77, np.uint8))
    out = LoadDicomFromFile()(dict(img_path=png))
    assert out['img'].shape == (20, 30, 3) and (out['img'] == 77).all()
    with pytest.raises(ValueError, match='not a DICOM'):
        LoadDicomFromFile(allow_non_dicom=False)(dict(img_path=png))


def test_bad_file_raises_or_none(tmp_path):
    bad = tmp_path / 'np.dcm'
    write_dicom(bad, PX, with_pixels=False)
    with pytest.raises(DicomReadError, match='no pixel data'):
        LoadDicomFromFile()(dict(img_path=str(bad)))
    assert LoadDicomFromFile(ignore_empty=True)(dict(img_path=str(bad))) is None
    with pytest.raises(ValueError, match='bit_depth'):
        LoadDicomFromFile(bit_depth=12)


def test_in_mmdet_detection_pipeline(tmp_path, dcm):
    init_default_scope('mmdet')
    png = str(tmp_path / 'b.png')
    cv2.imwrite(png, read_dicom(dcm))
    pipeline = Compose([
        dict(type='LoadDicomFromFile'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='Resize', scale=(32, 32), keep_ratio=True),
        dict(type='PackDetInputs'),
    ])
    outs = []
    for path in (dcm, png):  # one pipeline, both formats
        inst = [dict(bbox=[8.0, 4.0, 40.0, 24.0], bbox_label=0, ignore_flag=0)]
        outs.append(pipeline(dict(img_path=path, img_id=0, instances=inst)))
    for out in outs:
        assert tuple(out['inputs'].shape) == (3, 24, 32)
        np.testing.assert_allclose(out['data_samples'].gt_instances.bboxes.tensor.numpy(),
                                   [[4.0, 2.0, 20.0, 12.0]])
        assert out['data_samples'].ori_shape == (48, 64)
    assert (outs[0]['inputs'] == outs[1]['inputs']).all()
