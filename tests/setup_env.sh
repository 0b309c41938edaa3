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

# A real etcd for the etcd:// membership tests (service/tests/etcd_membership.rs,
# support/etcd.py): Debian's etcd-server (3.4). Only when no etcd is installed yet.
if ! command -v etcd >/dev/null 2>&1 && [[ ! -x /usr/bin/etcd ]]; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
        echo "setup_env: installing etcd-server" >&2
        $SUDO apt-get update -qq >/dev/null
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            etcd-server >/dev/null
    else
        echo "setup_env: no etcd and no apt-get: install etcd 3.4+ (or set ETCD_BIN) for the etcd tests" >&2
    fi
fi

# fake-gcs-server and azurite for the GCS and Azure suites (test_object_stores.py), cached
# outside the clone; has its own stamps, so it runs before this script's early exit.
"$tests_dir/support/emulators.sh" >/dev/null

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
