#!/usr/bin/env bash
# The `gpu` budget on a GPU machine that has python3 + torch with CUDA but no OpenMMLab stack and
# no package index: installs carried wheels, builds mmcv's ops with only the CUDA kernels the
# detectors need (tools/misc/build_mmcv_ops_min.py, ~95 s on 16 cores), checks them on the GPU,
# then runs gpu_run.sh until DEADLINE seconds after the start and writes the report.
#   WHEELS=.whl MMCV_ARCHIVE=.gpu/mmcv-2.1.0.tar.gz OUT=/some/dir bash tools/analysis_tools/ssod_benchmark/gpu_bare_machine.sh
# WHEELS: py3 wheels of mmengine, mmdet, mmpretrain and their pure-python needs (the README's
# requirements/runtime.txt, for the machine's Python); MMCV_ARCHIVE: PyPI's mmcv 2.1.0 source archive.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
WHEELS=${WHEELS:-.whl}; MMCV_ARCHIVE=${MMCV_ARCHIVE:-.gpu/mmcv-2.1.0.tar.gz}; OUT=${OUT:-work_dirs/gpu_out}
DEADLINE=${DEADLINE:-520}; SITE=${SITE:-/tmp/site}; MMCV_DIR=${MMCV_DIR:-/tmp/mmcv}
export PYTHONUNBUFFERED=1
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
T0=$(date +%s)
el() { echo "[$(( $(date +%s) - T0 )) s] $*"; }
nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$WHEELS"/*.whl || exit 1
mkdir -p "$MMCV_DIR" && tar xzf "$MMCV_ARCHIVE" -C "$MMCV_DIR" || exit 1
SRC=$(ls -d "$MMCV_DIR"/mmcv-2.1.0)
export PYTHONPATH="$SRC:$SITE:$PWD" MAX_JOBS=${MAX_JOBS:-$(nproc)} TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
el installed
python3 tools/misc/build_mmcv_ops_min.py "$SRC" /tmp/mmcv_build > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
tail -1 "$OUT/build.log"; el built
python3 - <<'PY' || exit 1
import torch
from mmcv.ops import RoIAlign, batched_nms
import anomed_mmdet  # noqa: F401  (mmdet and the project import)
b = torch.rand(200, 4, device='cuda') * 100
b[:, 2:] += b[:, :2] + 1
dets, _ = batched_nms(b, torch.rand(200, device='cuda'), torch.zeros(200, device='cuda', dtype=torch.long),
                      dict(iou_threshold=0.5))
x = torch.rand(2, 8, 32, 32, device='cuda', requires_grad=True)
RoIAlign((7, 7), 1.0, 2)(x, torch.tensor([[0, 1., 1., 20., 20.], [1, 4., 4., 30., 30.]], device='cuda')).sum().backward()
print('mmcv ops on cuda: nms kept', len(dets), 'of 200; roi_align grad', round(x.grad.abs().sum().item(), 1))
PY
el checked
timeout $(( DEADLINE - ($(date +%s) - T0) )) bash tools/analysis_tools/ssod_benchmark/gpu_run.sh \
    work_dirs/benchmark/gpu "$OUT/benchmark_gpu.jsonl" "$OUT/benchmark.md"
el "gpu_run.sh ended ($?)"
[ -f "$OUT/benchmark_gpu.jsonl" ] && timeout 30 python3 tools/analysis_tools/benchmark_ssod.py --budget gpu \
    --work-dir work_dirs/benchmark/gpu --results "$OUT/benchmark_gpu.jsonl" --doc "$OUT/benchmark.md" --report-only \
    > "$OUT/report.txt" 2>&1
(cd work_dirs/benchmark/gpu && tar czf "$OUT/logs.tar.gz" --exclude='*.pth' . 2>/dev/null)
el done
