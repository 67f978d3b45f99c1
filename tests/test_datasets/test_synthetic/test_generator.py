"""The synthetic chest X-ray generator: determinism, COCO validity, frequencies, anatomy."""
import hashlib
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

from anomed_mmdet.datasets.synthetic import CLASSES, SynthCXRConfig, generate_dataset, plan_lesions, split_indices
from anomed_mmdet.datasets.synthetic.render import render_image
from tests.conftest import load_json

SPLITS = ('train', 'train_labeled', 'train_unlabeled', 'val', 'test')


def _digests(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


def test_same_seed_gives_identical_files_whatever_the_workers(tmp_path):
    cfg = SynthCXRConfig(num_images=10, image_size=96, seed=7)
    generate_dataset(str(tmp_path / 'a'), cfg, workers=1)
    generate_dataset(str(tmp_path / 'b'), cfg, workers=2)
    a, b = _digests(tmp_path / 'a'), _digests(tmp_path / 'b')
    assert len(a) == 10 + len(SPLITS)
    assert a == b


def test_another_seed_gives_other_images(tmp_path):
    generate_dataset(str(tmp_path / 'a'), SynthCXRConfig(num_images=6, image_size=96, seed=1))
    generate_dataset(str(tmp_path / 'b'), SynthCXRConfig(num_images=6, image_size=96, seed=2))
    a, b = _digests(tmp_path / 'a'), _digests(tmp_path / 'b')
    assert a['images/000000.png'] != b['images/000000.png']


def test_every_json_loads_in_pycocotools_and_boxes_lie_inside_images(tiny_synth):
    root, cfg, _ = tiny_synth
    for split in SPLITS:
        coco = COCO(str(root / 'annotations' / f'{split}.json'))
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(CLASSES)
        for img in coco.loadImgs(coco.getImgIds()):
            assert (root / 'images' / img['file_name']).is_file()
            assert img['width'] == img['height'] == cfg.image_size
        for ann in coco.loadAnns(coco.getAnnIds()):
            x, y, w, h = ann['bbox']
            assert w > 0 and h > 0
            assert x >= 0 and y >= 0 and x + w <= cfg.image_size + 1e-6 and y + h <= cfg.image_size + 1e-6


def test_splits_are_disjoint_and_cover_every_image(tiny_synth):
    root, cfg, summary = tiny_synth
    ids = {s: {im['id'] for im in load_json(root / 'annotations' / f'{s}.json')['images']} for s in SPLITS}
    assert ids['train_labeled'] | ids['train_unlabeled'] == ids['train']
    assert not ids['train_labeled'] & ids['train_unlabeled']
    assert not ids['train'] & ids['val'] and not ids['train'] & ids['test'] and not ids['val'] & ids['test']
    assert len(ids['train'] | ids['val'] | ids['test']) == cfg.num_images
    assert len(ids['test']) == round(cfg.test_ratio * cfg.num_images)
    assert len(ids['val']) == round(cfg.val_ratio * cfg.num_images)
    assert summary['splits'] == {s: len(v) for s, v in ids.items()}


def test_unlabeled_json_has_images_and_categories_but_no_annotations(tiny_synth):
    root, _, _ = tiny_synth
    d = load_json(root / 'annotations' / 'train_unlabeled.json')
    assert d['images'] and len(d['categories']) == len(CLASSES)
    assert d['annotations'] == []


def test_labeled_ratio_is_honoured():
    cfg = SynthCXRConfig(num_images=200, labeled_ratio=0.1, val_ratio=0.1, test_ratio=0.15)
    splits = split_indices(cfg, plan_lesions(cfg))
    assert len(splits['train_labeled']) == round(0.1 * len(splits['train']))


def test_labeled_part_holds_every_class_even_a_rare_one():
    cfg = SynthCXRConfig(num_images=300, labeled_ratio=0.05, seed=11)
    plans = plan_lesions(cfg)
    labeled = split_indices(cfg, plans)['train_labeled']
    present = {c for i in labeled for c in plans[i]}
    assert present == set(CLASSES)


@pytest.mark.parametrize('normal_ratio', [0.3, 0.5])
def test_normal_share_and_long_tailed_class_frequencies(normal_ratio):
    cfg = SynthCXRConfig(num_images=400, normal_ratio=normal_ratio, seed=5)
    plans = plan_lesions(cfg)
    assert sum(not p for p in plans) == round(normal_ratio * cfg.num_images)
    names = [c for p in plans for c in p]
    freq = np.array([names.count(c) for c in CLASSES]) / len(names)
    probs = np.asarray(cfg.class_probs) / sum(cfg.class_probs)
    np.testing.assert_allclose(freq, probs, atol=0.005)
    assert freq.min() <= 0.05  # one class is a minority of at most 5% of boxes
    assert all(p.count('cardiomegaly') <= 1 and p.count('pleural_effusion') <= 2 for p in plans)


def test_class_probs_are_configurable():
    probs = [0.1, 0.1, 0.1, 0.1, 0.6]
    cfg = SynthCXRConfig(num_images=300, class_probs=probs, normal_ratio=0.0)
    names = [c for p in plan_lesions(cfg) for c in p]
    # cardiomegaly is capped at one per image, so it cannot exceed the number of images
    assert names.count('cardiomegaly') / len(names) > 0.3


def test_summary_matches_written_boxes(tiny_synth):
    root, cfg, summary = tiny_synth
    anns = load_json(root / 'annotations' / 'train.json')['annotations'] + \
        load_json(root / 'annotations' / 'val.json')['annotations'] + \
        load_json(root / 'annotations' / 'test.json')['annotations']
    assert sum(summary['boxes_per_class'].values()) == len(anns)
    assert summary['normal_images'] == round(cfg.normal_ratio * cfg.num_images)


def test_lesion_sizes_span_more_than_ten_times_and_follow_the_anatomy():
    size = 256
    sides = {c: [] for c in CLASSES}
    centres = {c: [] for c in CLASSES}
    for i in range(12):
        rng = np.random.default_rng([0, i])
        img, boxes = render_image(rng, size, list(CLASSES))
        assert img.dtype == np.uint8 and img.shape == (size, size)
        assert [n for n, _ in boxes] == list(CLASSES)
        for name, (x1, y1, x2, y2) in boxes:
            sides[name].append(max(x2 - x1, y2 - y1))
            centres[name].append(((x1 + x2) / 2 / size, (y1 + y2) / 2 / size))
    assert max(sides['cardiomegaly']) / min(sides['calcification']) > 10
    assert np.median(sides['calcification']) < np.median(sides['nodule']) < np.median(sides['mass'])
    # effusion sits at a lung base (lower half), the heart low and near the midline
    assert min(y for _, y in centres['pleural_effusion']) > 0.5
    assert all(0.35 < x < 0.7 and 0.45 < y < 0.75 for x, y in centres['cardiomegaly'])
    # nodules inside the lung fields: off the midline (spine / mediastinum) and above the diaphragm
    assert all(abs(x - 0.5) > 0.03 and y < 0.8 for x, y in centres['nodule'])


def test_lesion_brightens_the_image_where_its_box_is():
    rng_a, rng_b = np.random.default_rng([1, 1]), np.random.default_rng([1, 1])
    plain, _ = render_image(rng_a, 256, [], max_rotation=0)
    # same anatomy (same random stream up to the lesion): the mass adds opacity inside its box
    img, boxes = render_image(rng_b, 256, ['mass'], max_rotation=0)
    (x1, y1, x2, y2) = [int(round(v)) for v in boxes[0][1]]
    assert img[y1:y2, x1:x2].astype(float).mean() > plain[y1:y2, x1:x2].astype(float).mean() + 5


@pytest.mark.parametrize('field,value', [('normal_ratio', 1.5), ('labeled_ratio', -0.1), ('num_images', 2),
                                         ('image_size', 16), ('class_probs', [1, 2])])
def test_bad_settings_name_the_field(field, value):
    cfg = SynthCXRConfig(**{field: value})
    with pytest.raises(ValueError, match=field):
        cfg.validate()
