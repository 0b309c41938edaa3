#!/usr/bin/env bash
# The demo: builds the node and runs `arrow-cache demo` (a local warehouse with a SQLite catalog
# and the partitioned table demo.sales_data, served on ports 8815-8817; it prints how to query it).
# Arguments go to `arrow-cache demo` (e.g. --log-format json); it reads ARROW_CACHE_DEMO_DIR
# (default ./arrow-cache-demo, from where this is run) and ARROW_CACHE_FLIGHT_PORT / _GRPC_PORT /
# _HTTP_PORT.
#
# The build is the test command's (tests/run.sh): the same command into the same target directory,
# one feature set for every cargo invocation, so running the demo after the tests rebuilds
# nothing, and the other way round.
set -euo pipefail
repo=$(cd "$(dirname "$0")" && pwd)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/arrow-cache/target}
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR=$(cd "$CARGO_TARGET_DIR" && pwd)  # (the build runs in the repo, the demo here)

echo "== building arrow-cache (release) into $CARGO_TARGET_DIR" >&2
(cd "$repo" && cargo build --release --locked --workspace)
exec "$CARGO_TARGET_DIR/release/arrow-cache" demo "$@"
