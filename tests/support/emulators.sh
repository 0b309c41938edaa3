#!/usr/bin/env bash
# Installs the object-store emulators the end-to-end suites run (tests/test_object_stores.py):
#   fake-gcs-server (GCS; built from source with Go, through the Go module proxy)
#   azurite         (Azure Blob Storage / ADLS Gen2 addressed through the Blob API; from npm)
# into ${ARROW_CACHE_EMULATORS_DIR:-~/.cache/arrow-cache/emulators}, outside the clone, and
# prints that directory. Idempotent: each tool has its own versioned directory and stamp, so a
# second run only checks two files. Missing toolchains come from Debian (golang-go, nodejs/npm).
set -euo pipefail

# fake-gcs-server 1.47.6 is the newest release that Debian 12's Go (1.19) builds, and the
# first that sends the ETag header object_store's GCS client requires on downloads.
fake_gcs_version=v1.47.6
azurite_version=3.35.0

cache="${ARROW_CACHE_EMULATORS_DIR:-$HOME/.cache/arrow-cache/emulators}"
gcs_dir="$cache/fake-gcs-server-$fake_gcs_version"
azurite_dir="$cache/azurite-$azurite_version"
mkdir -p "$cache"

apt_install() {
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    echo "emulators: installing $* from Debian" >&2
    $sudo apt-get update -qq >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

find_go() {
    local candidate
    for candidate in "$(command -v go || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
        [[ -n "$candidate" && -x "$candidate" ]] && { echo "$candidate"; return 0; }
    done
    return 1
}

install_fake_gcs() {
    [[ -x "$gcs_dir/bin/fake-gcs-server" && -f "$gcs_dir/.stamp" ]] && return 0
    local go
    if ! go=$(find_go); then
        apt_install golang-go ca-certificates
        go=$(find_go)
    fi
    echo "emulators: building fake-gcs-server $fake_gcs_version with $("$go" version)" >&2
    rm -rf "$gcs_dir"
    mkdir -p "$gcs_dir"
    # Module and build caches are scratch: only the binary is kept. GOTOOLCHAIN=local stops a
    # newer Go from fetching another toolchain; GOFLAGS=-modcacherw lets rm remove the cache.
    local scratch
    scratch=$(mktemp -d "$cache/go-scratch.XXXXXX")
    if ! env GOPATH="$scratch/gopath" GOCACHE="$scratch/gocache" GOBIN="$gcs_dir/bin" \
            GOFLAGS=-modcacherw GOTOOLCHAIN=local GO111MODULE=on \
            "$go" install "github.com/fsouza/fake-gcs-server@$fake_gcs_version" \
            >"$gcs_dir/build.log" 2>&1; then
        cat "$gcs_dir/build.log" >&2
        rm -rf "$scratch"
        echo "emulators: building fake-gcs-server failed (log: $gcs_dir/build.log)" >&2
        return 1
    fi
    rm -rf "$scratch"
    echo "$fake_gcs_version" > "$gcs_dir/.stamp"
}

install_azurite() {
    [[ -x "$azurite_dir/node_modules/.bin/azurite-blob" && -f "$azurite_dir/.stamp" ]] && return 0
    if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
        apt_install nodejs npm
    fi
    echo "emulators: installing azurite $azurite_version with npm" >&2
    rm -rf "$azurite_dir"
    mkdir -p "$azurite_dir"
    if ! npm install --prefix "$azurite_dir" --no-audit --no-fund --loglevel=error \
            "azurite@$azurite_version" >"$azurite_dir/npm.log" 2>&1; then
        cat "$azurite_dir/npm.log" >&2
        echo "emulators: npm install azurite failed (log: $azurite_dir/npm.log)" >&2
        return 1
    fi
    echo "$azurite_version" > "$azurite_dir/.stamp"
}

# Both at once: the Go build is CPU-bound, npm mostly waits on the network. The toolchains
# are installed first, one apt-get at a time.
if ! find_go >/dev/null && [[ ! -f "$gcs_dir/.stamp" ]]; then apt_install golang-go ca-certificates; fi
if { ! command -v npm >/dev/null || ! command -v node >/dev/null; } && [[ ! -f "$azurite_dir/.stamp" ]]; then
    apt_install nodejs npm
fi
install_fake_gcs & gcs_pid=$!
install_azurite & azurite_pid=$!
status=0
wait "$gcs_pid" || status=1
wait "$azurite_pid" || status=1
[[ $status == 0 ]] || exit 1
echo "$cache"
