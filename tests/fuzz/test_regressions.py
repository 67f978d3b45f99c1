"""One test per defect that tools/misc/fuzz_inputs.py found in the readers (docs/reliability.md,
section 6). Each builds the hostile input directly (no random mutation) and checks that it now ends
in a valid result or the project's named error, within a memory bound where that was the defect."""
import contextlib
import io
import json
import struct
import tracemalloc
import warnings

import numpy as np
import pytest

from anomed_mmdet.datasets.data_checks import BadDataError, check_coco, load_coco_json
from anomed_mmdet.datasets.dicom import DicomReadError, read_dicom
from anomed_mmdet.testing import write_dicom
from tests.fuzz import mutators as M
from tests.fuzz.targets import REPO, coco_seed, dicom_seeds, load_tool, png_bytes, ramp, voc

PX = ramp(16, 24)
MB = 1 << 20


@pytest.fixture(scope='module')
def seeds(tmp_path_factory):
    return dicom_seeds(tmp_path_factory.mktemp('seeds'))


@contextlib.contextmanager
def peak_below(limit_mb):
    """Python-level allocations (numpy and bytes included) stay under ``limit_mb``."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit_mb * MB, f'peak {peak / MB:.0f} MB'


def read(data, **kw):
    src = io.BytesIO(data)
    src.name = 'hostile.dcm'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return read_dicom(src, **kw)


def dicom_error(data, match, **kw):
    with pytest.raises(DicomReadError, match=match) as err:
        read(data, **kw)
    assert str(err.value).startswith('hostile.dcm: ')
    return err.value


# ------------------------------------------------------------------------------ read_dicom

def test_element_length_past_the_end_allocates_nothing(seeds, tmp_path):
    """Was: pydicom read the claimed length from the file object, allocating up to 4 GiB first
    (MemoryError under the fuzzer's address-space cap)."""
    data = M.with_length(seeds['mono2'], M.PIXEL_DATA, 0xFFFFFFF0)
    path = tmp_path / 'long.dcm'
    path.write_bytes(data)
    with peak_below(64):
        img = read_dicom(str(path))  # the pixels are all there: the value is what the file holds
    assert img.shape == (16, 24)


@pytest.mark.parametrize('seed,size', [('rle', 50000), ('mono2', 65535), ('jpeg_ls_fake', 65535)])
def test_header_claiming_a_huge_image_is_refused_before_decoding(seeds, seed, size):
    """Was: an RLE header claiming 50000 x 50000 made pydicom allocate its 4.7 GiB output."""
    data = seeds[seed]
    for tag in (0x00280010, 0x00280011):
        data = M.with_element(data, tag, b'US', struct.pack('<H', size))
    with peak_below(64):
        dicom_error(data, f'image too large: .* {size} x {size} x 1 samples')
    data = seeds['mono2']
    for tag in (0x00280010, 0x00280011):  # 100k x 100k, stored with a wrong VR (UL)
        data = M.with_element(data, tag, b'UL', struct.pack('<I', 100000))
    dicom_error(data, r'image too large: .* 100000 x 100000')


def test_max_pixels_is_a_parameter(seeds):
    assert read(seeds['mono2']).shape == (16, 24)
    dicom_error(seeds['mono2'], r'too large: .*= 384 values \(max_pixels=100\)', max_pixels=100)


def test_deflate_bomb_is_refused_while_inflating(seeds):
    """Was: pydicom inflated the whole data set (2 GiB from a 2 MB file) before reading it."""
    import random
    bomb, _ = M.deflate_bomb(random.Random(0), M.DicomLayout.parse(seeds['deflated']))
    assert len(bomb) < 4 * MB
    with peak_below(64):
        dicom_error(bomb, 'deflated data set too large')
    assert read(seeds['deflated']).shape == (16, 24)  # a normal deflated file still reads


@pytest.mark.parametrize('uid,vr', [('', b'UI'), ('1.2.840.10008.1.2.1', b'OB')])
def test_unusable_transfer_syntax_element_is_named(seeds, uid, vr):
    """Was: AttributeError: 'str' object has no attribute 'name' (the UID read as str / bytes)."""
    data = M.with_transfer_syntax(M.DicomLayout.parse(seeds['mono2']), uid, vr)
    dicom_error(data, 'Transfer Syntax|not a valid DICOM|truncated or corrupt|not supported')


def test_undecodable_modality_lut_sequence_is_named(seeds):
    """Was: AttributeError from pydicom's apply_modality_lut (an item without LUTDescriptor)."""
    lay = M.DicomLayout.parse(seeds['mono2'])
    inner = lay.encode_element(0x00091001, b'LO', b'no descriptor')
    item = struct.pack('<HHI', 0xFFFE, 0xE000, len(inner)) + inner
    data = M.with_element(seeds['mono2'], 0x00283000, b'SQ', item)
    dicom_error(data, 'corrupt or inconsistent header elements')


def test_single_valued_pixel_spacing_reads_without_spacing(seeds):
    """Was: TypeError: 'DSfloat' object is not iterable when building the metadata."""
    data = M.with_element(seeds['mono2'], 0x00280030, b'DS', b'0.2 ')
    img, meta = read(data, return_meta=True)
    assert img.shape == (16, 24) and meta['pixel_spacing'] is None


@pytest.mark.parametrize('lut_data', [b'\x00\x01', bytes(7)])
def test_broken_voi_lut_falls_back_to_minmax(seeds, lut_data):
    """Was: struct.error / BytesLengthException out of apply_voi_lut (LUTData shorter than its
    descriptor or of odd length); a broken window already fell back to min-max."""
    lay = M.DicomLayout.parse(seeds['mono2'])
    inner = (lay.encode_element(0x00283002, b'US', struct.pack('<3H', 4096, 0, 16)) +
             lay.encode_element(0x00283006, b'OW', lut_data))
    item = struct.pack('<HHI', 0xFFFE, 0xE000, len(inner)) + inner
    data = M.with_element(seeds['mono2'], 0x00283010, b'SQ', item)
    with pytest.warns(UserWarning, match='VOI LUT/window unusable'):
        img, meta = read_dicom(io.BytesIO(data), return_meta=True)
    assert meta['voi'] == 'minmax'
    np.testing.assert_array_equal(img, read(seeds['mono2'], voi='minmax'))


def test_colour_file_with_surplus_pixel_data_is_not_an_image_stack(seeds):
    """Was: pydicom made frames of the surplus bytes and read_dicom returned a 3-D 'image'
    (tools/infer.py then failed in the model's data preprocessor with an AssertionError)."""
    lay = M.DicomLayout.parse(seeds['rgb'])
    px = next(el for el in lay.elements if el.tag == M.PIXEL_DATA)
    data = M.with_element(seeds['rgb'], M.PIXEL_DATA, b'OB', lay.body[px.value_start:px.end] * 5)
    dicom_error(data, 'expected a 2-D colour frame')


@pytest.mark.parametrize('rescale', [(float('nan'), 0), (1, float('inf'))])
def test_non_finite_rescale_is_named(tmp_path, rescale):
    """Was: a NaN slope gave an all-NaN float image (0 after the uint8 cast, with a warning)."""
    path = write_dicom(tmp_path / 'r.dcm', PX, rescale=rescale)
    with pytest.raises(DicomReadError, match='RescaleSlope'):
        read_dicom(path, out_dtype=np.float32)


def test_non_finite_window_falls_back_to_minmax(tmp_path):
    path = write_dicom(tmp_path / 'w.dcm', PX, window=(float('nan'), 100))
    with pytest.warns(UserWarning, match='VOI LUT/window unusable'):
        img, meta = read_dicom(path, out_dtype=np.float32, return_meta=True)
    assert meta['voi'] == 'minmax' and np.isfinite(img).all()


def test_folder_is_a_named_error(tmp_path):
    (tmp_path / 'x.dcm').mkdir()
    with pytest.raises(DicomReadError, match='cannot read the file'):
        read_dicom(tmp_path / 'x.dcm')
    with pytest.raises(FileNotFoundError):
        read_dicom(tmp_path / 'missing.dcm')


# ------------------------------------------------------------------------------ converters

@pytest.mark.parametrize('body', [
    b'img_a,Nodule/Mass,8,R1,10,10,20,20\nimg_a,Nodule/Mass,8,R2,1,1,2,2,extra\n',  # a ragged row
    b'img_a,"Nodule/Mass,8,R1,10,10,20,20\n',          # an unclosed quote
    b'img_a,Nodule/Mass,8,R1,1\xff,10,20,20\n',        # a byte that is not UTF-8
    None,                                              # an empty file
])
def test_vindr_unreadable_csv_is_named(tmp_path, body):
    """Was: pandas' ParserError / UnicodeDecodeError / EmptyDataError, not naming the CSV."""
    from anomed_mmdet.datasets.converters.common import ConversionReport
    from anomed_mmdet.datasets.converters.vindr import PRESETS, parse_vindr_csv
    csv = tmp_path / 'train.csv'
    csv.write_bytes(b'' if body is None else b'image_id,class_name,class_id,rad_id,x_min,y_min,x_max,y_max\n' + body)
    with pytest.raises(ValueError, match=f'{csv}: not a readable CSV') as err:
        parse_vindr_csv(str(csv), PRESETS['paper5'], ConversionReport())
    assert type(err.value) is ValueError


def tbx_root(tmp_path, lst=None, xml=None, png=None):
    root = tmp_path / 'TBX11K'
    good = png_bytes(np.zeros((48, 64, 3), np.uint8))
    for rel in ('tb/tb1.png', 'health/h1.png'):
        (root / 'imgs' / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / 'imgs' / rel).write_bytes(png if png is not None and rel == 'health/h1.png' else good)
    (root / 'annotations' / 'xml').mkdir(parents=True)
    (root / 'annotations' / 'xml' / 'tb1.xml').write_text(xml or voc([('ActiveTuberculosis', (10, 12, 30, 40))]))
    (root / 'lists').mkdir()
    (root / 'lists' / 'TBX11K_train.txt').write_bytes(lst or b'tb/tb1.png\nhealth/h1.png\n')
    return root


def tbx_convert(root, tmp_path):
    from anomed_mmdet.datasets.converters.tbx11k import convert_tbx11k
    res = convert_tbx11k(str(root), str(tmp_path / 'out'), verbose=False)
    coco = load_coco_json(str(tmp_path / 'out' / 'TBX11K_train.json'))
    assert check_coco(coco, 'out', str(root / 'imgs'), 'header').problems == []
    report = json.loads((tmp_path / 'out' / 'conversion_report_tbx11k.json').read_text())
    return res, coco, report


def test_tbx11k_infinite_xml_size_is_ignored(tmp_path):
    """Was: OverflowError (int(float('inf'))) stopped the conversion."""
    xml = voc([('ActiveTuberculosis', (10, 12, 30, 40))]).replace('<width>64</width>', '<width>inf</width>')
    _, coco, _ = tbx_convert(tbx_root(tmp_path, xml=xml), tmp_path)
    assert len(coco['images']) == 2 and len(coco['annotations']) == 1


def test_tbx11k_list_line_that_is_not_utf8_is_skipped_and_reported(tmp_path):
    """Was: UnicodeDecodeError stopped the conversion (and the list was read in the locale's encoding)."""
    _, coco, report = tbx_convert(tbx_root(tmp_path, lst=b'\xef\xbb\xbftb/tb1.png\nhealth/h\xff1.png\nhealth/h1.png\n'),
                                  tmp_path)
    assert [im['file_name'] for im in coco['images']] == ['tb/tb1.png', 'health/h1.png']
    assert [(s['row'], s['reason'][:24]) for s in report['skips']] == [(2, 'line is not UTF-8 text (')]


@pytest.mark.parametrize('w,h', [(0, 48), (64, 0), (2**32 - 1, 2**32 - 1)])
def test_tbx11k_png_header_with_impossible_size_is_skipped(tmp_path, w, h):
    """Was: an image entry with width 0 (or 4294967295) in the converted json."""
    bad = png_bytes(np.zeros((48, 64, 3), np.uint8))
    bad = bad[:16] + struct.pack('>II', w, h) + bad[24:]
    _, coco, report = tbx_convert(tbx_root(tmp_path, png=bad), tmp_path)
    assert [im['file_name'] for im in coco['images']] == ['tb/tb1.png']
    assert [s['reason'] for s in report['skips']] == ['unreadable image header']


# ------------------------------------------------------------------------------ COCO json

def write_set(tmp_path, data=None, raw=None):
    img_dir = tmp_path / 'images'
    img_dir.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in (1, 2, 3):
        (img_dir / f'{i}.png').write_bytes(png_bytes(rng.integers(0, 255, (32, 32), dtype=np.uint8)))
    ann = tmp_path / 'ann.json'
    ann.write_bytes(raw if raw is not None else json.dumps(data).encode())
    return ann


def build(tmp_path, mode='error', **kw):
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    import anomed_mmdet  # noqa: F401
    init_default_scope('mmdet')
    return DATASETS.build(dict(type='CheckedCocoDataset', data_root=str(tmp_path), ann_file='ann.json',
                               data_prefix=dict(img='images/'), metainfo=dict(classes=('nodule', 'mass')),
                               filter_cfg=dict(filter_empty_gt=False), pipeline=[], on_bad_data=mode, **kw))


check_dataset = load_tool(REPO / 'tools/misc/check_dataset.py', 'regression_check_dataset')


def check_tool(ann, capsys):
    rc = check_dataset.main([str(ann), str(ann.parent / 'images'), '--no-progress'])
    return rc, capsys.readouterr().out


@pytest.mark.parametrize('raw', [b'{"images": ' + b'[' * 100000 + b']' * 100000 + b'}',
                                 b'{"images": [], "categories": [], "x": ' + b'9' * 5000 + b'}'])
def test_json_nested_too_deep_or_with_huge_integers_is_not_readable(tmp_path, capsys, raw):
    """Was: RecursionError / ValueError (int digit limit) out of json.load."""
    ann = write_set(tmp_path, raw=raw)
    for mode in ('error', 'skip'):
        with pytest.raises(BadDataError, match=f'{ann}: not a readable json file'):
            build(tmp_path, mode)
    rc, out = check_tool(ann, capsys)
    assert rc == 1 and f'problem: {ann}: not a readable json file' in out


def mutated(**changes):
    data = coco_seed()
    for path, value in changes.items():
        seq, i, key = path.split('__')
        if key == 'DEL':
            del data[seq][int(i)]
        elif key:
            data[seq][int(i)][key] = value
        else:
            data[seq][int(i)] = value
    return data


@pytest.mark.parametrize('changes,kind', [
    (dict(images__0__id=[1]), 'bad_image_entry'),          # unhashable
    (dict(images__0__id='1'), 'bad_image_entry'),
    (dict(images__0__id=True), 'bad_image_entry'),
    (dict(categories__0__id=None), 'bad_category'),         # was: TypeError in sorted()
    (dict(categories__1__id='2'), 'bad_category'),
    (dict(categories__0__name=None), 'bad_category'),      # was: KeyError 'name' in pycocotools
    (dict(categories__1__='mass'), 'bad_category'),          # not a dict
    (dict(categories__1__name='nodule'), 'bad_category'),   # two ids, one class name
])
def test_ids_and_categories_that_mmdet_cannot_index_are_fatal(tmp_path, capsys, changes, kind):
    """Was: TypeError (unhashable / unorderable ids), KeyError out of pycocotools, or silently
    wrong labels (a repeated category name maps two ids to two classes)."""
    ann = write_set(tmp_path, mutated(**changes))
    for mode in ('error', 'skip'):
        with pytest.raises(BadDataError, match=f'(?s){ann}.*by kind: {kind}'):
            build(tmp_path, mode)
    rc, out = check_tool(ann, capsys)
    assert rc == 1 and f'[{kind}]' in out


@pytest.mark.parametrize('changes,kind', [
    (dict(annotations__0__id=[1]), 'bad_annotation'),
    (dict(annotations__0__category_id={'id': 1}), 'bad_annotation'),
    (dict(annotations__0__image_id=[1]), 'orphan_annotation'),
])
def test_annotation_ids_that_are_not_integers_are_problems(tmp_path, capsys, changes, kind):
    ann = write_set(tmp_path, mutated(**changes))
    with pytest.raises(BadDataError, match=f'by kind: {kind}'):
        build(tmp_path)
    rc, out = check_tool(ann, capsys)
    assert rc == 1 and f'[{kind}]' in out


@pytest.mark.parametrize('changes', [
    dict(annotations__1__bbox=None),                       # was: TypeError in mmdet's parse_data_info
    dict(annotations__1__bbox=[1, 2, 3]),                  # was: ValueError (unpack)
    dict(images__1__file_name=None),                       # was: TypeError / KeyError
    dict(annotations__1__id=None, annotations__2__id=None),  # was: AssertionError (ids not unique)
])
def test_skip_mode_drops_what_mmdet_cannot_parse(tmp_path, changes):
    """Was: in on_bad_data='skip', mmdet re-read the raw json and failed on the entries that the
    check had flagged, before they were dropped."""
    write_set(tmp_path, mutated(**changes))
    ds = build(tmp_path, 'skip')
    assert sorted(ds.get_data_info(i)['img_id'] for i in range(len(ds))) == [1, 3]


@pytest.mark.parametrize('data', [dict(images=[], annotations=[], categories=coco_seed()['categories']),
                                  mutated(images__0__width=0, images__1__width=0, images__2__width=0)])
def test_nothing_left_to_load_is_named(tmp_path, data):
    """Was: mmengine's ValueError 'need at least one array to concatenate'."""
    ann = write_set(tmp_path, data)
    with pytest.raises(BadDataError, match=f'no image left in {ann}'):
        build(tmp_path, 'skip')
