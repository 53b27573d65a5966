#!/usr/bin/env bash
# Build (once per machine) the "modern" test API server: the Kubernetes v1.36 generic API server
# with apiextensions only (CustomResourceDefinitions + custom resources; no core/v1), plus the
# etcd 3.5 it runs on. See docs/test-cluster.md ("The modern server").
#
# No registry ships such a binary and no Debian release has Kubernetes 1.36, but Debian sid has
# k8s.io/apiextensions-apiserver v0.36.4 and every Go library it imports as golang-*-dev source
# packages, plus Go 1.27 and etcd 3.5.30. This script downloads exactly the packages in
# scripts/modern-apiserver/packages.pinned through a PRIVATE apt configuration (own sources list,
# lists and cache; /etc/apt is never touched, nothing is installed into the system), unpacks them
# with `dpkg -x`, and builds scripts/modern-apiserver/main.go in GOPATH mode. The result is
# cached in ${XDG_CACHE_HOME:-~/.cache}/kubecodegen/modern-apiserver-v1.36.4/, keyed by version,
# and moved there with one rename, so an interrupted run never leaves half a cache.
#
# sid moves. For each pinned package: the pinned version, else sid's current version of it (a
# logged deviation; the upstream apiextensions-apiserver version must still be 0.36.4), else the
# package from forky, then trixie. A name gone everywhere, or an import no pinned package
# provides, switches to the full recursive Depends closure of golang-k8s-apiextensions-apiserver-dev.
#
# When the build is impossible, the script prints ONE line starting "modern-apiserver
# UNAVAILABLE:" that names the package (or step), records it in <cache>.unavailable (the test
# harness shows it in its skip reason), and exits 3. `make test-assets` goes on after exit 3;
# the v1.20 tests stay mandatory. The next run tries again (downloads and the Go build cache of
# a failed attempt are kept in the work folder, so a retry is quick).
#
# Environment:
#   TEST_ASSET_MODERN_APISERVER=<file>  bring your own binary: nothing is built
#   SKIP_MODERN_APISERVER=1             build nothing (the modern tests then skip, saying why)
#   DEBIAN_MIRROR=<url>                 default: the Debian mirror in this machine's apt sources
#   MODERN_BUILD_TIMEOUT=<seconds>      default 3600, for `go build`
set -Eeuo pipefail

readonly APIEXT_VERSION="0.36.4"                 # k8s.io/apiextensions-apiserver
readonly K8S_VERSION="v1.36.4"                   # what the binary reports
readonly SUITE="sid"
readonly FALLBACK_SUITES="forky trixie"
readonly HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly PINNED="$HERE/modern-apiserver/packages.pinned"
readonly MAIN_GO="$HERE/modern-apiserver/main.go"
readonly CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubecodegen"
readonly DEST="$CACHE_ROOT/modern-apiserver-$K8S_VERSION"
readonly UNAVAILABLE="$DEST.unavailable"
readonly WORK="$CACHE_ROOT/.modern-build-$K8S_VERSION"   # kept after a failure, for a quick retry
readonly BUILD_TIMEOUT="${MODERN_BUILD_TIMEOUT:-3600}"

log() { printf '[modern-apiserver] %s\n' "$*" >&2; }
die() { printf '[modern-apiserver] ERROR: %s\n' "$*" >&2; exit 1; }

# The one line `make test` shows when sid no longer allows the build; exit 3 = "unavailable".
unavailable() {
    local line="modern-apiserver UNAVAILABLE: $* -- the Kubernetes 1.36 tests will be SKIPPED (details: $WORK/build.log)"
    mkdir -p "$CACHE_ROOT"
    printf '%s\n' "$line" >"$UNAVAILABLE"
    printf '%s\n' "$line" >&2
    exit 3
}

is_cached() {
    [ -x "$DEST/apiextensions-apiserver" ] && [ -x "$DEST/etcd" ] && [ -s "$DEST/BUILD-INFO" ] &&
        "$DEST/apiextensions-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION"
}

# Anything unforeseen failing below is "unavailable" too (one line, exit 3), never a blocker.
trap 'unavailable "unexpected failure at scripts/install-modern-apiserver.sh line $LINENO (exit $?)"' ERR

if [ "${SKIP_MODERN_APISERVER:-0}" = 1 ]; then
    log "SKIP_MODERN_APISERVER=1: not building (the 1.36 tests will be skipped)"
    exit 0
fi
if [ -n "${TEST_ASSET_MODERN_APISERVER:-}" ]; then
    [ -x "$TEST_ASSET_MODERN_APISERVER" ] ||
        die "TEST_ASSET_MODERN_APISERVER=$TEST_ASSET_MODERN_APISERVER is not an executable file"
    log "using TEST_ASSET_MODERN_APISERVER=$TEST_ASSET_MODERN_APISERVER: no build"
    exit 0
fi

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.modern-install.lock"
if ! flock -n 9; then
    log "another build is running; waiting for it"
    flock 9
fi
if is_cached; then
    rm -f "$UNAVAILABLE"
    log "$K8S_VERSION cached: $DEST"
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb flock timeout; do
    command -v "$tool" >/dev/null 2>&1 || unavailable "the tool '$tool' is missing (a Debian-based machine is needed)"
done
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] ||
    unavailable "/usr/share/keyrings/debian-archive-keyring.gpg is missing (package debian-archive-keyring)"

log "building $K8S_VERSION once (a few minutes; log: $WORK/build.log)"
mkdir -p "$WORK"
exec 8>>"$WORK/build.log"
started=$SECONDS

# --- private apt configuration ----------------------------------------------------------------
APT_DIR="$WORK/apt"
DEBS="$WORK/debs"
ROOT="$WORK/root"
UNPACKED="$WORK/unpacked"      # one file per unpacked package: "name version bytes"
mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" \
    "$DEBS" "$ROOT" "$UNPACKED"
APT_OPTS=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
    -o "Dir::State::Lists=$APT_DIR/lists"
    -o "Dir::Cache=$APT_DIR/cache"
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=$(id -un)"
)

debian_mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then printf '%s' "$DEBIAN_MIRROR"; return; fi
    local uri
    uri=$({ grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
            grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
                sed -E 's/\[[^]]*\]//' | awk '{print $2}'; } | grep -E '/debian/?$' | sed -n 1p || true)
    printf '%s' "$uri"
}
MIRROR=$(debian_mirror)
[ -n "$MIRROR" ] || unavailable "no Debian mirror in this machine's apt sources (set DEBIAN_MIRROR)"

# Add one suite to the private sources and refresh its lists (once per build attempt).
declare -A SUITE_READY=()
add_suite() {
    local suite=$1
    [ -n "${SUITE_READY[$suite]:-}" ] && return "${SUITE_READY[$suite]}"
    cat >"$APT_DIR/sources.list.d/$suite.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    log "apt-get update (private configuration, suite $suite)"
    # apt-get update exits 0 even when it fetched nothing (mirror down): check for the index.
    if timeout 900 apt-get "${APT_OPTS[@]}" -q update >&8 2>&1 &&
        compgen -G "$APT_DIR/lists/*_dists_${suite}_main_binary-*_Packages*" >/dev/null; then
        SUITE_READY[$suite]=0
    else
        rm -f "$APT_DIR/sources.list.d/$suite.sources"
        SUITE_READY[$suite]=1
    fi
    return "${SUITE_READY[$suite]}"
}
add_suite "$SUITE" || unavailable "apt-get update of Debian $SUITE from $MIRROR fetched no package index (mirror unreachable?)"

candidate() {  # candidate PACKAGE [SUITE]: the version apt would take, empty when none
    local policy
    policy=$(apt-cache "${APT_OPTS[@]}" policy "$1" 2>/dev/null || true)
    awk '/Candidate:/ {print $2}' <<<"$policy" | grep -v '(none)' || true
}

has_version() {  # has_version PACKAGE VERSION
    apt-cache "${APT_OPTS[@]}" show "$1=$2" >/dev/null 2>&1
}

unpack_new_debs() {
    local deb name
    for deb in "$DEBS"/*.deb; do
        [ -e "$deb" ] || continue
        name=$(dpkg-deb -f "$deb" Package)
        [ -e "$UNPACKED/$name" ] && continue
        dpkg-deb -x "$deb" "$ROOT"
        printf '%s %s %s\n' "$name" "$(dpkg-deb -f "$deb" Version)" "$(stat -c %s "$deb")" >"$UNPACKED/$name"
    done
}

download() {  # download SPEC...: apt-get download into $DEBS; status only
    (cd "$DEBS" && timeout 900 apt-get "${APT_OPTS[@]}" -q download "$@") >&8 2>&1
}

# Fetch one package: the pinned version, else sid's candidate, else a fallback suite.
fetch_one() {  # fetch_one NAME PINNED-VERSION-OR-EMPTY; status 1 when nothing could be had
    local name=$1 pinned=$2 current suite
    [ -e "$UNPACKED/$name" ] && return 0
    if [ -n "$pinned" ] && has_version "$name" "$pinned" && download "$name=$pinned"; then return 0; fi
    current=$(candidate "$name")
    if [ -n "$current" ]; then
        [ -z "$pinned" ] || log "$name: pinned $pinned is gone from $SUITE; using $SUITE's $current"
        download "$name=$current" && return 0
    fi
    for suite in $FALLBACK_SUITES; do
        add_suite "$suite" || continue
        if download "$name/$suite"; then log "$name: not in $SUITE; taken from $suite"; return 0; fi
    done
    return 1
}

# --- 1. the pinned packages ---------------------------------------------------------------------
declare -A PIN=()
ORDER=()
while read -r name version; do
    if [ -z "$name" ] || [ "${name:0:1}" = "#" ]; then continue; fi
    PIN[$name]=$version
    ORDER+=("$name")
done <"$PINNED"

apiext=$(candidate golang-k8s-apiextensions-apiserver-dev)
has_version golang-k8s-apiextensions-apiserver-dev "${PIN[golang-k8s-apiextensions-apiserver-dev]}" &&
    apiext=${PIN[golang-k8s-apiextensions-apiserver-dev]}
[ -n "$apiext" ] || unavailable "Debian $SUITE has no package golang-k8s-apiextensions-apiserver-dev"
upstream=${apiext#*:}; upstream=${upstream%-*}
[ "$upstream" = "$APIEXT_VERSION" ] ||
    unavailable "Debian $SUITE has golang-k8s-apiextensions-apiserver-dev $apiext, not $APIEXT_VERSION (update the pins in scripts/modern-apiserver/packages.pinned)"

todo=()
for name in "${ORDER[@]}"; do [ -e "$UNPACKED/$name" ] || todo+=("$name=${PIN[$name]}"); done
if [ "${#todo[@]}" -gt 0 ]; then
    log "downloading ${#todo[@]} pinned packages from $SUITE"
    download "${todo[@]}" || log "some pinned versions are gone; fetching package by package"
    unpack_new_debs
fi
missing_pkgs=()
for name in "${ORDER[@]}"; do
    [ -e "$UNPACKED/$name" ] && continue
    fetch_one "$name" "${PIN[$name]}" || missing_pkgs+=("$name")
done
unpack_new_debs

# The Go toolchain is not negotiable: without it nothing can be built.
GO_PKG=$(printf '%s\n' "${ORDER[@]}" | grep -E '^golang-1\.[0-9]+-go$' || true)
[ -n "$GO_PKG" ] || die "packages.pinned names no golang-1.NN-go"
GOROOT_DIR="$ROOT/usr/lib/go-$(sed -E 's/^golang-(1\.[0-9]+)-go$/\1/' <<<"$GO_PKG")"
for need in "$GO_PKG" "${GO_PKG%-go}-src" etcd-server; do
    [ -e "$UNPACKED/$need" ] || unavailable "Debian $SUITE no longer provides $need (pinned ${PIN[$need]:-?}); pin a newer one in scripts/modern-apiserver/packages.pinned"
done
[ -x "$GOROOT_DIR/bin/go" ] || unavailable "$GO_PKG unpacked without $GOROOT_DIR/bin/go"

# --- 2. GOPATH: the project's main + every library from the packages ----------------------------
SRC="$WORK/gopath"
mkdir -p "$SRC/src/kubecodegen.local/apiextensions-apiserver"
cp "$MAIN_GO" "$SRC/src/kubecodegen.local/apiextensions-apiserver/main.go"
export GOROOT="$GOROOT_DIR" GOPATH="$SRC:$ROOT/usr/share/gocode"
export GO111MODULE=off GOTOOLCHAIN=local GOPROXY=off GOFLAGS= CGO_ENABLED=0
export GOCACHE="$WORK/gocache" XDG_CONFIG_HOME="$WORK/xdg"   # Go's telemetry stays out of ~/.config
GO="$GOROOT/bin/go"
readonly TARGET="kubecodegen.local/apiextensions-apiserver"

unresolved_imports() {
    (cd "$SRC" && "$GO" list -e -deps -f '{{if .Error}}{{.ImportPath}}{{end}}' "$TARGET" 2>&8) || true
}

missing_imports=$(unresolved_imports)
if [ -n "$missing_imports" ] || [ "${#missing_pkgs[@]}" -gt 0 ]; then
    [ "${#missing_pkgs[@]}" -eq 0 ] || log "not found in $SUITE or $FALLBACK_SUITES: ${missing_pkgs[*]}"
    [ -z "$missing_imports" ] || log "imports no pinned package provides: $(tr '\n' ' ' <<<"$missing_imports" | cut -c1-400)"
    log "falling back to the full recursive Depends closure of golang-k8s-apiextensions-apiserver-dev"
    closure=$(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances golang-k8s-apiextensions-apiserver-dev 2>&8 |
        grep -E '^golang-[^ <>]*-dev$' | sort -u || true)
    for name in $closure; do
        [ -e "$UNPACKED/$name" ] && continue
        fetch_one "$name" "" || log "closure: $name not downloadable"
    done
    unpack_new_debs
    missing_imports=$(unresolved_imports)
    if [ -n "$missing_imports" ]; then
        first=$(sed -n 1p <<<"$missing_imports")
        if [ "${#missing_pkgs[@]}" -gt 0 ]; then
            unavailable "Debian $SUITE no longer provides ${missing_pkgs[0]} (pinned ${PIN[${missing_pkgs[0]}]}), and no package provides the Go import $first"
        fi
        unavailable "no Debian $SUITE package provides the Go import $first"
    fi
fi

# --- 3. go build --------------------------------------------------------------------------------
minor=$(cut -d. -f2 <<<"$K8S_VERSION")
ldflags="-s -w -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
ldflags+=" -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitTreeState=clean"
ldflags+=" -X k8s.io/component-base/version.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
STAGE="$CACHE_ROOT/.modern-stage.$$"
rm -rf "$STAGE"; mkdir -p "$STAGE"
trap 'rm -rf "$STAGE"' EXIT
log "go build with $("$GO" version | cut -d' ' -f3) (nice; several minutes on 2 cores)"
build_started=$SECONDS
if ! (cd "$SRC" && nice -n 10 timeout "$BUILD_TIMEOUT" "$GO" build -trimpath -ldflags "$ldflags" \
        -o "$STAGE/apiextensions-apiserver" "$TARGET") >&8 2>&1; then
    culprit=$(grep -oE '/usr/share/gocode/src/[^:]+' "$WORK/build.log" | tail -n 1 | sed 's|.*/usr/share/gocode/src/||' || true)
    unavailable "go build failed${culprit:+ in $culprit} (a sid library changed incompatibly?)"
fi
build_seconds=$((SECONDS - build_started))
"$STAGE/apiextensions-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION" ||
    die "the built binary does not report 'Kubernetes $K8S_VERSION'"

install -m 0755 "$ROOT/usr/bin/etcd" "$STAGE/etcd"
[ ! -x "$ROOT/usr/bin/etcdctl" ] || install -m 0755 "$ROOT/usr/bin/etcdctl" "$STAGE/etcdctl"
cp "$MAIN_GO" "$STAGE/main.go"
cat "$UNPACKED"/* | sort >"$STAGE/PACKAGES"
{
    printf 'apiextensions-apiserver %s (golang-k8s-apiextensions-apiserver-dev %s, Debian %s)\n' "$K8S_VERSION" "$apiext" "$SUITE"
    printf 'go: %s\n' "$("$GO" version)"
    printf 'etcd: %s\n' "$("$STAGE/etcd" --version | sed -n 1p)"
    printf 'packages: %s, %s MB downloaded\n' "$(wc -l <"$STAGE/PACKAGES")" "$(awk '{s += $3} END {printf "%.1f", s / 1e6}' "$STAGE/PACKAGES")"
    printf 'go build: %ss; total: %ss; built %s\n' "$build_seconds" "$((SECONDS - started))" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$STAGE/BUILD-INFO"

rm -rf "$DEST.old"
[ ! -e "$DEST" ] || mv "$DEST" "$DEST.old"
mv "$STAGE" "$DEST"
rm -rf "$DEST.old" "$UNAVAILABLE"
trap - EXIT
exec 8>&-
chmod -R u+w "$WORK" 2>/dev/null || true
rm -rf "$WORK"
sed 's/^/[modern-apiserver] /' "$DEST/BUILD-INFO" >&2
log "installed: $DEST"
