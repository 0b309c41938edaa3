#!/usr/bin/env bash
# Assembles a Trino server from Maven Central and prints its directory (TRINO_HOME):
#   lib/                 the server's class path (io.trino:trino-main and its dependencies)
#                        plus arrow-cache-trino-launcher.jar (the server's main class)
#   plugin/iceberg/      Trino's Iceberg connector, the plugin layout Trino loads
#   plugin/tpch/         Trino's TPC-H connector (generates the benchmark's tables)
#
# Why not a tarball: Maven Central has Trino's server tarballs (trino-server, trino-server-core)
# and plugin zips only up to release 476; later releases publish their jars and poms there but
# ship the tarball elsewhere. The jars are enough: the server's lib/ is trino-main's runtime
# closure and a plugin directory is the plugin's runtime closure minus what the server provides
# (its SPI), both resolved with Trino's own dependency management (io.trino:trino-root imported as
# a BOM). For 476 this reproduces the official tarball's lib/ and plugin/iceberg/ jar for jar
# (less trino-server-main, whose two-line main class the launcher jar replaces).
#
# The release is jvm-connector/trino/trino.properties' trino.version (override: TRINO_VERSION).
# It runs on Java 25 (Trino 479+); the launcher is compiled with $TRINO_JAVA_HOME or a JDK 25
# found in /usr/lib/jvm. Idempotent: a stamp makes a second run a no-op. Everything lives outside
# the clone, in ${ARROW_CACHE_TRINO_DIR:-~/.cache/arrow-cache/trino}/<version>.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
props="$repo/jvm-connector/trino/trino.properties"
prop() { sed -n "s/^$1=//p" "$props" | tr -d '[:space:]'; }
version="${TRINO_VERSION:-$(prop trino.version)}"
java_release="$(prop trino.java.release)"
root="${ARROW_CACHE_TRINO_DIR:-$HOME/.cache/arrow-cache/trino}"
home="$root/$version"

# The plugins to install.
plugins=(iceberg tpch)

find_jdk() {
    local want="$1" h
    for h in "${TRINO_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/*; do
        [[ -n "$h" && -x "$h/bin/javac" && -f "$h/release" ]] || continue
        if grep -Eq "^JAVA_VERSION=\"$want(\.|\")" "$h/release"; then
            echo "$h"
            return 0
        fi
    done
    return 1
}

pom() {  # pom <artifactId> <dependencies xml>
    cat <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.arrow-cache</groupId><artifactId>$1</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement><dependencies>
    <dependency><groupId>io.trino</groupId><artifactId>trino-root</artifactId>
      <version>$version</version><type>pom</type><scope>import</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies>
$2
  </dependencies>
</project>
EOF
}

dep() {  # dep group:artifact -> a <dependency> without version (the BOM has it)
    echo "    <dependency><groupId>${1%%:*}</groupId><artifactId>${1#*:}</artifactId></dependency>"
}

server_pom="$(pom trino-server-lib "$(dep io.trino:trino-main)")"
declare -A plugin_poms
for p in "${plugins[@]}"; do
    plugin_poms[$p]="$(pom "trino-plugin-$p" "$(dep "io.trino:trino-$p")")"
done
launcher_src='public final class TrinoLauncher {
    // What io.trino.server.TrinoServer (trino-server-main, not on Maven Central) does.
    public static void main(String[] args) {
        String version = io.trino.server.Server.class.getPackage().getImplementationVersion();
        new io.trino.server.Server().start(version == null ? "unknown" : version);
    }
}'

want="$( (echo "$version"; echo "$server_pom"; for p in "${plugins[@]}"; do echo "${plugin_poms[$p]}"; done;
          echo "$launcher_src") | sha256sum | cut -d' ' -f1)"
stamp="$home/.stamp"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$home"
    exit 0
fi

jdk="$(find_jdk "$java_release")" || {
    echo "fetch_trino: Trino $version needs Java $java_release: install a JDK $java_release (e.g. Temurin) and set TRINO_JAVA_HOME" >&2
    exit 1
}
if ! command -v mvn >/dev/null; then
    echo "fetch_trino: needs Maven (apt-get install maven)" >&2
    exit 1
fi

echo "fetch_trino: assembling Trino $version from Maven Central into $home" >&2
work="$home/.work"
rm -rf "$work" "$home/lib" "$home/plugin"
mkdir -p "$work"
log="$home/mvn.log"
: > "$log"

copy_deps() {  # copy_deps <name> <pom text> <output dir> [extra mvn args]
    local name="$1" text="$2" out="$3"
    shift 3
    mkdir -p "$work/$name"
    printf '%s\n' "$text" > "$work/$name/pom.xml"
    if ! mvn -q -B -f "$work/$name/pom.xml" dependency:copy-dependencies \
            -DoutputDirectory="$out" -DincludeScope=runtime "$@" >>"$log" 2>&1; then
        tail -50 "$log" >&2
        echo "fetch_trino: mvn failed for $name (log: $log)" >&2
        exit 1
    fi
}

copy_deps server "$server_pom" "$home/lib"
for p in "${plugins[@]}"; do
    # Trino's packaging (provisio) leaves out of a plugin directory the dependencies its pom
    # declares `provided`: what the server gives every plugin (SPI, Slice, Jackson annotations,
    # OpenTelemetry API, ...).
    if ! mvn -q -B dependency:copy -Dartifact="io.trino:trino-$p:$version:pom" \
            -DoutputDirectory="$work/poms" >>"$log" 2>&1; then
        tail -50 "$log" >&2
        echo "fetch_trino: cannot fetch the pom of io.trino:trino-$p:$version (log: $log)" >&2
        exit 1
    fi
    exclude="$(python3 - "$work/poms/trino-$p-$version.pom" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
deps = re.findall(r"<dependency>(.*?)</dependency>", text, re.S)
print(",".join(sorted({re.search(r"<artifactId>(.*?)</artifactId>", d).group(1)
                       for d in deps if "<scope>provided</scope>" in d})))
PY
)"
    copy_deps "plugin-$p" "${plugin_poms[$p]}" "$home/plugin/$p" -DexcludeArtifactIds="$exclude"
done

# Maven Central has the plugins' jars but not the services jars Trino's packaging adds: each
# names the plugin class for ServiceLoader. Find it in the plugin's own jar.
for p in "${plugins[@]}"; do
    jar="$home/plugin/$p/trino-$p-$version.jar"
    cls="$(unzip -Z1 "$jar" | grep -E '^io/trino/plugin/.*Plugin\.class$' | grep -v '\$' \
            | awk -F/ '{print length($0) " " $0}' | sort -n | head -1 | cut -d' ' -f2)"
    [[ -n "$cls" ]] || { echo "fetch_trino: no Plugin class in $jar" >&2; exit 1; }
    mkdir -p "$work/svc-$p/META-INF/services"
    echo "${cls%.class}" | tr / . > "$work/svc-$p/META-INF/services/io.trino.spi.Plugin"
    "$jdk/bin/jar" --create --file "$home/plugin/$p/trino-$p-$version-services.jar" -C "$work/svc-$p" META-INF
done

mkdir -p "$work/launcher"
printf '%s\n' "$launcher_src" > "$work/launcher/TrinoLauncher.java"
"$jdk/bin/javac" -d "$work/launcher/classes" -cp "$home/lib/*" "$work/launcher/TrinoLauncher.java"
"$jdk/bin/jar" --create --file "$home/lib/arrow-cache-trino-launcher.jar" -C "$work/launcher/classes" .

rm -rf "$work"
echo "$want" > "$stamp"
echo "$home"
