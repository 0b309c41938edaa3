#!/usr/bin/env bash
# The test command: installs what the suites need, builds the node, and runs
# every suite (Rust unit and doc tests, then the end-to-end pytest suites).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# Reuse a target directory outside the clone, so CI and fresh clones share builds.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/arrow-cache/target}
mkdir -p "$CARGO_TARGET_DIR"

# The whole workspace at once: building one package alone would resolve the shared
# dependencies' features differently and rebuild them.
echo "== building arrow-cache and the native bridge (release) into $CARGO_TARGET_DIR"
cargo build --release --locked --workspace
export ARROW_CACHE_BIN="$CARGO_TARGET_DIR/release/arrow-cache"

echo "== Rust unit and doc tests"
cargo test --release --locked --workspace

echo "== Python environment for the end-to-end suites"
"$repo/tests/setup_env.sh"
venv=${ARROW_CACHE_VENV:-$repo/.venv}

echo "== end-to-end suites"
"$venv/bin/python" -m pytest "$repo/tests" -q -p no:cacheprovider "$@"

echo "== JVM connector suites (Gradle: common, Spark 3.5)"
"$repo/tests/spark/run.sh"
