#!/usr/bin/env bash
# Prepare the verified environment in $MMREGNET_VENV (default: .venv in the repo).
# Idempotent: every step checks what is already there and skips finished work.
# The versions are those of requirements/constraints.txt (torch, torchvision, mmengine,
# mmcv with compiled ops, built once from its source distribution and cached in
# $MMREGNET_CACHE, mmpretrain, mmdet, the test and lint tools); then mmregnet itself (editable).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${MMREGNET_VENV:-$ROOT/.venv}
CACHE=${MMREGNET_CACHE:-$HOME/.cache/mmregnet}
PYTHON=${PYTHON:-python3}
CONSTRAINTS="$ROOT/requirements/constraints.txt"
pin() {  # pin NAME: the verified version of NAME
  local version
  version=$(sed -n "s/^$1==\([^ ;#]*\).*/\1/p" "$CONSTRAINTS")
  [ -n "$version" ] || { echo "no pin for $1 in $CONSTRAINTS" >&2; exit 1; }
  echo "$version"
}
TORCH_VERSION=$(pin torch)
TORCHVISION_VERSION=$(pin torchvision)
MMENGINE_VERSION=$(pin mmengine)
MMCV_VERSION=$(pin mmcv)
MMPRETRAIN_VERSION=$(pin mmpretrain)
MMDET_VERSION=$(pin mmdet)
say() { echo "[setup $(date +%H:%M:%S)] $*"; }

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
pipq() { "$PY" -m pip install --disable-pip-version-check -q -c "$CONSTRAINTS" "$@"; }
installed() {  # installed NAME VERSION-PREFIX
  "$PY" - "$1" "$2" <<'PYEOF' 2>/dev/null
import importlib.metadata as md, sys
try:
    sys.exit(0 if md.version(sys.argv[1]).startswith(sys.argv[2]) else 1)
except md.PackageNotFoundError:
    sys.exit(1)
PYEOF
}

if installed torch "$TORCH_VERSION" && installed torchvision "$TORCHVISION_VERSION"; then
  say "torch $TORCH_VERSION / torchvision $TORCHVISION_VERSION present"
else
  say "installing torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION (about 2 minutes)"
  pipq torch torchvision
fi
"$PY" -c "import ninja, wheel" 2>/dev/null || pipq -U "setuptools<80" wheel ninja
if ! installed mmengine "$MMENGINE_VERSION"; then
  say "installing mmengine $MMENGINE_VERSION"
  pipq mmengine
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

if installed mmpretrain "$MMPRETRAIN_VERSION" && installed mmdet "$MMDET_VERSION"; then
  say "mmpretrain $MMPRETRAIN_VERSION / mmdet $MMDET_VERSION present"
else
  say "installing mmpretrain $MMPRETRAIN_VERSION and mmdet $MMDET_VERSION"
  pipq mmpretrain mmdet
fi
STAMP="$VENV/.mmregnet-requirements"
WANT=$(cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" | md5sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ] && [ -e "$ROOT/mmregnet/.mim/model-index.yml" ] \
    && "$PY" -c "import mmregnet" 2>/dev/null; then
  say "test requirements and mmregnet (editable) present"
else
  say "installing test requirements and mmregnet (editable)"
  pipq -r "$ROOT/requirements/tests.txt"
  # with setuptools and wheel present and no pyproject.toml, pip installs in setup.py develop
  # mode: the install's location is the repository, where mim finds mmregnet/.mim (links)
  pipq --no-build-isolation --no-deps -e "$ROOT"
  [ -e "$ROOT/mmregnet/.mim/model-index.yml" ] || {
    echo "pip $("$PY" -m pip --version | cut -d' ' -f2) made a PEP 660 editable install," \
      "without mmregnet/.mim; mim needs the setup.py develop install of pip < 25.3" >&2
    exit 1
  }
  echo "$WANT" > "$STAMP"
fi
"$PY" -c "import mmregnet; print('mmregnet', mmregnet.__version__, 'ready in $VENV')"
