#!/usr/bin/env bash
# Build the client-go peer of `make bench` (benchmarks/clientgo/main.go) against the client-go
# that kube-apiserver v1.20.2's source tree vendors, and cache the binary.
#
# The source is Debian bookworm's `kubernetes` source package, the same one
# scripts/install-test-assets.sh builds kube-apiserver from. That script does not keep the tree,
# so this one fetches it itself (the private apt configuration and the mirror lookup below are
# copied from it, on purpose: the two scripts are owned separately) and caches the ORIGINAL
# TARBALL, keyed by version:
#     ${XDG_CACHE_HOME:-~/.cache}/kubecodegen/sources/kubernetes-v1.20.2/
# The binary is cached keyed by version AND by the SHA-256 of main.go, so editing the program
# rebuilds it and an unchanged program is never rebuilt:
#     ${XDG_CACHE_HOME:-~/.cache}/kubecodegen/clientgo-bench-v1.20.2/<sha256[:16]>/kubecodegen-clientgo-bench
# benchmarks/clientgo.py computes the same path. Both land with one rename, so an interrupted
# run leaves no half-written file. The build is offline (GOPATH mode against the tree's vendor/,
# GOPROXY=off, GOFLAGS=-mod=vendor); the Debian mirror is the only network it uses, and only
# while the tarball is not cached.
#
# On failure the reason is written to <cache>/clientgo-bench-v1.20.2/last-failure.txt, which the
# benchmark shows as "client-go not built: <reason>"; a later success removes it.
set -euo pipefail

readonly K8S_VERSION="v1.20.2"
readonly SRC_PACKAGE="kubernetes"
readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly PROGRAM="$ROOT/benchmarks/clientgo/main.go"
readonly CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubecodegen"
readonly SOURCE_DIR="$CACHE_ROOT/sources/kubernetes-$K8S_VERSION"
readonly BENCH_DIR="$CACHE_ROOT/clientgo-bench-$K8S_VERSION"
readonly FAILURE="$BENCH_DIR/last-failure.txt"
# Go 1.19 from bookworm, as for kube-apiserver; overridable (tests point it elsewhere).
readonly GO_BIN_DIR="${KUBECODEGEN_GO_BIN_DIR:-/usr/lib/go-1.19/bin}"
readonly REFLECT2_SRC="/usr/share/gocode/src/github.com/modern-go/reflect2"
readonly BINARY_NAME="kubecodegen-clientgo-bench"
# Where the program sits inside the kubernetes module while it is built.
readonly PROGRAM_PKG="cmd/kubecodegen-clientgo-bench"

log() { printf '[clientgo-bench] %s\n' "$*"; }

mkdir -p "$BENCH_DIR"
fail() {
    printf '[clientgo-bench] ERROR: %s\n' "$*" >&2
    printf '%s\n' "$*" >"$FAILURE.partial" && mv -f "$FAILURE.partial" "$FAILURE"
    exit 1
}

[ -f "$PROGRAM" ] || fail "$PROGRAM is missing"
KEY="$(sha256sum "$PROGRAM" | cut -c1-16)"
readonly KEY
readonly DEST_DIR="$BENCH_DIR/$KEY"
readonly DEST="$DEST_DIR/$BINARY_NAME"

# Two concurrent runs must not build twice or race on the cache.
exec 9>"$CACHE_ROOT/.clientgo-bench.lock"
if ! flock -n 9; then
    log "another build is running; waiting for it to finish"
    flock 9
fi

if [ -x "$DEST" ]; then
    log "cached (program $KEY): $DEST"
    rm -f "$FAILURE"
    exit 0
fi

[ -x "$GO_BIN_DIR/go" ] || fail "Go 1.19 not found at $GO_BIN_DIR (Debian golang-1.19-go; make test-assets installs it when it builds kube-apiserver)"
[ -d "$REFLECT2_SRC" ] || fail "$REFLECT2_SRC is missing (Debian golang-github-modern-go-reflect2-dev)"

# Same filesystem as the cache, so the final moves are atomic renames. A fixed folder (we hold
# the lock) and a kept Go build cache: a rebuild after editing main.go then compiles main.go
# only, instead of all of client-go again.
WORK="$BENCH_DIR/.build"
readonly GO_CACHE="$BENCH_DIR/gocache"
chmod -R u+w "$WORK" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$WORK"
cleanup() {
    chmod -R u+w "$WORK" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- 1. the source tarball, cached by version ---------------------------------------------------
# (Copied from scripts/install-test-assets.sh: the machine's Debian mirror, a private apt config.)
debian_mirror() {
    local uri
    uri=$(grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
          | awk '{print $2}' | grep -E '/debian/?$' | head -n 1)
    if [ -z "$uri" ]; then
        uri=$(grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list 2>/dev/null \
              | awk '{print $2}' | grep -E '/debian/?$' | head -n 1)
    fi
    [ -n "$uri" ] || fail "no Debian archive found in the machine's apt sources"
    printf '%s' "$uri"
}

cached_tarball() {
    local found=("$SOURCE_DIR"/"${SRC_PACKAGE}"_*.orig.tar.*)
    [ "${#found[@]}" = 1 ] && [ -f "${found[0]}" ] && printf '%s' "${found[0]}"
}

fetch_tarball() {
    log "fetching the '$SRC_PACKAGE' source package from Debian bookworm (private apt configuration)"
    local apt_dir="$WORK/apt" mirror
    mirror=$(debian_mirror)
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    cat >"$apt_dir/sources.list.d/bookworm-src.sources" <<EOF
Types: deb-src
URIs: $mirror
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local apt_private=(
        apt-get -q
        -o "Dir::Etc::SourceList=/dev/null"
        -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
        -o "Dir::State::Lists=$apt_dir/lists"
        -o "Dir::Cache=$apt_dir/cache"
        -o "APT::Sandbox::User=$(id -un)"
    )
    "${apt_private[@]}" update || fail "apt-get update of the private bookworm deb-src list failed"
    mkdir -p "$WORK/download"
    (cd "$WORK/download" && "${apt_private[@]}" source --download-only "$SRC_PACKAGE") ||
        fail "downloading the '$SRC_PACKAGE' source package failed"
    local origs=("$WORK"/download/"${SRC_PACKAGE}"_*.orig.tar.*)
    [ "${#origs[@]}" = 1 ] && [ -f "${origs[0]}" ] ||
        fail "expected one ${SRC_PACKAGE}_*.orig.tar.* in the download, found ${#origs[@]}"
    local staged="$WORK/source-staged"
    mkdir -p "$staged"
    mv "${origs[0]}" "$staged/"
    mkdir -p "$(dirname "$SOURCE_DIR")"
    rm -rf "$SOURCE_DIR.old"
    [ -d "$SOURCE_DIR" ] && mv "$SOURCE_DIR" "$SOURCE_DIR.old"
    mv "$staged" "$SOURCE_DIR"
    rm -rf "$SOURCE_DIR.old" "$WORK/download" "$apt_dir"
}

shopt -s nullglob
TARBALL="$(cached_tarball || true)"
if [ -z "$TARBALL" ]; then
    fetch_tarball
    TARBALL="$(cached_tarball || true)"
    [ -n "$TARBALL" ] || fail "no tarball in $SOURCE_DIR after the download"
else
    log "source cached: $TARBALL"
fi
shopt -u nullglob

# --- 2. the tree: only what a client-go program needs ------------------------------------------
log "unpacking go.mod, vendor/ and staging/ of $(basename "$TARBALL")"
SRC="$WORK/src"
mkdir -p "$SRC"
unpack_start=$SECONDS
# `head` closes the pipe early: tar's SIGPIPE is expected, not a failure.
top="$( (tar -tf "$TARBALL" 2>/dev/null || true) | head -n 1 | cut -d/ -f1)"
[ -n "$top" ] || fail "cannot read $TARBALL"
tar -xf "$TARBALL" -C "$SRC" --strip-components=1 \
    "$top/go.mod" "$top/go.sum" "$top/vendor" "$top/staging" ||
    fail "unpacking $TARBALL failed"
log "unpacked in $((SECONDS - unpack_start))s"
[ -d "$SRC/vendor/k8s.io/client-go" ] || fail "the source has no vendor/k8s.io/client-go"
grep -q '^module k8s.io/kubernetes$' "$SRC/go.mod" || fail "the source's go.mod is not k8s.io/kubernetes"
# The tree vendors client-go as a link to its own staging copy: the release of this kubernetes.
grep -q '^# k8s.io/client-go .*=> ./staging/src/k8s.io/client-go$' "$SRC/vendor/modules.txt" ||
    fail "vendor/modules.txt does not take k8s.io/client-go from staging/"
client_go_version="v0.${K8S_VERSION#v1.}"
log "vendored k8s.io/client-go: staging of kubernetes $K8S_VERSION (client-go $client_go_version)"

# The vendored reflect2 1.0.1 predates Go 1.18 (see docs/test-cluster.md); Debian's 1.0.2 is safe.
rm -rf "$SRC/vendor/github.com/modern-go/reflect2"
cp -r "$REFLECT2_SRC" "$SRC/vendor/github.com/modern-go/reflect2"
rm -f "$SRC/vendor/github.com/modern-go/reflect2/go.mod" "$SRC/vendor/github.com/modern-go/reflect2/go.sum"

mkdir -p "$SRC/$PROGRAM_PKG"
cp "$PROGRAM" "$SRC/$PROGRAM_PKG/main.go"

# --- 3. build, offline ---------------------------------------------------------------------------
# GOPATH mode, as debian/rules builds kubernetes (module mode refuses this tree's go.mod under
# -mod=vendor: "updates to go.mod needed"): k8s.io/kubernetes is the tree, its vendor/ is used.
# GOFLAGS=-mod=vendor and GOPROXY=off make sure nothing is ever looked up or downloaded.
log "building with $("$GO_BIN_DIR/go" version) (GOPATH mode, vendored client-go, GOPROXY=off)"
mkdir -p "$WORK/gopath/src/k8s.io"
ln -s "$SRC" "$WORK/gopath/src/k8s.io/kubernetes"
build_start=$SECONDS
(
    cd "$WORK/gopath/src/k8s.io/kubernetes"
    export PATH="$GO_BIN_DIR:$PATH"
    export GO111MODULE=off GOFLAGS=-mod=vendor GOPROXY=off GOSUMDB=off
    export GOPATH="$WORK/gopath" GOCACHE="$GO_CACHE" CGO_ENABLED=0
    nice -n 10 go build -trimpath -o "$WORK/$BINARY_NAME" "./$PROGRAM_PKG"
) 2>"$WORK/build.log" || {
    tail -n 20 "$WORK/build.log" >&2
    fail "go build failed: $(grep -m1 -v '^#' "$WORK/build.log" || echo 'see the log above')"
}
BUILD_SECONDS=$((SECONDS - build_start))
log "built in ${BUILD_SECONDS}s"
"$WORK/$BINARY_NAME" version >/dev/null || fail "the built program does not run"

mkdir -p "$DEST_DIR"
install -m 0755 "$WORK/$BINARY_NAME" "$DEST_DIR/.$BINARY_NAME.partial"
# What the report names the peer by (the build time is in this script's log: with a warm Go
# build cache it says nothing about a fresh machine).
printf 'client-go %s (kubernetes %s), %s\n' "$client_go_version" "$K8S_VERSION" \
    "$("$GO_BIN_DIR/go" env GOVERSION)" >"$DEST_DIR/build-info.txt"
mv -f "$DEST_DIR/.$BINARY_NAME.partial" "$DEST"
rm -f "$FAILURE"
# Binaries of earlier versions of main.go are never run again (the key differs): drop them.
for old in "$BENCH_DIR"/*/"$BINARY_NAME"; do
    [ "$(dirname "$old")" = "$DEST_DIR" ] || rm -rf "$(dirname "$old")"
done
log "installed: $DEST"
