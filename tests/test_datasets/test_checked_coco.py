"""CheckedCocoDataset: each kind of bad data is named at load time, or skipped and counted."""
import pytest
from mmdet.registry import DATASETS
from mmengine.registry import init_default_scope

import anomed_mmdet  # noqa: F401
from anomed_mmdet.datasets.transforms import CheckedLoadImageFromFile
from anomed_mmdet.datasets.data_checks import BadDataError, check_image_file
from tests.test_datasets.bad_data import make_set
from tests.tiny import mmlogger_messages

CLASSES = ('nodule', 'mass')
PER_IMAGE = ['missing_image', 'truncated_png', 'size_mismatch', 'zero_area_box', 'box_outside',
             'unknown_category']
KIND = {'truncated_png': 'corrupt_image', 'size_mismatch': 'image_size'}


def build(root, on_bad_data='error', pipeline=(), test_mode=False, **kw):
    init_default_scope('mmdet')
    return DATASETS.build(dict(type='CheckedCocoDataset', data_root=str(root), ann_file='ann.json',
                               data_prefix=dict(img='images/'), metainfo=dict(classes=CLASSES),
                               filter_cfg=dict(filter_empty_gt=False), pipeline=list(pipeline),
                               on_bad_data=on_bad_data, test_mode=test_mode, **kw))


def test_clean_set_loads_and_counts_negatives(tmp_path):
    make_set(tmp_path)
    ds = build(tmp_path)
    assert len(ds) == 3
    assert ds.data_report.problems == [] and ds.data_report.num_negatives == 1
    assert [len(ds.get_data_info(i)['instances']) for i in range(3)] == [1, 2, 0]


@pytest.mark.parametrize('defect', PER_IMAGE)
def test_bad_entry_raises_naming_file_and_entry(tmp_path, defect):
    ann_file = make_set(tmp_path, defect)
    with pytest.raises(BadDataError) as err:
        build(tmp_path)
    msg = str(err.value)
    assert str(ann_file) in msg and 'image id 1' in msg and '1.png' in msg
    assert "on_bad_data='skip'" in msg and 'check_dataset.py' in msg


@pytest.mark.parametrize('defect', PER_IMAGE)
def test_bad_entry_is_skipped_counted_and_logged(tmp_path, defect):
    make_set(tmp_path, defect)
    with mmlogger_messages() as log:
        ds = build(tmp_path, on_bad_data='skip')
    assert len(ds) == 2 and {ds.get_data_info(i)['img_id'] for i in range(2)} == {2, 3}
    assert ds.data_report.counts() == {KIND.get(defect, defect): 1}
    log = '\n'.join(log)
    assert 'skipped 1 of 3 images' in log and '1.png' in log


def test_orphan_annotation_is_reported_and_ignored_when_skipping(tmp_path):
    make_set(tmp_path, 'orphan_annotation')
    with pytest.raises(BadDataError, match='image id 99 is not in "images"'):
        build(tmp_path)
    ds = build(tmp_path, on_bad_data='skip')
    assert len(ds) == 3  # the annotation belonged to no image: nothing to drop


@pytest.mark.parametrize('defect', ['not_coco_list', 'not_coco_keys', 'not_json', 'duplicate_id'])
def test_files_that_are_not_coco_always_raise(tmp_path, defect):
    ann_file = make_set(tmp_path, defect)
    for mode in ('error', 'skip'):
        with pytest.raises(BadDataError, match=str(ann_file)):
            build(tmp_path, on_bad_data=mode)


def test_categories_left_out_of_the_classes_are_not_problems(tmp_path):
    make_set(tmp_path)
    init_default_scope('mmdet')
    ds = DATASETS.build(dict(type='CheckedCocoDataset', data_root=str(tmp_path), ann_file='ann.json',
                             data_prefix=dict(img='images/'), metainfo=dict(classes=('mass',)),
                             filter_cfg=dict(filter_empty_gt=False), pipeline=[]))
    assert len(ds) == 3 and ds.data_report.problems == []


def test_undecodable_image_at_run_time_is_named_or_skipped(tmp_path):
    make_set(tmp_path, 'undecodable_png')
    # passes the cheap load-time check, fails a decode
    assert check_image_file(str(tmp_path / 'images/1.png'), 32, 32, 'header') is None
    assert check_image_file(str(tmp_path / 'images/1.png'), 32, 32, 'decode')[0] == 'corrupt_image'
    pipeline = [dict(type='LoadImageFromFile')]
    ds = build(tmp_path, pipeline=pipeline)
    assert isinstance(ds.pipeline.transforms[0], CheckedLoadImageFromFile)
    with pytest.raises(BadDataError, match='1.png'):
        ds[0]
    ds = build(tmp_path, on_bad_data='skip', pipeline=pipeline)
    for _ in range(3):  # training mode: another image is drawn instead (at random: maybe 1 again)
        assert ds[0]['img_id'] in (2, 3)
    assert ds.pipeline.transforms[0].num_skipped >= 3


def test_synthetic_dataset_is_checked(tmp_path):
    make_set(tmp_path, 'missing_image')
    init_default_scope('mmdet')
    with pytest.raises(BadDataError, match='not found'):
        DATASETS.build(dict(type='SynthCXRDataset', data_root=str(tmp_path), ann_file='ann.json',
                            data_prefix=dict(img='images/'), pipeline=[]))
