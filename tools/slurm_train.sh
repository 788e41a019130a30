#!/usr/bin/env bash
# Training on slurm: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
exec bash "$(dirname "${BASH_SOURCE[0]}")/slurm_run.sh" "$1" "$2" train.py "$3" --work-dir "$4" "${@:5}"
