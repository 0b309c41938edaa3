#!/usr/bin/env bash
# Creates the Python environment for the end-to-end tests. Idempotent: a stamp file holding the
# hash of requirements.txt (and the Python version) makes a second run a no-op.
set -euo pipefail

tests_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$tests_dir")"
venv="${ARROW_CACHE_VENV:-$repo/.venv}"
python="${PYTHON:-python3}"
req="$tests_dir/requirements.txt"
stamp="$venv/.arrow-cache-tests.stamp"

# The real Iceberg REST catalog server test_rest_catalog.py runs (Java jars cached outside the
# clone); has its own stamp, so it runs before this script's early exit.
"$tests_dir/support/rest_catalog.sh" >/dev/null

want="$( (cat "$req"; "$python" --version) | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
echo "setup_env: installing test requirements into $venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
