#!/usr/bin/env bash
# Set up everything (idempotent, see tools/setup_env.sh --det: compiled mmcv, mmdet,
# test requirements) and run the whole test suite.
# Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -m "not slow"`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh" --det
cd "$ROOT"
exec "${MMREGNET_VENV:-$ROOT/.venv}/bin/python" -m pytest "$@"
