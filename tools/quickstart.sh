#!/usr/bin/env bash
# Set up (idempotent, see tools/setup_env.sh), then the quick start:
# build every published RegNet from the design space, check its analytic
# complexity against the built module, and run a RegNetY backbone on an image.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec "${MMREGNET_VENV:-$ROOT/.venv}/bin/python" demo/backbone_demo.py
