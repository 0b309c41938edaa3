#!/usr/bin/env bash
# The test command: installs what the suites need, builds the node, and runs
# every suite (Rust unit and doc tests, then the end-to-end pytest suites).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# Reuse a target directory outside the clone, so CI and fresh clones share builds.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/arrow-cache/target}
mkdir -p "$CARGO_TARGET_DIR"

# What does not need the node is installed in the background while cargo builds: first the Python
# environment, etcd, the Iceberg REST server's jars and the object-store emulators
# (tests/setup_env.sh; the Rust tests need etcd), then the JVM suites' Maven Central downloads (a
# Trino server and the plugin's dependencies, Spark 3.5/4.0/4.1 and their Iceberg runtimes) and
# the Hive metastore. One after another, as they may use apt. The steps below finish whatever a
# failed download left (each step is idempotent and caches its results outside the clone).
setup_log=$(mktemp -t arrow-cache-setup.XXXXXX)
prefetch_log=$(mktemp -t arrow-cache-prefetch.XXXXXX)
"$repo/tests/setup_env.sh" >"$setup_log" 2>&1 &
setup_pid=$!
( while kill -0 "$setup_pid" 2>/dev/null; do sleep 2; done
  "$repo/tests/trino/prepare.sh" --prefetch \
  && gradle -q -p "$repo/jvm-connector" --no-daemon -PskipCargo :spark-3.5:prefetch :spark-4.0:prefetch :spark-4.1:prefetch \
  && "$repo/tests/support/hive_metastore.sh"
) >"$prefetch_log" 2>&1 &
prefetch_pid=$!  # (if this script stops early, they finish on their own: their results are cached)

# The whole workspace at once: building one package alone would resolve the shared
# dependencies' features differently and rebuild them.
echo "== building arrow-cache and the native bridge (release) into $CARGO_TARGET_DIR"
cargo build --release --locked --workspace
export ARROW_CACHE_BIN="$CARGO_TARGET_DIR/release/arrow-cache"

echo "== Python environment, etcd and object-store emulators (tests/setup_env.sh)"
if ! wait "$setup_pid"; then
    cat "$setup_log"
    echo "(setting up in the background failed; trying again)"
fi
"$repo/tests/setup_env.sh"

echo "== Rust unit and doc tests"
cargo test --release --locked --workspace

if ! wait "$prefetch_pid"; then
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
