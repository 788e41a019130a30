#!/usr/bin/env bash
# Multi-process evaluation through torchrun (torch.distributed).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options]
# Several nodes: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 on each.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROCS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python}
PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROCS" --master_port="$PORT" \
    "$HERE/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
