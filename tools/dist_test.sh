#!/usr/bin/env bash
# Distributed testing with PyTorch DDP through mmengine (torchrun):
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
# tools/dist_train.sh running tools/test.py: same variables (NNODES, NODE_RANK, MASTER_ADDR, PORT,
# PYTHON); gloo without CUDA.
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
DIR="$(cd "$(dirname "$0")" && pwd)"

SCRIPT="$DIR/test.py" exec bash "$DIR/dist_train.sh" "$CONFIG" "$GPUS" "$CHECKPOINT" "${@:4}"
