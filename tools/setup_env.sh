#!/usr/bin/env bash
# Prepare the verified environment in $MMREGNET_VENV (default: .venv in the repo).
# Idempotent: every step checks what is already there and skips finished work.
#   torch 2.14.1 + torchvision 0.29.1, mmengine 0.10.7, mmcv 2.1.0 with compiled ops
#   (built once from its source distribution, wheel cached in $MMREGNET_CACHE),
#   mmpretrain 1.2.0, mmdet 3.3.0, the test requirements and mmregnet itself (editable).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${MMREGNET_VENV:-$ROOT/.venv}
CACHE=${MMREGNET_CACHE:-$HOME/.cache/mmregnet}
PYTHON=${PYTHON:-python3}
MMCV_VERSION=2.1.0
say() { echo "[setup $(date +%H:%M:%S)] $*"; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
pipq() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }
installed() {  # installed NAME VERSION-PREFIX
  "$PY" - "$1" "$2" <<'PYEOF' 2>/dev/null
import importlib.metadata as md, sys
try:
    sys.exit(0 if md.version(sys.argv[1]).startswith(sys.argv[2]) else 1)
except md.PackageNotFoundError:
    sys.exit(1)
PYEOF
}

if installed torch 2.14.1 && installed torchvision 0.29.1; then
  say "torch 2.14.1 / torchvision 0.29.1 present"
else
  say "installing torch 2.14.1 + torchvision 0.29.1 (about 2 minutes)"
  pipq torch==2.14.1 torchvision==0.29.1
fi
"$PY" -c "import ninja, wheel" 2>/dev/null || pipq -U "setuptools<80" wheel ninja
if ! installed mmengine 0.10.7; then
  say "installing mmengine 0.10.7"
  pipq mmengine==0.10.7
fi

# mmcv with compiled ops. A user's own mmcv < 2.2 whose ops import is kept as it is.
if "$PY" -c "import mmcv, mmcv.ops, sys; from packaging.version import Version as V; sys.exit(0 if V('2.0.0') <= V(mmcv.__version__) < V('2.2.0') else 1)" 2>/dev/null; then
  say "mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)') with compiled ops present"
else
  mkdir -p "$CACHE/wheels" "$CACHE/src"
  WHEEL=$(ls "$CACHE"/wheels/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n 1 || true)
  if [ -z "$WHEEL" ]; then
    say "building mmcv $MMCV_VERSION with CPU ops from source: about 15 minutes on 2 cores, once (cached in $CACHE/wheels)"
    SDIST=$(ls "$CACHE"/src/mmcv-$MMCV_VERSION.tar.gz 2>/dev/null || true)
    if [ -z "$SDIST" ]; then
      "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$CACHE/src"
      SDIST="$CACHE/src/mmcv-$MMCV_VERSION.tar.gz"
    fi
    BUILD=$(mktemp -d)
    tar -xzf "$SDIST" -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.10 headers need C++20; mmcv 2.1.0 asks for C++14/17.
    sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/setup.py"
    grep -q 'c++20' "$SRC/setup.py" || { echo "could not raise the C++ standard in $SRC/setup.py" >&2; exit 1; }
    LOG="$CACHE/mmcv-build.log"
    say "compiling (progress below, full log in $LOG)"
    ( cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA=0 CFLAGS=-g0 CXXFLAGS=-g0 MAX_JOBS=${MAX_JOBS:-2} \
        "$PY" -m pip wheel --disable-pip-version-check -v --no-build-isolation --no-deps -w "$BUILD/dist" . ) 2>&1 \
      | tee "$LOG" | grep --line-buffered -oE '\[[0-9]+/[0-9]+\]' | while read -r p; do say "mmcv compile $p"; done || true
    WHEEL_BUILT=$(ls "$BUILD"/dist/mmcv-*.whl 2>/dev/null | head -n 1 || true)
    [ -n "$WHEEL_BUILT" ] || { echo "mmcv build failed, see $LOG" >&2; exit 1; }
    mv "$WHEEL_BUILT" "$CACHE/wheels/"   # same filesystem rename only after a complete build
    WHEEL="$CACHE/wheels/$(basename "$WHEEL_BUILT")"
    rm -rf "$BUILD"
  else
    say "reusing cached mmcv wheel $WHEEL"
  fi
  pipq "$WHEEL"
  "$PY" -c "import mmcv.ops; print('mmcv', mmcv.__version__, 'ops OK')"
fi

if installed mmpretrain 1.2.0 && installed mmdet 3.3.0; then
  say "mmpretrain 1.2.0 / mmdet 3.3.0 present"
else
  say "installing mmpretrain 1.2.0 and mmdet 3.3.0"
  pipq mmpretrain==1.2.0 mmdet==3.3.0
fi
STAMP="$VENV/.mmregnet-requirements"
WANT=$(cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" | md5sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ] && "$PY" -c "import mmregnet" 2>/dev/null; then
  say "test requirements and mmregnet (editable) present"
else
  say "installing test requirements and mmregnet (editable)"
  pipq -r "$ROOT/requirements/tests.txt"
  pipq --no-build-isolation --no-deps -e "$ROOT"
  echo "$WANT" > "$STAMP"
fi
"$PY" -c "import mmregnet; print('mmregnet', mmregnet.__version__, 'ready in $VENV')"
