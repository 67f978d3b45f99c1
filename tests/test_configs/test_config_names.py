"""Config file names follow mmdet's convention (docs: "Config Name Style"):

``{algorithm}_{component}[_{component}...]_{schedule}_{dataset}.py``: fields separated by ``_``,
words inside a field by ``-``, lower case; the schedule is the last field but one (``20k``,
``cpu-1k``, ``6k-ft``, ``cpu-0.3k-ft``: device, iterations, then ``ft``) and the data set the last
(semi-supervised ones with their label ratio as mmdet writes it: ``semi-0.1-synth-cxr``). A folder named after an
algorithm (``faster_rcnn/``) holds that algorithm's configs; ``configs/*.py`` are short aliases.
"""
import re

import pytest

from tests.conftest import REPO

FIELD = r'[a-z0-9]+(?:-[a-z0-9.]+)*'
SCHEDULE = r'(?:[a-z]+-)*\d+(?:\.\d+)?[kxe](?:-[a-z]+)*'
NAME = re.compile(rf'^(?P<algorithm>{FIELD})(?:_{FIELD})+_(?P<schedule>{SCHEDULE})_(?P<dataset>{FIELD})$')
ALGORITHM_FOLDERS = ('anomed', 'faster_rcnn', 'mean_teacher', 'soft_teacher')
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py')
                 if '_base_' not in p.parts and p.parent != REPO / 'configs')


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_name_has_mmdets_fields(path):
    match = NAME.match(path.stem)
    assert match, f'{path.name}: not {{algorithm}}_{{components}}_{{schedule}}_{{dataset}}'
    if path.parent.name in ALGORITHM_FOLDERS:
        assert match['algorithm'] == path.parent.name.replace('_', '-'), path
    # one token order for schedules: [device-]<iterations>[-ft]
    assert re.fullmatch(r'(?:cpu-)?\d+(?:\.\d+)?k(?:-ft)?', match['schedule']), path.name
    if path.parent.name in ('anomed', 'mean_teacher', 'soft_teacher'):  # label ratio in mmdet's form
        assert match['dataset'].startswith('semi-0.'), path.name


@pytest.mark.parametrize('name, ok', [
    ('faster-rcnn_r50_fpn_1x_coco', True),
    ('soft-teacher_faster-rcnn_r50-caffe_fpn_180k_semi-0.1-coco', True),
    ('anomed_faster-rcnn_r18-slim_fpn_cpu-0.3k-ft_semi-0.1-synth-cxr', True),
    ('faster-rcnn_r50_fpn_1x-coco', False),   # schedule and data set in one field
    ('faster-rcnn_r50_fpn_coco', False),      # no schedule
    ('Faster-rcnn_r50_fpn_1x_coco', False),   # upper case
    ('faster-rcnn_1x_coco', False),           # no component
])
def test_the_pattern_is_mmdets(name, ok):
    assert bool(NAME.match(name)) is ok


@pytest.mark.parametrize('folder', sorted({p.parent for p in CONFIGS}), ids=lambda p: p.name)
def test_each_config_folder_has_a_readme_with_results_and_citation(folder):
    text = (folder / 'README.md').read_text()
    assert '## Results' in text and '## Citation' in text, folder.name
