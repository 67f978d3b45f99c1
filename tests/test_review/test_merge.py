"""merge_review: decisions become labels, fully reviewed images move, nothing is lost, and bad
input is named with its file and value."""
import csv
import json
from pathlib import Path

import pytest

from anomed_mmdet.review import ReviewError, images_fingerprint, merge_review, read_review
from anomed_mmdet.review.export import CSV_FIELDS, review_rows

CATS = [dict(id=1, name='nodule'), dict(id=2, name='mass')]


def splits():
    labelled = dict(images=[dict(id=1, file_name='a.png', width=100, height=100)],
                    annotations=[dict(id=7, image_id=1, category_id=1, bbox=[1, 1, 5, 5], area=25, iscrowd=0)],
                    categories=CATS)
    unlabelled = dict(images=[dict(id=i, file_name=f'{n}.png', width=100, height=80)
                              for i, n in [(2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')]],
                      annotations=[], categories=CATS)
    cands = [dict(id=1, image_id=2, category_id=1, bbox=[10, 10, 20, 20], score=0.5, bucket='hesitant', rank=1),
             dict(id=2, image_id=2, category_id=2, bbox=[50, 40, 30, 30], score=0.6, bucket='hesitant', rank=2),
             dict(id=3, image_id=3, category_id=1, bbox=[5, 5, 10, 10], score=0.4, bucket='hesitant', rank=3),
             dict(id=4, image_id=4, category_id=2, bbox=[0, 0, 50, 50], score=0.9, bucket='confident', rank=4),
             dict(id=5, image_id=4, category_id=1, bbox=[60, 10, 10, 10], score=0.3, bucket='hesitant', rank=5)]
    for c in cands:
        c['class'] = CATS[c['category_id'] - 1]['name']
    candidates = dict(info=dict(images_fingerprint=images_fingerprint(unlabelled['images'])),
                      images=unlabelled['images'], categories=CATS, annotations=cands)
    return labelled, unlabelled, candidates


def write_review(tmp_path: Path, candidates: dict, edits: dict) -> Path:
    """review.csv as exported, then ``edits``: candidate id -> dict of column values."""
    path = tmp_path / 'review.csv'
    path.write_text(review_rows(candidates['annotations'], {i['id']: i['file_name'] for i in candidates['images']}))
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row.update(edits.get(int(row['candidate_id']), {}))
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(tmp_path, edits, labelled=None, unlabelled=None, candidates=None):
    lab, unl, cands = splits()
    lab, unl, cands = labelled or lab, unlabelled or unl, candidates or cands
    review = write_review(tmp_path, cands, edits)
    paths = dict(review=review, candidates=Path('cands.json'), labelled=Path('lab.json'), unlabelled=Path('unl.json'))
    return merge_review(paths, cands, lab, unl, read_review(review))


def test_decisions_move_fully_reviewed_images(tmp_path):
    lab, unl, report = run(tmp_path, {
        1: dict(decision='accepted'),
        2: dict(decision='Corrected ', **{'class': 'nodule', 'x1': '48', 'y1': '38', 'x2': '100.5', 'y2': '70'}),
        3: dict(decision='rejected'),                 # image 3: all rejected -> labelled, no findings
        4: dict(decision='accepted')})                # image 4: candidate 5 undecided -> stays
    assert [i['id'] for i in lab['images']] == [1, 2, 3]
    assert [i['id'] for i in unl['images']] == [4, 5]
    new = lab['annotations'][1:]
    assert lab['annotations'][0]['id'] == 7 and [a['id'] for a in new] == [8, 9]
    assert (new[0]['image_id'], new[0]['category_id'], new[0]['bbox']) == (2, 1, [10, 10, 20, 20])
    assert (new[1]['category_id'], new[1]['bbox'], new[1]['area']) == (1, [48, 38, 52, 32], 1664)  # clipped to 100
    assert report['accepted'] == 2 and report['corrected'] == 1 and report['rejected'] == 1
    assert report['undecided'] == 1 and report['images_partially_reviewed'] == [4]
    assert report['images_moved'] == 2 and report['images_moved_without_findings'] == 1
    assert report['labelled_images'] == [1, 3] and report['labelled_annotations'] == [1, 3]
    assert report['unlabelled_images'] == [4, 2] and report['labels_added_per_class'] == {'nodule': 2}


def test_two_candidates_corrected_onto_one_lesion_give_one_label(tmp_path):
    lesion = dict(decision='corrected', x1='12', y1='12', x2='30', y2='31', **{'class': 'nodule'})
    lab, _, report = run(tmp_path, {1: lesion, 2: dict(lesion, x2='30.5')})
    assert [a['bbox'] for a in lab['annotations'][1:]] == [[12, 12, 18, 19]]
    assert report['duplicate_labels_dropped'] == 1 and report['labels_added'] == 1
    lab, _, report = run(tmp_path, {1: lesion, 2: dict(lesion, **{'class': 'mass'})})  # another class: kept
    assert len(lab['annotations']) == 3 and report['duplicate_labels_dropped'] == 0


def test_nothing_reviewed_changes_nothing(tmp_path):
    lab0, unl0, _ = splits()
    lab, unl, report = run(tmp_path, {})
    assert lab == lab0 and unl == unl0 and report['images_moved'] == 0 and report['undecided'] == 5


@pytest.mark.parametrize('edits,match', [
    ({1: dict(decision='maybe')}, r"review.csv line 2: unknown decision 'maybe'"),
    ({1: dict(image_id='99')}, r'line 2: unknown image id 99 \(not in unl.json\)'),
    ({1: dict(candidate_id='42')}, r'line 2: candidate 42 of image 2 is not in cands.json'),
    ({1: dict(file_name='zzz.png')}, r"image 2 is 'b.png' in unl.json, the review says 'zzz.png'"),
    ({1: dict(decision='corrected', x2='150')}, r'line 2 \(image 2, b.png\): box .* outside the 100x80 image'),
    ({1: dict(decision='corrected', x2='5')}, r'empty box'),
    ({1: dict(decision='corrected', x1='abc')}, r"x1='abc' is not a finite number"),
    ({1: dict(decision='corrected', **{'class': 'tumour'})}, r"unknown class 'tumour'"),
    ({1: dict(decision='accepted', x1='11')}, r'candidate 1 is marked accepted but its class or box was edited'),
])
def test_bad_review_rows_are_named(tmp_path, edits, match):
    with pytest.raises(ReviewError, match=match):
        run(tmp_path, edits)


def test_review_of_another_data_set(tmp_path):
    lab, unl, cands = splits()
    other = dict(unl, images=unl['images'][:3])
    with pytest.raises(ReviewError, match='cands.json was exported from another set of images than unl.json'):
        run(tmp_path, {}, unlabelled=other)
    with pytest.raises(ReviewError, match='other categories'):
        run(tmp_path, {}, labelled=dict(lab, categories=CATS[:1]))
    with pytest.raises(ReviewError, match=r'share image ids \[2\]'):
        run(tmp_path, {}, labelled=dict(lab, images=lab['images'] + [unl['images'][0]]))


def test_csv_header_and_duplicates(tmp_path):
    bad = tmp_path / 'bad.csv'
    bad.write_text('candidate_id,decision\n1,accepted\n')
    with pytest.raises(ReviewError, match=r"bad.csv: columns \['rank'"):
        read_review(bad)
    _, _, cands = splits()
    review = write_review(tmp_path, cands, {})
    review.write_text(review.read_text() + review.read_text().splitlines()[1] + '\n')
    lab, unl, _ = splits()
    paths = dict(review=review, candidates=Path('c'), labelled=Path('l'), unlabelled=Path('u'))
    with pytest.raises(ReviewError, match='line 7: candidate 1 reviewed twice'):
        merge_review(paths, cands, lab, unl, read_review(review))
    assert json.dumps(cands)  # inputs untouched and serialisable
