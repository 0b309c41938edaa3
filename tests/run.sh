#!/usr/bin/env bash
# The test command: checks the formatting, installs what the suites need, builds the node, and
# runs every suite (Rust unit and doc tests and clippy, then the end-to-end pytest suites, then the
# JVM connector suites).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# Reuse a target directory outside the clone, so CI and fresh clones share builds. demo.sh uses
# the same directory and the same build command, so neither rebuilds after the other.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/arrow-cache/target}
mkdir -p "$CARGO_TARGET_DIR"

# First gate, before anything slow: the code is as `cargo fmt` writes it.
echo "== cargo fmt --all --check"
if ! cargo fmt --version >/dev/null 2>&1; then
    rustup component add rustfmt
fi
cargo fmt --all --check

# What does not need the node is installed in the background while cargo builds: first the Python
# environment, etcd, the Iceberg REST server's jars and the object-store emulators
# (tests/setup_env.sh; the Rust tests need etcd), then the JVM suites' Maven Central downloads (a
# Trino server and the plugin's dependencies; Spark 3.5/4.0/4.1 and their Iceberg runtimes), each
# after installing with apt-get the Gradle, Maven or JDK it needs, and the Hive metastore. One
# after another, as they may use apt-get, and each whether or not the one before it worked. The
# steps below finish whatever a failed download left (each step is idempotent and caches its
# results outside the clone).
setup_log=$(mktemp -t arrow-cache-setup.XXXXXX)
prefetch_log=$(mktemp -t arrow-cache-prefetch.XXXXXX)
"$repo/tests/setup_env.sh" </dev/null >"$setup_log" 2>&1 &
setup_pid=$!
( while kill -0 "$setup_pid" 2>/dev/null; do sleep 2; done
  failed=0
  "$repo/tests/trino/prepare.sh" --prefetch || failed=1
  "$repo/tests/spark/run.sh" --prefetch || failed=1
  "$repo/tests/support/hive_metastore.sh" || failed=1
  exit "$failed"
) </dev/null >"$prefetch_log" 2>&1 &
prefetch_pid=$!  # (if this script stops early, they finish on their own: their results are cached)
prefetched=""    # ok or failed, once waited for

# The whole workspace at once: building one package alone would resolve the shared
# dependencies' features differently and rebuild them.
echo "== building arrow-cache and the native bridge (release) into $CARGO_TARGET_DIR"
cargo build --release --locked --workspace
export ARROW_CACHE_BIN="$CARGO_TARGET_DIR/release/arrow-cache"

echo "== Python environment, etcd and object-store emulators (tests/setup_env.sh)"
if ! wait "$setup_pid"; then
    cat "$setup_log"
    # The retry may use apt-get, and so may the background downloads: not both at once.
    echo "(setting up in the background failed; trying again once the background downloads end)"
    wait "$prefetch_pid" && prefetched=ok || prefetched=failed
fi
"$repo/tests/setup_env.sh"

echo "== Rust unit and doc tests"
cargo test --release --locked --workspace

echo "== cargo clippy --workspace --all-targets --locked -- -D warnings"
if ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add clippy
fi
cargo clippy --workspace --all-targets --locked -- -D warnings

if [[ -z "$prefetched" ]]; then
    wait "$prefetch_pid" && prefetched=ok || prefetched=failed
fi
if [[ "$prefetched" == failed ]]; then
    echo "(the background downloads failed, see $prefetch_log; the steps below try again)"
fi
venv=${ARROW_CACHE_VENV:-$repo/.venv}

echo "== Trino plugin (Gradle, Java 25) and a Trino server from Maven Central, for tests/trino"
trino_plugin_dir=$("$repo/tests/trino/prepare.sh")
export ARROW_CACHE_TRINO_PLUGIN_DIR="$trino_plugin_dir"

echo "== end-to-end suites"
"$venv/bin/python" -m pytest "$repo/tests" -q -p no:cacheprovider "$@"

echo "== JVM connector suites (Gradle: common, Spark 3.5 / 4.0 / 4.1, Trino plugin unit tests)"
"$repo/tests/spark/run.sh"
