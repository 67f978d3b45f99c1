"""The chest X-ray data set classes are registered and read the generator's output."""
from mmdet.registry import DATASETS

import anomed_mmdet  # noqa: F401
from anomed_mmdet.datasets.synthetic import CLASSES


def test_synth_dataset_is_registered_with_the_generator_classes():
    cls = DATASETS.get('SynthCXRDataset')
    assert cls is not None
    assert tuple(cls.METAINFO['classes']) == CLASSES
    assert len(cls.METAINFO['palette']) == len(CLASSES)


def test_synth_dataset_reads_labelled_and_unlabelled_splits(tiny_synth):
    root, _, summary = tiny_synth
    common = dict(type='SynthCXRDataset', data_root=str(root), data_prefix=dict(img='images/'),
                  filter_cfg=dict(filter_empty_gt=False), pipeline=[])
    train = DATASETS.build(dict(common, ann_file='annotations/train.json'))
    assert len(train) == summary['splits']['train']
    n_boxes = sum(len(train.get_data_info(i)['instances']) for i in range(len(train)))
    assert n_boxes > 0
    first = train.get_data_info(0)
    assert first['img_path'].endswith('.png') and first['height'] == 128
    unlabeled = DATASETS.build(dict(common, ann_file='annotations/train_unlabeled.json'))
    assert len(unlabeled) == summary['splits']['train_unlabeled']
    assert all(not unlabeled.get_data_info(i)['instances'] for i in range(len(unlabeled)))
