#!/usr/bin/env bash
# Run a tool of this folder on a slurm cluster, one task per GPU;
# slurm_train.sh and slurm_test.sh call it.
#   bash tools/slurm_run.sh PARTITION JOB_NAME TOOL.py [tool arguments]
# Python: $PYTHON, else the set-up's environment ($MMREGNET_VENV or .venv),
# else the python on PATH.
# GPUS (default 8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS tune srun.
set -euo pipefail
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV_PYTHON="${MMREGNET_VENV:-$HERE/../.venv}/bin/python"
[ -x "$VENV_PYTHON" ] || VENV_PYTHON=python
PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$1" --job-name="$2" --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="${GPUS:-8}" --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
    "${PYTHON:-$VENV_PYTHON}" -u "$HERE/$3" "${@:4}" --launcher slurm
