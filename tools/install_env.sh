#!/usr/bin/env bash
# Create (or refresh) the project venv with the pinned OpenMMLab stack.
#
# Idempotent: a stamp file records a hash of the install inputs; a second run with
# unchanged inputs only checks the imports and exits in seconds.
#
# Environment:
#   VENV            venv folder (default: .venv in the repo root)
#   PYTHON          interpreter used to create the venv (default: python3)
#   TORCH_SPEC      torch requirement(s) (default: "torch==2.14.1 torchvision==0.29.1");
#                   mmcv is always built against whatever torch ends up in the venv.
#   PIP_FIND_LINKS  honoured by pip; a folder holding a prebuilt mmcv wheel for this torch
#                   turns the ~20-30 minute mmcv build into a copy.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}"
MMCV_VERSION="2.1.0"
STAMP="$VENV/.anomed-install-stamp"

log() { printf '[install] %s\n' "$*" >&2; }

inputs_hash() {
    cat "$ROOT/tools/install_env.sh" "$ROOT/setup.py" "$ROOT/requirements/"*.txt 2>/dev/null \
        | { echo "$TORCH_SPEC"; cat; } | sha256sum | cut -d' ' -f1
}

check_imports() {
    "$VENV/bin/python" - <<'PY'
import mmcv, mmcv.ops, mmdet, mmengine, mmpretrain, torch, torchvision, pycocotools
from mmcv.ops import nms, RoIAlign  # noqa: F401  (compiled ops present)
import mmpretrain.models  # noqa: F401  (imports torchvision ops)
import anomed_mmdet  # noqa: F401
print(f"torch {torch.__version__} torchvision {torchvision.__version__} mmcv {mmcv.__version__} "
      f"mmengine {mmengine.__version__} mmdet {mmdet.__version__} mmpretrain {mmpretrain.__version__}")
PY
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(inputs_hash)" ] && check_imports >/dev/null 2>&1; then
    log "venv $VENV is up to date"
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
# setuptools < 82: mmcv's setup.py and mmengine's `mmdet::` config lookup import pkg_resources.
"${PIP[@]}" install -q --upgrade pip "setuptools>=77.0.3,<82" wheel ninja psutil
log "installing $TORCH_SPEC"
# shellcheck disable=SC2086
"${PIP[@]}" install -q $TORCH_SPEC

mmcv_ok() {
    "$VENV/bin/python" -c "
import mmcv, mmcv.ops
from mmcv.ops import nms, RoIAlign
assert mmcv.__version__ == '$MMCV_VERSION', mmcv.__version__
" >/dev/null 2>&1
}

"${PIP[@]}" install -q -r "$ROOT/requirements/mmcv.txt"
if mmcv_ok; then
    log "mmcv $MMCV_VERSION with ops already importable"
else
    # 1) a prebuilt wheel from PIP_FIND_LINKS (never from PyPI: PyPI only has the sdist)
    if [ -n "${PIP_FIND_LINKS:-}" ]; then
        log "looking for a prebuilt mmcv $MMCV_VERSION wheel in PIP_FIND_LINKS"
        "${PIP[@]}" install -q --no-deps --no-index --only-binary=:all: "mmcv==$MMCV_VERSION" \
            >/dev/null 2>&1 || true
        mmcv_ok || { log "no usable prebuilt wheel (missing or built for another torch)";
                     "${PIP[@]}" uninstall -q -y mmcv >/dev/null 2>&1 || true; }
    fi
    # 2) build from the source archive against the venv's torch
    if ! mmcv_ok; then
        log "building mmcv $MMCV_VERSION from source against the venv's torch (20-30 min on 2 cores)"
        BUILD="$(mktemp -d)"
        trap 'rm -rf "$BUILD"' EXIT
        "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary=:all: "mmcv==$MMCV_VERSION" -d "$BUILD"
        tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
        SRC="$BUILD/mmcv-$MMCV_VERSION"
        # torch >= 2.10 headers require C++20; mmcv 2.1.0 hard-codes -std=c++17.
        sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
        (cd "$SRC" && MAX_JOBS="${MAX_JOBS:-2}" MMCV_WITH_OPS=1 \
            "$VENV/bin/python" -m pip wheel -q --no-cache-dir --no-deps --no-build-isolation . -w "$BUILD/dist")
        "${PIP[@]}" install -q --no-deps "$BUILD"/dist/mmcv-*.whl
        mmcv_ok || { log "mmcv built but its ops do not import"; exit 1; }
    fi
fi

log "installing the project and its pinned dependencies"
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
check_imports
inputs_hash > "$STAMP"
log "done"
