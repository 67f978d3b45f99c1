"""read_dicom: pixel values (modality LUT, VOI LUT / window, MONOCHROME1, bit depth) and errors."""
import io

import numpy as np
import pytest

from anomed_mmdet.datasets.dicom import DicomReadError, read_dicom
from anomed_mmdet.testing import write_dicom

RAMP12 = (np.arange(64 * 64).reshape(64, 64) % 4096).astype(np.uint16)  # 0..4095, all values


def _expect8(unit):
    return int(np.rint(np.float32(unit) * 255))


def test_minmax_monochrome2_12bit(tmp_path):
    img, meta = read_dicom(write_dicom(tmp_path / 'a.dcm', RAMP12, pixel_spacing=(0.14, 0.15)),
                           return_meta=True)
    assert img.dtype == np.uint8 and img.shape == (64, 64)
    flat = RAMP12.ravel()
    out = img.ravel()
    assert out[flat == 0][0] == 0 and out[flat == 4095][0] == 255
    assert out[flat == 2048][0] == _expect8(2048 / 4095)
    assert meta['voi'] == 'minmax' and meta['photometric'] == 'MONOCHROME2'
    assert meta['pixel_spacing'] == (0.14, 0.15) and meta['shape'] == (64, 64)
    assert meta['bits_stored'] == 12 and meta['num_frames'] == 1


def test_monochrome1_is_inverted(tmp_path):
    m2 = read_dicom(write_dicom(tmp_path / 'm2.dcm', RAMP12))
    m1 = read_dicom(write_dicom(tmp_path / 'm1.dcm', RAMP12, photometric='MONOCHROME1'))
    np.testing.assert_array_equal(m1.astype(int), 255 - m2.astype(int))
    assert m1[0, 0] == 255  # stored 0 in MONOCHROME1 is white


def test_16bit_stored_and_16bit_output(tmp_path):
    px = np.zeros((64, 64), np.uint16)
    px[0, 0], px[0, 1], px[0, 2] = 65535, 32768, 1
    img = read_dicom(write_dicom(tmp_path / 'b16.dcm', px, bits_stored=16), out_dtype=np.uint16)
    assert img.dtype == np.uint16
    assert (img[0, 0], img[0, 1], img[0, 2], img[5, 5]) == (65535, 32768, 1, 0)
    f = read_dicom(tmp_path / 'b16.dcm', out_dtype=np.float32)
    assert f.dtype == np.float32 and f.max() == 1.0 and f.min() == 0.0


def test_window_clips_outside(tmp_path):
    img = read_dicom(write_dicom(tmp_path / 'w.dcm', RAMP12, window=(2048, 1024)), return_meta=True)
    img, meta = img
    flat, out = RAMP12.ravel(), img.ravel()
    assert meta['voi'] == 'window'
    assert (out[flat <= 1536] == 0).all() and (out[flat >= 2560] == 255).all()
    # LINEAR window (DICOM C.11.2.1.2): ((x - (c - 0.5)) / (w - 1) + 0.5)
    assert out[flat == 2048][0] == _expect8((2048 - 2047.5) / 1023 + 0.5)
    # min-max (ignoring the window) does not clip
    mm = read_dicom(tmp_path / 'w.dcm', voi='minmax').ravel()
    assert mm[flat == 1000][0] == _expect8(1000 / 4095)


def test_modality_rescale_before_window(tmp_path):
    # stored v -> 2 v - 1000; window 0 +- 1000 in modality units
    px = np.zeros((64, 64), np.uint16)
    px[0, :3] = [0, 500, 1000]
    px[1, 0] = 4000
    img = read_dicom(write_dicom(tmp_path / 'r.dcm', px, rescale=(2, -1000), window=(0, 2000)))
    assert img[0, 0] == 0
    assert abs(int(img[0, 1]) - 128) <= 1  # modality 0 = window centre
    assert img[0, 2] == 255 and img[1, 0] == 255
    # without the rescale stored 500 sits at 3/4 of the window, not at its centre
    raw = read_dicom(write_dicom(tmp_path / 'r0.dcm', px, window=(0, 2000)))
    assert raw[0, 1] == _expect8((500 + 0.5) / 1999 + 0.5) == 191


def test_voi_lut_sequence_preferred_and_window_option(tmp_path):
    lut = (np.arange(4096, dtype=np.int64) ** 2 // 256).tolist()  # non-linear, 0..65504
    path = write_dicom(tmp_path / 'lut.dcm', RAMP12, voi_lut=(0, 16, lut), window=(100, 10))
    img, meta = read_dicom(path, out_dtype=np.uint16, return_meta=True)
    assert meta['voi'] == 'lut'
    flat, out = RAMP12.ravel(), img.ravel()
    for v in (0, 1000, 2048, 4095):
        assert out[flat == v][0] == int(np.rint(np.float32(lut[v] / lut[-1]) * 65535)), v
    win, meta = read_dicom(path, voi='window', return_meta=True)
    assert meta['voi'] == 'window'
    assert win.ravel()[flat == 200][0] == 255 and win.ravel()[flat == 50][0] == 0


def test_file_like_and_meta_transfer_syntax(tmp_path):
    path = write_dicom(tmp_path / 'a.dcm', RAMP12)
    with open(path, 'rb') as f:
        data = f.read()
    np.testing.assert_array_equal(read_dicom(io.BytesIO(data)), read_dicom(path))
    _, meta = read_dicom(path, return_meta=True)
    assert meta['transfer_syntax'] == '1.2.840.10008.1.2.1'


def _cut(src, dst, nbytes):
    data = src.read_bytes()
    dst.write_bytes(data[:nbytes])
    return dst


def test_truncated_pixel_data(tmp_path):
    src = tmp_path / 'full.dcm'
    write_dicom(src, RAMP12)
    bad = _cut(src, tmp_path / 'cut.dcm', -100)
    with pytest.raises(DicomReadError, match=r'cut\.dcm: truncated or corrupt pixel data') as err:
        read_dicom(bad)
    assert isinstance(err.value, ValueError) and err.value.path.endswith('cut.dcm')


def test_truncated_header_and_not_dicom(tmp_path):
    src = tmp_path / 'full.dcm'
    write_dicom(src, RAMP12)
    with pytest.raises(DicomReadError, match='not a valid DICOM'):
        read_dicom(_cut(src, tmp_path / 'head.dcm', 130))
    txt = tmp_path / 'x.dcm'
    txt.write_text('hello')
    with pytest.raises(DicomReadError, match=r'x\.dcm: not a valid DICOM'):
        read_dicom(txt)


def test_no_pixel_data(tmp_path):
    with pytest.raises(DicomReadError, match='no pixel data'):
        read_dicom(write_dicom(tmp_path / 'np.dcm', RAMP12, with_pixels=False))


def test_missing_decoder_names_syntax_and_packages(tmp_path):
    path = write_dicom(tmp_path / 'jls.dcm', RAMP12, transfer_syntax='1.2.840.10008.1.2.4.80',
                       encapsulated=b'\xff\xd8' + b'\0' * 64)
    with pytest.raises(DicomReadError) as err:
        read_dicom(path)
    msg = str(err.value)
    assert 'jls.dcm' in msg and 'JPEG-LS' in msg and '1.2.840.10008.1.2.4.80' in msg
    assert 'pip install' in msg and ('pylibjpeg' in msg or 'gdcm' in msg)


def test_corrupt_compressed_data(tmp_path):
    # JPEG 2000: pillow may decode it, so dummy data is either "corrupt" or "not installed"
    path = write_dicom(tmp_path / 'j2k.dcm', RAMP12, transfer_syntax='1.2.840.10008.1.2.4.90',
                       encapsulated=b'\xff\x4f\xff\x51' + b'\0' * 64)
    with pytest.raises(DicomReadError, match=r'j2k\.dcm: .*JPEG 2000'):
        read_dicom(path)


def test_multi_frame_rejected_unless_frame(tmp_path):
    frames = np.stack([RAMP12, 4095 - RAMP12])
    path = write_dicom(tmp_path / 'mf.dcm', frames, num_frames=2)
    with pytest.raises(DicomReadError, match='multi-frame'):
        read_dicom(path)
    second = read_dicom(path, frame=1)
    assert second[0, 0] == 255
    with pytest.raises(DicomReadError, match='out of range'):
        read_dicom(path, frame=2)


def test_bad_arguments(tmp_path):
    path = write_dicom(tmp_path / 'a.dcm', RAMP12)
    with pytest.raises(ValueError, match='out_dtype'):
        read_dicom(path, out_dtype=np.int32)
    with pytest.raises(ValueError, match='voi'):
        read_dicom(path, voi='lut-only')


def _pydicom_reference(path):
    """pydicom's modality LUT + windowing, its output range scaled to 0..255."""
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    ds = pydicom.dcmread(path)
    out = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds)
    with np.errstate(over='ignore'):
        lo, hi = apply_voi_lut(np.array([-1e30, 1e30]), ds)
    return np.rint((out - lo) / (hi - lo) * 255).astype(np.int64)


@pytest.mark.parametrize('func,rescale,window', [
    ('LINEAR', None, (1500, 800)),
    ('LINEAR', (0.5, -300), (400, 1200)),
    ('LINEAR', None, ([1500, 3000], [800, 100])),  # multi-valued: the first window
    ('LINEAR_EXACT', (2, 10), (3000, 2500)),
    ('SIGMOID', None, (2000, 1500)),
])
def test_fast_window_matches_pydicom(tmp_path, func, rescale, window):
    px = np.random.default_rng(0).integers(0, 4096, (64, 64)).astype(np.uint16)
    path = write_dicom(tmp_path / 'w.dcm', px, rescale=rescale, extra=dict(VOILUTFunction=func))
    import pydicom
    ds = pydicom.dcmread(path)
    ds.WindowCenter, ds.WindowWidth = window
    ds.save_as(path)
    ours = read_dicom(path).astype(np.int64)
    ref = _pydicom_reference(path)
    assert np.abs(ours - ref).max() <= 1 and (ours == ref).mean() > 0.99
    assert ours.min() < 60 and ours.max() > 200  # the window really spreads the values


def test_invalid_window_falls_back_to_minmax(tmp_path):
    path = write_dicom(tmp_path / 'bad.dcm', RAMP12, window=(2048, 0.5))
    with pytest.warns(UserWarning, match='min-max'):
        img, meta = read_dicom(path, return_meta=True)
    assert meta['voi'] == 'minmax' and img.min() == 0 and img.max() == 255
