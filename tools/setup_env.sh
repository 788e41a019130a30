#!/usr/bin/env bash
# Prepare the verified environment in $MMREGNET_VENV (default: .venv in the repo).
# Idempotent: every step checks what is already there and skips finished work.
#
#   bash tools/setup_env.sh          everything: classification, detection, tests (= --det)
#   bash tools/setup_env.sh --cls    classification only (what tools/quickstart.sh needs)
#
# The versions are those of requirements/constraints.txt. mmcv comes in one of two builds,
# which own the same `mmcv` import package (one is uninstalled before the other goes in):
# - compiled mmcv (its C++ ops: NMS, RoIAlign, ... for mmdet), built once from its source
#   distribution (about 7 minutes on 2 cores) and cached in $MMREGNET_CACHE/wheels;
# - mmcv-lite, the same release without compiled ops (seconds to install), enough for
#   classification. --cls installs it unless a compiled mmcv is installed or its wheel cached.
# MMREGNET_MMCV=lite with --cls replaces a compiled mmcv by mmcv-lite.
set -euo pipefail
MODE=det
case "${1:-}" in
  --cls) MODE=cls ;;
  --det | "") MODE=det ;;
  *) echo "usage: bash tools/setup_env.sh [--cls | --det]" >&2; exit 2 ;;
esac
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

# mmcv: compiled (detection) or mmcv-lite (classification only); see the top of this file.
mmcv_build() {  # compiled (>= 2.0, < 2.2, with ops) | lite | none: the mmcv installed
  "$PY" - <<'PYEOF' 2>/dev/null || echo none
import glob, os, importlib.metadata as md, importlib.util as iu
names = {d.metadata['Name'].lower() for d in md.distributions()}
spec = iu.find_spec('mmcv')  # where `import mmcv` finds it, not imported
ops = spec is not None and any(glob.glob(os.path.join(p, '_ext*.so'))
                               for p in spec.submodule_search_locations)
supported = 'mmcv' in names and md.version('mmcv').split('.')[:2] in (['2', '0'], ['2', '1'])
if supported and ops:
    print('compiled')
elif 'mmcv-lite' in names:
    print('lite')
else:
    print('none')
PYEOF
}
uninstall() { "$PY" -m pip uninstall --disable-pip-version-check -q -y "$@"; }
mkdir -p "$CACHE/wheels" "$CACHE/src"
CACHED_WHEEL=$(ls "$CACHE"/wheels/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n 1 || true)
HAVE=$(mmcv_build)
if [ "$MODE" = cls ] && [ "${MMREGNET_MMCV:-}" = lite ] && [ "$HAVE" = compiled ]; then
  say "MMREGNET_MMCV=lite: replacing the compiled mmcv by mmcv-lite"
  uninstall mmcv
  HAVE=none
fi
if [ "$HAVE" = compiled ] && [ "$MODE" = det ] && ! "$PY" -c "import mmcv.ops" 2>/dev/null; then
  HAVE=broken   # its ops do not import: replaced below
fi
if [ "$HAVE" = compiled ]; then
  say "mmcv: compiled mmcv $("$PY" -c "import importlib.metadata as md; print(md.version('mmcv'))") present (kept; serves classification and detection)"
elif [ "$MODE" = cls ] && { [ -z "$CACHED_WHEEL" ] || [ "${MMREGNET_MMCV:-}" = lite ]; }; then
  if [ "$HAVE" = lite ]; then
    say "mmcv: mmcv-lite $MMCV_VERSION present (classification; 'bash tools/setup_env.sh --det' adds detection)"
  else
    pipq "mmcv-lite==$MMCV_VERSION"
    say "mmcv: installed mmcv-lite $MMCV_VERSION, no compiled ops: classification needs none ('bash tools/setup_env.sh --det' builds them for detection)"
  fi
else
  WHEEL=$CACHED_WHEEL
  if [ -z "$WHEEL" ]; then
    say "building mmcv $MMCV_VERSION with CPU ops from source: about 7 minutes on 2 cores, once (cached in $CACHE/wheels)"
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
    WHY="built from source and cached in $CACHE/wheels"
  else
    WHY="from the cached wheel $WHEEL"
  fi
  # both builds own the `mmcv` import package: remove the other one first, never after
  if [ "$HAVE" = lite ]; then
    say "removing mmcv-lite before the compiled mmcv goes in"
    uninstall mmcv-lite
  elif "$PY" -c "import importlib.metadata as md; md.version('mmcv')" 2>/dev/null; then
    uninstall mmcv   # an mmcv whose ops do not import, or outside the supported range
  fi
  pipq "$WHEEL"
  "$PY" -c "import mmcv.ops" || { echo "the compiled mmcv does not import its ops" >&2; exit 1; }
  say "mmcv: installed the compiled mmcv $MMCV_VERSION ($WHY): its ops serve mmdet's detectors"
fi

if [ "$MODE" = cls ]; then
  if installed mmpretrain "$MMPRETRAIN_VERSION"; then
    say "mmpretrain $MMPRETRAIN_VERSION present"
  else
    say "installing mmpretrain $MMPRETRAIN_VERSION"
    pipq mmpretrain
  fi
elif installed mmpretrain "$MMPRETRAIN_VERSION" && installed mmdet "$MMDET_VERSION"; then
  say "mmpretrain $MMPRETRAIN_VERSION / mmdet $MMDET_VERSION present"
else
  say "installing mmpretrain $MMPRETRAIN_VERSION and mmdet $MMDET_VERSION"
  pipq mmpretrain mmdet
fi
# what mmregnet needs besides (--cls: its runtime requirements and scikit-learn for the
# quick start's digits; else the test requirements too), then mmregnet itself (editable)
WANT=$(cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" | md5sum | cut -d' ' -f1)
STAMP="$VENV/.mmregnet-requirements"
if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT det" ] || [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT $MODE" ]; then
  DONE=1
else
  DONE=0
fi
if [ "$DONE" = 1 ] && [ -e "$ROOT/mmregnet/.mim/model-index.yml" ] && "$PY" -c "import mmregnet" 2>/dev/null; then
  say "requirements and mmregnet (editable) present"
else
  if [ "$MODE" = cls ]; then
    say "installing mmregnet's requirements, scikit-learn and mmregnet (editable)"
    pipq -r "$ROOT/requirements/runtime.txt" scikit-learn
  else
    say "installing test requirements and mmregnet (editable)"
    pipq -r "$ROOT/requirements/tests.txt"
  fi
  # with setuptools and wheel present and no pyproject.toml, pip installs in setup.py develop
  # mode: the install's location is the repository, where mim finds mmregnet/.mim (links)
  pipq --no-build-isolation --no-deps -e "$ROOT"
  [ -e "$ROOT/mmregnet/.mim/model-index.yml" ] || {
    echo "pip $("$PY" -m pip --version | cut -d' ' -f2) made a PEP 660 editable install," \
      "without mmregnet/.mim; mim needs the setup.py develop install of pip < 25.3" >&2
    exit 1
  }
  echo "$WANT $MODE" > "$STAMP"
fi
"$PY" -c "import mmregnet; print('mmregnet', mmregnet.__version__, 'ready in $VENV')"
