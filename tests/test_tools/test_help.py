"""Every tool answers --help with mmdet's flags."""
import subprocess
import sys

import pytest

from tests.conftest import REPO

TOOLS = {
    'tools/train.py': ['--work-dir', '--resume', '--amp', '--cfg-options', '--launcher', '--auto-scale-lr'],
    'tools/test.py': ['--work-dir', '--out', '--show-dir', '--cfg-options', '--launcher'],
    'tools/misc/gen_synth_cxr.py': ['--num-images', '--size', '--seed', '--normal-ratio', '--labeled-ratio'],
    'tools/infer.py': ['--out-dir', '--score-thr', '--no-overlay', '--device', '--branch'],
    'tools/model_converters/extract_teacher.py': ['--student', '--drop-keys'],
    'tools/dataset_converters/vindr_cxr.py': ['--preset', '--classes', '--fusion', '--wbf-iou', '--max-size',
                                              '--png-16bit', '--workers', '--strict'],
    'tools/dataset_converters/tbx11k.py': ['--uncertain', '--strict'],
    'tools/misc/split_semi.py': ['--labeled-percent', '--fold', '--seed', '--out-dir'],
    'tools/misc/check_dataset.py': ['--no-progress'],
    'tools/misc/fuzz_inputs.py': ['--cases', '--seed', '--readers', '--timeout', '--rss-mb', '--replay'],
    'tools/analysis_tools/pseudo_label_quality.py': ['--data-root', '--labelled', '--unlabelled', '--gt', '--warmup',
                                                     '--iou', '--cfg-options'],
    'tools/analysis_tools/plo_ablation.py': ['--rows', '--seeds', '--trunk-seed', '--work-dir', '--report'],
    'tools/analysis_tools/benchmark_ssod.py': ['--quick', '--methods', '--ratios', '--seeds', '--report-only'],
    'tools/analysis_tools/benchmark_train_step.py': ['--methods', '--checkpoint-dir', '--repeats', '--warmup'],
    'tools/analysis_tools/vis_cam.py': ['--model', '--title', '--ann-file', '--out-dir', '--levels', '--branch'],
    'tools/misc/export_review.py': ['--images', '--img-dir', '--labelled', '--with-confident', '--max-images',
                                    '--plo-config', '--cfg-options'],
    'tools/misc/merge_review.py': ['--candidates', '--labelled', '--unlabelled', '--out-dir'],
}


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_tool_help_lists_its_flags(tool):
    res = subprocess.run([sys.executable, str(REPO / tool), '--help'], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    for flag in TOOLS[tool]:
        assert flag in res.stdout, f'{tool} --help lacks {flag}'


@pytest.mark.parametrize('script', ['tools/dist_train.sh', 'tools/dist_test.sh', 'tools/slurm_train.sh'])
def test_launch_scripts_are_valid_bash_calling_our_tools(script):
    path = REPO / script
    assert subprocess.run(['bash', '-n', str(path)]).returncode == 0
    text = path.read_text()
    assert ('train.py' in text) or ('test.py' in text)
