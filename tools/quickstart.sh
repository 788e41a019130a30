#!/usr/bin/env bash
# Set up for classification (idempotent, see tools/setup_env.sh --cls: mmcv-lite,
# no compiled ops), then the quick start on data that needs no download:
# scikit-learn's handwritten digits.
#   1. write the digits as an image-folder dataset (data/digits)
#   2. train a tiny RegNetY with tools/train.py (20 epochs, ~1-2 min on 2 CPUs)
#   3. evaluate the last checkpoint with tools/test.py
#   4. classify one validation image with demo/image_demo.py
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh" --cls
cd "$ROOT"
PY="${MMREGNET_VENV:-$ROOT/.venv}/bin/python"
CONFIG=configs/quickstart/regnet-tiny_1xb64_digits.py
WORK_DIR=work_dirs/quickstart
say() { echo "[quickstart $(date +%H:%M:%S)] $*"; }

say "1/4 preparing scikit-learn's digits in data/digits"
"$PY" tools/dataset_converters/prepare_digits.py data/digits
say "2/4 training $CONFIG (log: $WORK_DIR/train.log)"
rm -rf "$WORK_DIR" && mkdir -p "$WORK_DIR"
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" > "$WORK_DIR/train.log" 2>&1 \
  || { tail -n 30 "$WORK_DIR/train.log"; exit 1; }
grep -E 'Epoch\(val\)' "$WORK_DIR/train.log" | sed -E 's/.*(Epoch\(val\) \[[0-9]+\]).*(accuracy\/top1: [0-9.]+).*/    \1 \2/'
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
say "3/4 evaluating $CHECKPOINT with tools/test.py"
"$PY" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR/test" > "$WORK_DIR/test.log" 2>&1 \
  || { tail -n 30 "$WORK_DIR/test.log"; exit 1; }
ACCURACY=$(tail -n 1 "$WORK_DIR/test.log")
IMAGE=$(ls data/digits/val/7/*.png | head -n 1)
say "4/4 classifying $IMAGE (a 7)"
"$PY" demo/image_demo.py "$IMAGE" "$CONFIG" --checkpoint "$CHECKPOINT" 2>/dev/null | tail -n 1
say "validation accuracy of the trained RegNet on 360 held-out digits: $ACCURACY"
echo "next steps:"
echo "  source .venv/bin/activate                 # then python tools/train.py, tools/test.py, ... directly"
echo "  bash tools/run_tests.sh                   # the test suite (builds mmcv's compiled ops once, about 7 minutes)"
echo "  bash tools/setup_env.sh --det             # detection: mmdet and mmcv's compiled ops, then docs/detection.md"
