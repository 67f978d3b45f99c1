"""Build mmcv 2.1.0's compiled ops (``mmcv._ext``) with CUDA kernels for ``nms``, ``roi_align`` and
``sigmoid_focal_loss`` only, every CPU op kept: what this project's detectors call on a GPU (Faster
R-CNN: nms, RoIAlign; RetinaNet: mmdet's FocalLoss takes mmcv's kernel for CUDA tensors). For a GPU machine whose torch has no mmcv wheel and where the
full CUDA build (136 files, 58 of them CUDA kernels) does not fit the time: 80 files in 95 s on 16
cores (H200 machine, torch 2.11 + CUDA 13; docs/benchmark.md, "On a GPU"), with nms and roi_align;
the focal-loss kernel was added after that run (RetinaNet's AnoMed failed there without it) and
has not been built on a GPU yet. Any other mmcv op on a CUDA tensor raises.

    tar xzf mmcv-2.1.0.tar.gz          # PyPI's source archive
    MAX_JOBS=16 TORCH_CUDA_ARCH_LIST=9.0 python tools/misc/build_mmcv_ops_min.py mmcv-2.1.0 /tmp/mmcv_build
    export PYTHONPATH=$PWD/mmcv-2.1.0:$PYTHONPATH   # mmcv/_ext.so now sits in the source tree

Nothing of mmcv is copied into this repository: the registrations of the two kernels are cut out
of the archive's own ``cudabind.cpp`` at build time.
"""
import argparse
import glob
import os
import shutil
import time

KEEP = [  # (first line, last line) of each kept section of pytorch/cuda/cudabind.cpp
    ('Tensor NMSCUDAKernelLauncher(', 'REGISTER_DEVICE_IMPL(nms_impl, CUDA, nms_cuda);'),
    ('void ROIAlignForwardCUDAKernelLauncher(',
     'REGISTER_DEVICE_IMPL(roi_align_backward_impl, CUDA, roi_align_backward_cuda);'),
    ('void SigmoidFocalLossForwardCUDAKernelLauncher(', 'softmax_focal_loss_backward_cuda);'),
]
KERNELS = ['pytorch/cuda/nms_cuda.cu', 'pytorch/cuda/roi_align_cuda.cu', 'pytorch/cuda/focal_loss_cuda.cu']


def sources(src: str, build: str) -> list:
    """Every CPU op source (copied under unique names: torch names objects by basename), the two
    CUDA kernels and a registration file holding only their sections."""
    csrc = os.path.join(src, 'mmcv', 'ops', 'csrc')
    path = os.path.join(csrc, 'pytorch', 'cuda', 'cudabind.cpp')
    text = open(path).read()
    parts = ['#include "pytorch_cpp_helper.hpp"\n#include "pytorch_device_registry.hpp"\n']
    for first, last in KEEP:
        i = text.find(first)
        j = text.find(last, max(i, 0))
        if i < 0 or j < 0:
            raise ValueError(f'{path}: no section from {first!r} to {last!r} (not mmcv 2.1.0\'s source?)')
        parts.append(text[i:j + len(last)] + '\n')
    os.makedirs(build, exist_ok=True)
    bind = os.path.join(build, 'cudabind_min.cpp')
    with open(bind, 'w') as f:
        f.write('\n'.join(parts))
    cpu = []
    for path in sorted(glob.glob(os.path.join(csrc, 'pytorch', 'cpu', '*.cpp'))):
        cpu.append(os.path.join(build, 'cpu_' + os.path.basename(path)))
        shutil.copy(path, cpu[-1])
    return (sorted(glob.glob(os.path.join(csrc, 'pytorch', '*.cpp'))) + cpu
            + [os.path.join(csrc, k) for k in KERNELS] + [bind])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help='the unpacked mmcv 2.1.0 source archive')
    p.add_argument('build', help='build folder')
    a = p.parse_args()
    from torch.utils.cpp_extension import load
    csrc = os.path.join(a.src, 'mmcv', 'ops', 'csrc')
    files = sources(a.src, a.build)
    t = time.time()
    mod = load(name='_ext', sources=files, build_directory=a.build, with_cuda=True,
               extra_include_paths=[os.path.join(csrc, d) for d in ('common', 'common/cuda', 'pytorch')])
    shutil.copy(mod.__file__, os.path.join(a.src, 'mmcv', '_ext' + os.path.splitext(mod.__file__)[1]))
    print(f'built {mod.__file__} from {len(files)} files in {time.time() - t:.0f} s')


if __name__ == '__main__':
    main()
