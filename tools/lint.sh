#!/usr/bin/env bash
# Lint (settings in setup.cfg): flake8 and isort's import order over the Python
# files of the repository (tracked, or untracked and not ignored by git). The
# tools come with requirements/tests.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY="${MMREGNET_VENV:-$ROOT/.venv}/bin/python"
cd "$ROOT"
FILES=()
while IFS= read -r file; do
  [ -f "$file" ] && FILES+=("$file")
done < <(git ls-files --cached --others --exclude-standard -- '*.py')
status=0
"$PY" -m flake8 "${FILES[@]}" || status=1
"$PY" -m isort --check-only --diff "${FILES[@]}" || status=1
[ "$status" = 0 ] && echo "lint: flake8 and isort clean (${#FILES[@]} files)"
exit "$status"
