"""Semi-supervised synthetic configs: the labelled branch is the supervised pipeline; the strong
view's augmentation stays within bounds that keep grey radiographs and small lesions readable."""
import pytest
from mmengine.config import Config

from tests.conftest import REPO

SUPERVISED = 'configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py'
SEMI = ['configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-1k_semi-0.1-synth-cxr.py',
        'configs/mean_teacher/mean-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py',
        'configs/soft_teacher/soft-teacher_faster-rcnn_r18-slim_fpn_cpu-1k_semi-0.1-synth-cxr.py']


def _walk(transforms):
    for t in transforms:
        yield t
        for key in ('transforms', 'aug_space'):
            for sub in t.get(key, []):
                yield from _walk(sub if isinstance(sub, list) else [sub])


@pytest.mark.parametrize('path', SEMI)
def test_labelled_branch_is_the_supervised_pipeline(path):
    sup = Config.fromfile(str(REPO / SUPERVISED)).train_dataloader.dataset.pipeline
    labelled = Config.fromfile(str(REPO / path)).train_dataloader.dataset.datasets[0].pipeline
    assert labelled[:-1] == sup[:-1]
    assert labelled[-1].type == 'MultiBranch' and labelled[-1].sup.type == sup[-1].type == 'PackDetInputs'


@pytest.mark.parametrize('path', SEMI)
def test_strong_view_is_sized_for_radiographs(path):
    unsup = Config.fromfile(str(REPO / path)).train_dataloader.dataset.datasets[1].pipeline
    strong = next(t for t in unsup if t.type == 'MultiBranch').unsup_student
    seen = set()
    for t in _walk(strong):
        seen.add(t.type)
        if t.type == 'Posterize':
            assert t.min_mag >= 5  # at least 5 of 8 bits kept
        if t.type in ('Contrast', 'Brightness', 'Sharpness'):
            assert t.min_mag >= 0.5 and t.max_mag <= 1.5
        if t.type in ('ShearX', 'ShearY', 'Rotate'):
            assert t.max_mag <= 10
        if t.type == 'RandomErasing':
            assert max(t.ratio) <= 0.05 and max(t.n_patches) <= 3
    assert {'Posterize', 'Contrast', 'Brightness', 'ShearX', 'RandomErasing'} <= seen
