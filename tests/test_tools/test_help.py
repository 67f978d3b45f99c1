"""Every tool's options are the listed ones, each shown by --help (mmdet's flags for train / test)."""
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

# Every option of each tool (besides --help), as its argument parser defines it.
TOOLS = {
    'tools/train.py': ['--amp', '--auto-scale-lr', '--cfg-options', '--launcher', '--local-rank', '--local_rank',
                       '--resume', '--work-dir'],
    'tools/test.py': ['--cfg-options', '--launcher', '--local-rank', '--local_rank', '--out', '--show', '--show-dir',
                      '--wait-time', '--work-dir'],
    'tools/infer.py': ['--branch', '--cfg-options', '--device', '--no-overlay', '--out-dir', '--recursive',
                       '--score-thr'],
    'tools/model_converters/extract_teacher.py': ['--drop-keys', '--name', '--student'],
    'tools/dataset_converters/vindr_cxr.py': ['--classes', '--clip-tolerance', '--csv', '--fusion', '--image-dir',
                                              '--images-only', '--max-size', '--out-json', '--overwrite',
                                              '--png-16bit', '--preset', '--split', '--strict', '--voi',
                                              '--wbf-iou', '--workers'],
    'tools/dataset_converters/tbx11k.py': ['--clip-tolerance', '--lists', '--strict', '--uncertain'],
    'tools/misc/gen_synth_cxr.py': ['--class-probs', '--labeled-ratio', '--max-rotation', '--normal-ratio',
                                    '--num-images', '--seed', '--size', '--skip-existing', '--test-ratio',
                                    '--val-ratio', '--workers'],
    'tools/misc/split_semi.py': ['--fold', '--folds', '--keep-unlabeled-annotations', '--labeled-percent', '--name',
                                 '--out-dir', '--seed'],
    'tools/misc/check_dataset.py': ['--level', '--max-print', '--no-progress'],
    'tools/misc/fuzz_inputs.py': ['--address-mb', '--cases', '--keep-failures', '--markdown', '--readers', '--replay',
                                  '--rss-mb', '--seed', '--timeout', '--verbose', '--workers'],
    'tools/analysis_tools/pseudo_label_quality.py': ['--batch-size', '--cfg-options', '--data-root', '--gt', '--iou',
                                                     '--labelled', '--max-images', '--unlabelled', '--warmup'],
    'tools/analysis_tools/benchmark_dicom.py': ['--max-size', '--num-images', '--size', '--tmp-dir', '--workers'],
    'tools/analysis_tools/benchmark_generator.py': ['--num-images', '--repeats', '--sizes', '--workers'],
    'tools/analysis_tools/benchmark_necks.py': ['--necks', '--repeats', '--sizes', '--threads'],
    'tools/analysis_tools/summarize_results.py': [],
    'tools/analysis_tools/vis_cam.py': ['--ann-file', '--branch', '--device', '--levels', '--model', '--out-dir',
                                        '--recursive', '--score-thr', '--title'],
    'tools/misc/export_review.py': ['--branch', '--cfg-options', '--device', '--images', '--img-dir', '--labelled',
                                    '--max-images', '--no-overlay', '--out-dir', '--plo-config', '--with-confident'],
    'tools/misc/merge_review.py': ['--candidates', '--labelled', '--out-dir', '--unlabelled'],
    'tools/misc/build_mmcv_ops_min.py': [],
}

# The SSOD benchmark's tools (orchestration in tools/analysis_tools/ssod_benchmark/)
TOOLS.update({
    'tools/analysis_tools/plo_ablation.py': ['--report', '--rows', '--seeds', '--trunk-seed', '--work-dir'],
    'tools/analysis_tools/benchmark_ssod.py': ['--ablations', '--budget', '--data-only', '--data-root', '--doc',
                                               '--dry-run', '--methods', '--quick', '--ratios', '--report-only',
                                               '--results', '--seeds', '--work-dir'],
    'tools/analysis_tools/benchmark_train_step.py': ['--budget', '--checkpoint-dir', '--data-root', '--device',
                                                     '--methods', '--out', '--ratio', '--repeats', '--seed',
                                                     '--warmup'],
})

# Runs a tool up to its argument parsing, then prints the parser's options and its help text.
_CAPTURE = """
import argparse, json, os, runpy, sys
def capture(parser, *args, **kwargs):
    flags = sorted(o for a in parser._actions for o in a.option_strings if o.startswith('--') and o != '--help')
    print(json.dumps(dict(flags=flags, help=parser.format_help())))
    sys.exit(0)
argparse.ArgumentParser.parse_args = argparse.ArgumentParser.parse_known_args = capture
tool = sys.argv[1]
sys.argv = [tool]
sys.path.insert(0, os.path.dirname(tool))  # as when the tool runs as a script
runpy.run_path(tool, run_name='__main__')
"""


def parser_of(tool: str) -> dict:
    """The options (besides --help) and the help text of ``tool``'s argument parser."""
    res = subprocess.run([sys.executable, '-c', _CAPTURE, str(REPO / tool)], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize('tool', sorted(TOOLS))
def test_tool_options_are_the_listed_ones_and_all_in_its_help(tool):
    parser = parser_of(tool)
    assert parser['flags'] == sorted(TOOLS[tool]), f'{tool}: options changed; update TOOLS'
    for flag in parser['flags']:
        assert flag in parser['help'], f'{tool} --help lacks {flag}'


@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/infer.py'])
def test_help_exits_zero(tool):
    res = subprocess.run([sys.executable, str(REPO / tool), '--help'], capture_output=True, text=True, cwd=REPO,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert all(flag in res.stdout for flag in TOOLS[tool])


@pytest.mark.parametrize('script', ['tools/dist_train.sh', 'tools/dist_test.sh', 'tools/slurm_train.sh'])
def test_launch_scripts_are_valid_bash_calling_our_tools(script):
    path = REPO / script
    assert subprocess.run(['bash', '-n', str(path)]).returncode == 0
    text = path.read_text()
    assert ('train.py' in text) or ('test.py' in text)


def test_gpu_run_script_is_valid_bash_running_the_gpu_budget():
    path = REPO / 'tools' / 'analysis_tools' / 'ssod_benchmark' / 'gpu_run.sh'
    assert subprocess.run(['bash', '-n', str(path)]).returncode == 0
    text = path.read_text()
    assert 'benchmark_ssod.py --budget gpu' in text and '--data-only' in text and '--report-only' in text
    bare = path.parent / 'gpu_bare_machine.sh'
    assert subprocess.run(['bash', '-n', str(bare)]).returncode == 0
    assert 'build_mmcv_ops_min.py' in bare.read_text() and 'gpu_run.sh' in bare.read_text()
