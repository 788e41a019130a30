#!/usr/bin/env bash
# Evaluation on slurm: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
exec bash "$(dirname "${BASH_SOURCE[0]}")/slurm_run.sh" "$1" "$2" test.py "$3" "$4" "${@:5}"
