"""tools/misc/build_mmcv_ops_min.py: which sources the minimal CUDA build of mmcv's ops compiles."""
import runpy

import pytest

from tests.conftest import REPO

tool = runpy.run_path(str(REPO / 'tools' / 'misc' / 'build_mmcv_ops_min.py'))


def _fake_mmcv(root):
    """A source tree shaped like mmcv 2.1.0's: ops with a CPU and a CUDA side, one registration file."""
    csrc = root / 'mmcv' / 'ops' / 'csrc' / 'pytorch'
    (csrc / 'cpu').mkdir(parents=True)
    (csrc / 'cuda').mkdir()
    for op in ('nms', 'roi_align', 'focal_loss', 'deform_conv'):
        (csrc / f'{op}.cpp').write_text(f'// {op} dispatch\n')
        (csrc / 'cpu' / f'{op}.cpp').write_text(f'// {op} cpu\n')
        (csrc / 'cuda' / f'{op}_cuda.cu').write_text(f'// {op} kernel\n')
    (csrc / 'cuda' / 'cudabind.cpp').write_text('\n'.join([
        '#include "pytorch_cpp_helper.hpp"',
        'void DeformConvLauncher();',
        'REGISTER_DEVICE_IMPL(deform_conv_impl, CUDA, deform_conv_cuda);',
        'Tensor NMSCUDAKernelLauncher(Tensor boxes);',
        'REGISTER_DEVICE_IMPL(nms_impl, CUDA, nms_cuda);',
        'void ROIAlignForwardCUDAKernelLauncher(Tensor input);',
        'REGISTER_DEVICE_IMPL(roi_align_backward_impl, CUDA, roi_align_backward_cuda);',
        'void SigmoidFocalLossForwardCUDAKernelLauncher(Tensor input);',
        'void softmax_focal_loss_backward_cuda(Tensor input,', '    Tensor buff) {}',
        'REGISTER_DEVICE_IMPL(softmax_focal_loss_backward_impl, CUDA,', '                     softmax_focal_loss_backward_cuda);',
        'void BorderAlignLauncher();', '']))


def test_only_the_detectors_kernels_are_compiled(tmp_path):
    _fake_mmcv(tmp_path / 'src')
    files = tool['sources'](str(tmp_path / 'src'), str(tmp_path / 'build'))
    names = [f.rsplit('/', 1)[1] for f in files]
    # every CPU op, under names that do not collide with their dispatch files
    assert sorted(n for n in names if n.startswith('cpu_')) == ['cpu_deform_conv.cpp', 'cpu_focal_loss.cpp', 'cpu_nms.cpp',
                                                                'cpu_roi_align.cpp']
    assert len(set(names)) == len(names)
    assert [n for n in names if n.endswith('.cu')] == ['nms_cuda.cu', 'roi_align_cuda.cu', 'focal_loss_cuda.cu']
    bind = (tmp_path / 'build' / 'cudabind_min.cpp').read_text()
    assert 'nms_impl, CUDA' in bind and 'roi_align_backward_impl, CUDA' in bind
    assert 'ROIAlignForwardCUDAKernelLauncher' in bind and 'softmax_focal_loss_backward_impl, CUDA' in bind
    assert 'deform_conv' not in bind and 'BorderAlign' not in bind


def test_a_source_tree_without_the_sections_is_refused(tmp_path):
    _fake_mmcv(tmp_path / 'src')
    bind = tmp_path / 'src' / 'mmcv' / 'ops' / 'csrc' / 'pytorch' / 'cuda' / 'cudabind.cpp'
    bind.write_text(bind.read_text().replace('NMSCUDAKernelLauncher', 'Renamed'))
    with pytest.raises(ValueError, match="cudabind.cpp: no section from 'Tensor NMSCUDAKernelLauncher"):
        tool['sources'](str(tmp_path / 'src'), str(tmp_path / 'build'))
