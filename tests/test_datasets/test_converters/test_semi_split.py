"""split_semi: stratification keeps rare classes labelled, determinism, names, errors."""
import importlib.util
import json

import pytest

from anomed_mmdet.datasets.converters.semi_split import (SplitError, label_shares, select_labeled, split_names,
                                                         split_semi)
from tests.conftest import REPO


def make_coco(n=100):
    """100 images: class 1 on 60, class 2 on 10, class 3 (rare) only on image 77; 30 negatives."""
    images = [dict(id=i, file_name=f'{i}.png', width=8, height=8) for i in range(1, n + 1)]
    anns = []
    for i in range(1, 61):
        anns.append(dict(image_id=i, category_id=1))
    for i in range(61, 71):
        anns.append(dict(image_id=i, category_id=2))
        anns.append(dict(image_id=i, category_id=2))
    anns.append(dict(image_id=77, category_id=3))
    for k, a in enumerate(anns):
        a.update(id=k + 1, bbox=[0, 0, 2, 2], area=4, iscrowd=0)
    cats = [dict(id=1, name='common'), dict(id=2, name='medium'), dict(id=3, name='rare')]
    return dict(info=dict(description='t'), images=images, annotations=anns, categories=cats)


def classes_in(coco, ids):
    return {a['category_id'] for a in coco['annotations'] if a['image_id'] in set(ids)}


@pytest.mark.parametrize('seed', range(5))
def test_rare_class_always_labelled(seed):
    coco = make_coco()
    ids = select_labeled(coco, 5, seed=seed)
    assert len(ids) == 5 and 77 in ids
    assert classes_in(coco, ids) == {1, 2, 3}


@pytest.mark.parametrize('seed', range(5))
def test_population_shares_and_negatives_fill(seed):
    coco = make_coco()  # 70 of 100 images with findings, 81 boxes
    ids = select_labeled(coco, 50, seed=seed)
    assert len(ids) == 50 and 77 in ids
    abnormal = [i for i in ids if i <= 70 or i == 77]
    assert len(abnormal) == round(0.5 * 71)  # 50% of the 71 images with findings
    assert len(ids) - len(abnormal) == 50 - round(0.5 * 71)  # normals fill the rest
    shares = label_shares(coco, set(ids))
    assert abs(shares['boxes'] - 0.5) <= 0.05  # 40.5 of the 81 boxes, give or take 4
    assert shares['images'] == 0.5 and abs(shares['abnormal_images'] - round(0.5 * 71) / 71) < 1e-9


def test_rare_class_image_is_the_least_crowded():
    coco = make_coco()
    coco['annotations'].append(dict(id=500, image_id=78, category_id=3, bbox=[0, 0, 2, 2], area=4, iscrowd=0))
    for k in range(5):  # image 77 now holds 6 boxes, image 78 one: the rare class comes from 78
        coco['annotations'].append(dict(id=600 + k, image_id=77, category_id=1, bbox=[0, 0, 2, 2], area=4,
                                        iscrowd=0))
    for seed in range(5):
        assert 78 in select_labeled(coco, 5, seed=seed)


def test_deterministic_and_seed_dependent():
    coco = make_coco()
    assert select_labeled(coco, 10, seed=3) == select_labeled(coco, 10, seed=3)
    assert select_labeled(coco, 10, seed=3) != select_labeled(coco, 10, seed=4)


def test_errors():
    coco = make_coco()
    with pytest.raises(SplitError, match='fewer than the 3 classes'):
        select_labeled(coco, 2, seed=0)  # 2 images for 3 classes
    with pytest.raises(SplitError, match='percent'):
        select_labeled(coco, 0)
    with pytest.raises(SplitError, match='no images'):
        select_labeled(dict(images=[], annotations=[]), 10)
    assert len(select_labeled(coco, 3, seed=0)) == 3  # 3 images for 3 classes fit
    coco['annotations'].append(dict(id=999, image_id=90, category_id=4, bbox=[0, 0, 1, 1], area=1, iscrowd=0))
    with pytest.raises(SplitError):
        select_labeled(coco, 3, seed=0)


def test_split_files(tmp_path, capsys):
    src = tmp_path / 'train.json'
    src.write_text(json.dumps(make_coco()))
    stats = split_semi(str(src), str(tmp_path / 'semi'), percents=[5, 12.5], folds=[1, 2], seed=0)
    assert split_names('train', 1, 10.0) == ('train.1@10.json', 'train.1@10-unlabeled.json')
    for fold in (1, 2):
        for pct, n in ((5, 5), (12.5, 12)):
            lab_name, unl_name = split_names('train', fold, pct)
            lab = json.loads((tmp_path / 'semi' / lab_name).read_text())
            unl = json.loads((tmp_path / 'semi' / unl_name).read_text())
            lab_ids = {im['id'] for im in lab['images']}
            assert len(lab_ids) == n and len(unl['images']) == 100 - n
            assert lab_ids.isdisjoint(im['id'] for im in unl['images'])
            assert {a['image_id'] for a in lab['annotations']} <= lab_ids
            assert unl['annotations'] == [] and lab['categories'] == unl['categories']
            assert lab['info']['semi_split']['classes']['rare'] == dict(images=1, boxes=1)
    assert (tmp_path / 'semi' / 'train.2@12.5-unlabeled.json').exists()
    # folds differ, same fold + seed reproduces byte for byte
    a = (tmp_path / 'semi' / 'train.1@5.json').read_bytes()
    assert a != (tmp_path / 'semi' / 'train.2@5.json').read_bytes()
    split_semi(str(src), str(tmp_path / 'again'), percents=[5], folds=[1], seed=0, verbose=False)
    assert (tmp_path / 'again' / 'train.1@5.json').read_bytes() == a
    assert stats[0]['classes']['medium']['images'] >= 1
    assert 'rare' in capsys.readouterr().out


def test_cli(tmp_path, capsys):
    src = tmp_path / 'train.json'
    src.write_text(json.dumps(make_coco()))
    spec = importlib.util.spec_from_file_location('split_tool', REPO / 'tools/misc/split_semi.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main([str(src), '--out-dir', str(tmp_path / 's'), '--labeled-percent', '10',
                      '--fold', '2', '--keep-unlabeled-annotations']) == 0
    unl = json.loads((tmp_path / 's' / 'train.2@10-unlabeled.json').read_text())
    assert unl['annotations'] and len(unl['images']) == 90
    assert tool.main([str(src), '--out-dir', str(tmp_path / 's'), '--labeled-percent', '1']) == 2
    assert 'every class needs one' in capsys.readouterr().err
