#!/usr/bin/env bash
# The Spark benchmark of issue 4, in one run: TPC-H Q1 and Q6 (SF 1) in a local Spark 3.5 session
# through spark.read.format("arrow-cache") warm and cold, and through Spark's own Iceberg connector,
# on local files and on S3 (moto); plus the JNI bridge's rows/s against a Rust Flight client on the
# same split. Not a test and not in CI. Writes its results into docs/BENCHMARKS.md (the block
# between <!-- BEGIN SPARK RUN --> and <!-- END SPARK RUN -->).
#
#   bench/spark/run.sh
#
# What it uses (built or fetched when missing):
#   - bench/prepare_tpch.sh $BENCH_SF: tpch.lineitem in ~/.cache/arrow-cache/bench/sf$BENCH_SF
#   - the node, $ARROW_CACHE_BIN (default $CARGO_TARGET_DIR/release/arrow-cache)
#   - the connector jar, $ARROW_CACHE_SPARK_JAR (default jvm-connector/spark-3.5/build/libs/...,
#     built with Gradle when missing); the run reads a copy, so a rebuild meanwhile does not matter
#   - bench/spark/flight-reader, the Rust Flight client baseline (its own Cargo workspace and
#     target directory, $HOME/.cache/arrow-cache/target-spark-bench)
#   - Spark 3.5.6, iceberg-spark-runtime and iceberg-aws-bundle 1.10.0, sqlite-jdbc from Maven
#     Central (Gradle cache), moto from the repository's venv (.venv, made by tests/setup_env.sh)
#
# Knobs: BENCH_REPS (timed runs per variant, default 5), BENCH_BRIDGE_REPS (default 10 rounds of
# 3 reads), BENCH_NODE_MEMORY (each node's total_memory, default 6GB), BENCH_HEAP (Spark driver
# heap, default 6g), BENCH_NO_DOCS=1 (leave docs/BENCHMARKS.md alone), BENCH_ONLY=local,s3,bridge
# (a subset; never writes the docs), BENCH_WORKDIR (default /tmp/arrow-cache-spark-bench),
# BENCH_JAVA_OPTS (extra JVM options, for what-if runs; never writes the docs).
# Profiling: BENCH_PROFILE='Q1|local|warm' (or 'Q1 scan|s3|iceberg', ...) repeats that variant
# for BENCH_PROFILE_SECS (default 60) under Java Flight Recorder, into $BENCH_JFR (default
# ~/.cache/arrow-cache/bench/spark-profile.jfr); bench/spark/jfr_top.py summarizes it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/bench/spark"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/arrow-cache/target}
GRADLE=${GRADLE:-gradle}
SF=${BENCH_SF:-1}

"$repo/bench/prepare_tpch.sh" "$SF"
export ARROW_CACHE_BENCH_DIR=${ARROW_CACHE_BENCH_DIR:-$HOME/.cache/arrow-cache/bench/sf$SF}

export ARROW_CACHE_BIN=${ARROW_CACHE_BIN:-$CARGO_TARGET_DIR/release/arrow-cache}
if [[ ! -x "$ARROW_CACHE_BIN" ]]; then
    echo "== building the node (cargo build --release --locked --workspace)"
    (cd "$repo" && cargo build --release --locked --workspace)
fi

jar=${ARROW_CACHE_SPARK_JAR:-$repo/jvm-connector/spark-3.5/build/libs/arrow-cache-spark-3.5_2.12-0.1.0.jar}
# (unzip with a member name: exit 0 when the jar has it; no pipe, whose SIGPIPE pipefail would count as a failure.
# TableAction: a jar from before the benchmark used it is rebuilt rather than failing to compile the benchmark.)
has_member() { unzip -l "$1" "$2" >/dev/null 2>&1; }
has_connector() { [[ -f "$1" ]] && has_member "$1" io/arrowcache/spark/ArrowCacheSource.class \
    && has_member "$1" io/arrowcache/client/TableAction.class; }
if ! has_connector "$jar"; then
    echo "== building the Spark 3.5 connector jar"
    (cd "$repo" && cargo build --release --locked --workspace)
    "$GRADLE" -p "$repo/jvm-connector" --no-daemon -q -PskipCargo :spark-3.5:jar
    has_connector "$jar" || { echo "run.sh: $jar has no Spark connector classes; set ARROW_CACHE_SPARK_JAR" >&2; exit 1; }
fi
cache="$HOME/.cache/arrow-cache/bench/spark"
mkdir -p "$cache"
cp "$jar" "$cache/connector.jar"
export BENCH_CONNECTOR_JAR="${jar#"$repo"/} (built $(date -u -r "$jar" '+%Y-%m-%d %H:%M UTC'))"

echo "== building the Rust Flight client baseline (bench/spark/flight-reader)"
(cd "$here/flight-reader" && CARGO_TARGET_DIR=$HOME/.cache/arrow-cache/target-spark-bench cargo build --release --locked -q)
export BENCH_FLIGHT_READER=$HOME/.cache/arrow-cache/target-spark-bench/release/spark-bench-flight-reader

echo "== compiling the benchmark (Gradle; Spark and Iceberg from Maven Central)"
"$GRADLE" -p "$here" --no-daemon -q -PconnectorJar="$cache/connector.jar" writeClasspath

export BENCH_MOTO_PYTHON=${BENCH_MOTO_PYTHON:-$repo/.venv/bin/python}
"$BENCH_MOTO_PYTHON" -c 'import moto.server' 2>/dev/null \
    || { echo "run.sh: no moto in $BENCH_MOTO_PYTHON; run tests/setup_env.sh (or set BENCH_MOTO_PYTHON)" >&2; exit 1; }
export BENCH_GIT="$(cd "$repo" && git rev-parse --short HEAD)$(cd "$repo" && git diff --quiet HEAD -- 2>/dev/null || echo ' + uncommitted changes')"
export BENCH_COMMAND="bench/spark/run.sh"
if [[ "${BENCH_NO_DOCS:-}" != 1 && -z "${BENCH_JAVA_OPTS:-}" ]]; then
    export BENCH_DOCS="$repo/docs/BENCHMARKS.md"
fi

jvm=(-Xmx"${BENCH_HEAP:-6g}" -XX:+IgnoreUnrecognizedVMOptions
     # What Spark 3.5 and Arrow's memory module need on JDK 17 (as gradle/java-conventions.gradle).
     --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
     --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
     --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
     --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
     --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
     --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
     --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
     -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true)
# Extra JVM options (what-if experiments), e.g. BENCH_JAVA_OPTS=-Darrow.enable_unsafe_memory_access=true
read -r -a extra <<< "${BENCH_JAVA_OPTS:-}"
jvm+=("${extra[@]}")
if [[ -n "${BENCH_PROFILE:-}" ]]; then
    jfr=${BENCH_JFR:-$HOME/.cache/arrow-cache/bench/spark-profile.jfr}
    jvm+=(-XX:StartFlightRecording=filename="$jfr",settings=profile -XX:FlightRecorderOptions=stackdepth=256)
    echo "== profiling '$BENCH_PROFILE' into $jfr"
fi

echo "== running (about 25 minutes at SF 1 on 2 cores)"
exec java "${jvm[@]}" -cp "$(cat "$here/build/classpath.txt")" io.arrowcache.bench.SparkTpchBench
