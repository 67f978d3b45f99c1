#!/usr/bin/env bash
# Distributed training with PyTorch DDP through mmengine (torchrun):
#   bash tools/dist_train.sh CONFIG GPUS [train.py args...]
# NNODES, NODE_RANK, MASTER_ADDR and PORT select a multi-node run. Without CUDA the processes
# use the gloo backend (tools/*.py set it); torchrun sets OMP_NUM_THREADS=1 per process unless
# given. PYTHON selects the interpreter (default: python on PATH); SCRIPT the tool run in each
# process (default: tools/train.py; tools/dist_test.sh sets tools/test.py).
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
DIR="$(cd "$(dirname "$0")" && pwd)"
PYTHON=${PYTHON:-python}
SCRIPT=${SCRIPT:-"$DIR/train.py"}

PYTHONPATH="$DIR/..":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$SCRIPT" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
