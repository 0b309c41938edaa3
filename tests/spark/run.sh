#!/usr/bin/env bash
# The JVM connector suites: builds the native bridge (native-bridge/, into $CARGO_TARGET_DIR), then
# builds and tests jvm-connector/ with Gradle: common, and the Spark connector of every Spark line
# (spark-3.5, spark-4.0, spark-4.1: the same sources and the same JUnit suites, each against its own
# Spark, Arrow Java and Iceberg runtime). The Spark tests write Iceberg tables with Spark's Iceberg
# runtime and start an arrow-cache node ($ARROW_CACHE_BIN) that reads them. Spark 4.1 runs ReadTest
# and DeletesTest only, to save CI time (-PallSparkSuites runs everything there too). Dependencies
# come from Maven Central once (~0.9 GB for the three lines) and stay in ~/.gradle. ObjectStoreWriteTest
# writes warehouses on moto (from the venv, $ARROW_CACHE_VENV or .venv) and fake-gcs-server
# (tests/support/emulators.sh): tests/setup_env.sh makes both, and does nothing when they are there.
#
#   tests/spark/run.sh                                   # everything
#   tests/spark/run.sh -PallSparkSuites                  # every suite on every Spark line
#   tests/spark/run.sh -x :spark-4.1:test                # extra arguments go to Gradle
#   tests/spark/run.sh --prefetch                        # only the downloads (see below)
#
# --prefetch installs the JDK and Gradle when missing and downloads every Spark line's test
# dependencies into ~/.gradle, nothing else (no cargo, no venv, no tests): tests/run.sh runs it in
# the background while cargo builds, so that the later full run finds them cached.
#
# Uses `gradle` from PATH (Debian's 4.4.1 is enough; installed with apt-get when missing) or the
# command in $GRADLE (e.g. GRADLE=./gradlew for the wrapper's current Gradle).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
prefetch=false
if [[ "${1:-}" == --prefetch ]]; then
    prefetch=true
    shift
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/arrow-cache/target}
mkdir -p "$CARGO_TARGET_DIR"

if ! command -v javac >/dev/null 2>&1; then
    echo "== installing a JDK (openjdk-17-jdk-headless)"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless
fi
if [ -z "${GRADLE:-}" ]; then
    if ! command -v gradle >/dev/null 2>&1; then
        echo "== installing gradle"
        $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gradle
    fi
    GRADLE=gradle
fi

if $prefetch; then
    # -PskipCargo: resolving the dependencies needs no native bridge.
    "$GRADLE" -q -p "$repo/jvm-connector" --no-daemon -PskipCargo "$@" \
        :spark-3.5:prefetch :spark-4.0:prefetch :spark-4.1:prefetch
    exit 0
fi

if [ -z "${ARROW_CACHE_BIN:-}" ]; then
    echo "== building arrow-cache (release) into $CARGO_TARGET_DIR"
    (cd "$repo" && cargo build --release --locked --workspace)
    export ARROW_CACHE_BIN="$CARGO_TARGET_DIR/release/arrow-cache"
fi

echo "== building the native bridge (release) into $CARGO_TARGET_DIR"
(cd "$repo" && cargo build --release --locked --workspace)

echo "== the venv with moto and the object-store emulators (tests/setup_env.sh)"
"$repo/tests/setup_env.sh"

echo "== JVM connector tests (Gradle: $GRADLE)"
# -PskipCargo: the jar takes the library just built; the tests start nodes from $ARROW_CACHE_BIN.
"$GRADLE" -p "$repo/jvm-connector" --no-daemon -PskipCargo build "$@"
