#!/usr/bin/env bash
# Run a tool of this folder in several processes through torchrun
# (torch.distributed); dist_train.sh and dist_test.sh call it.
#   bash tools/dist_run.sh TOOL.py NUM_PROCS [tool arguments]
# Python: $PYTHON, else the set-up's environment ($MMREGNET_VENV or .venv),
# else the python on PATH.
# Several nodes: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 on each.
set -euo pipefail
TOOL=$1
NPROCS=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV_PYTHON="${MMREGNET_VENV:-$HERE/../.venv}/bin/python"
[ -x "$VENV_PYTHON" ] || VENV_PYTHON=python
PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-$VENV_PYTHON}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROCS" "$HERE/$TOOL" "${@:3}" --launcher pytorch
