#!/usr/bin/env bash
# Provide the binaries the real-cluster tests need (tests/harness):
#   * etcd + etcdctl   from Debian (etcd-server, etcd-client), installed with apt only if missing;
#   * kube-apiserver   v1.20.2, built ONCE per machine from Debian bookworm's `kubernetes` source
#                      package and cached outside the repository, keyed by version;
#   * kubectl          v1.20.2, from the same source in the same build (the exec comparison test,
#                      tests/integration/test_exec_vs_kubectl.py, runs the real kubectl); cached in
#                      its own folder, so a machine whose cache predates it builds only kubectl.
# No registry ships kube-apiserver, so building it is the only way on these machines (see
# docs/test-cluster.md). Go 1.19 from bookworm is used with the vendored reflect2 swapped for
# Debian's reflect2 1.0.2: the vendored 1.0.1 predates Go 1.18 and makes the server crash.
#
# Rerunning is cheap and safe: each step checks first. The build happens in a temporary folder
# and the binary is moved into the cache with one rename, so an interrupted run never leaves a
# half-written binary behind. The source download uses a PRIVATE apt configuration (its own
# sources list, package lists and cache under the temporary folder), so the machine's apt sources
# and package lists are never modified, not even for a moment.
#
# Bring your own binaries (nothing is installed or built):
#   KUBEBUILDER_ASSETS=<dir holding kube-apiserver and etcd>
#   TEST_ASSET_KUBE_APISERVER=<file>  and/or  TEST_ASSET_ETCD=<file>  and/or  TEST_ASSET_KUBECTL=<file>
#   (an own kube-apiserver also means no kubectl build: kubectl then comes from TEST_ASSET_KUBECTL)
set -euo pipefail

readonly K8S_VERSION="v1.20.2"
readonly SRC_PACKAGE="kubernetes"
readonly CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kubecodegen"
readonly DEST_DIR="$CACHE_ROOT/kube-apiserver-$K8S_VERSION"
readonly DEST="$DEST_DIR/kube-apiserver"
readonly KUBECTL_DIR="$CACHE_ROOT/kubectl-$K8S_VERSION"
readonly KUBECTL_DEST="$KUBECTL_DIR/kubectl"
# The tarball scripts/build-clientgo-bench.sh keeps; used when present instead of a download.
readonly SOURCE_CACHE="$CACHE_ROOT/sources/kubernetes-$K8S_VERSION"
readonly GO_BIN_DIR="/usr/lib/go-1.19/bin"
readonly REFLECT2_SRC="/usr/share/gocode/src/github.com/modern-go/reflect2"

log() { printf '[test-assets] %s\n' "$*"; }
die() { printf '[test-assets] ERROR: %s\n' "$*" >&2; exit 1; }

usable() { [ -f "$1" ] && [ -x "$1" ]; }

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "root is needed to run: $* (rerun as root, or install it yourself)"
    fi
}

# Install the named Debian packages that are not installed yet; refresh the package lists only
# when the first attempt fails (stale lists on a fresh machine).
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends)
    if ! as_root "${install[@]}" "${missing[@]}"; then
        log "apt-get install failed; refreshing package lists and retrying"
        as_root apt-get update -q
        as_root "${install[@]}" "${missing[@]}"
    fi
}

apiserver_is_wanted_version() {
    usable "$1" && "$1" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION"
}

kubectl_is_wanted_version() {
    usable "$1" && "$1" version --client --short 2>/dev/null | grep -qx "Client Version: $K8S_VERSION"
}

# --- 1. binaries supplied by the user -------------------------------------------------------
need_etcd=1
need_apiserver=1
need_kubectl=1
if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
    usable "$KUBEBUILDER_ASSETS/kube-apiserver" && usable "$KUBEBUILDER_ASSETS/etcd" ||
        die "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS must hold executable 'kube-apiserver' and 'etcd'"
    log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS holds kube-apiserver and etcd: nothing to install"
    usable "$KUBEBUILDER_ASSETS/kubectl" ||
        log "(no kubectl there: the kubectl comparison tests will be skipped)"
    exit 0
fi
if [ -n "${TEST_ASSET_KUBE_APISERVER:-}" ]; then
    usable "$TEST_ASSET_KUBE_APISERVER" ||
        die "TEST_ASSET_KUBE_APISERVER=$TEST_ASSET_KUBE_APISERVER is not an executable file"
    log "using TEST_ASSET_KUBE_APISERVER=$TEST_ASSET_KUBE_APISERVER: no build"
    need_apiserver=0
fi
if [ -n "${TEST_ASSET_ETCD:-}" ]; then
    usable "$TEST_ASSET_ETCD" || die "TEST_ASSET_ETCD=$TEST_ASSET_ETCD is not an executable file"
    log "using TEST_ASSET_ETCD=$TEST_ASSET_ETCD: etcd is not installed"
    need_etcd=0
fi
if [ -n "${TEST_ASSET_KUBECTL:-}" ]; then
    usable "$TEST_ASSET_KUBECTL" || die "TEST_ASSET_KUBECTL=$TEST_ASSET_KUBECTL is not an executable file"
    log "using TEST_ASSET_KUBECTL=$TEST_ASSET_KUBECTL: kubectl is not built"
    need_kubectl=0
elif [ "$need_apiserver" = 0 ]; then
    # Own binaries mean no source build at all; kubectl then comes from TEST_ASSET_KUBECTL or an
    # earlier build in the cache (the kubectl comparison tests skip without one).
    log "own kube-apiserver: kubectl is not built either (set TEST_ASSET_KUBECTL to compare with kubectl)"
    need_kubectl=0
fi

# --- 2. etcd ----------------------------------------------------------------------------------
if [ "$need_etcd" = 1 ]; then
    if command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1; then
        log "etcd found: $(command -v etcd) (etcdctl: $(command -v etcdctl))"
    else
        apt_install etcd-server etcd-client
        log "etcd installed: $(command -v etcd)"
    fi
fi

[ "$need_apiserver" = 1 ] || [ "$need_kubectl" = 1 ] || exit 0

# --- 3. kube-apiserver and kubectl ----------------------------------------------------------
mkdir -p "$CACHE_ROOT"
# Two concurrent runs (two `make test`s) must not build twice or race on the cache.
exec 9>"$CACHE_ROOT/.install.lock"
if ! flock -n 9; then
    log "another install is running; waiting for it to finish"
    flock 9
fi

# Each binary is checked on its own: a cache holding only kube-apiserver (made before kubectl
# was added here) builds only kubectl.
targets=()
if [ "$need_apiserver" = 1 ]; then
    if apiserver_is_wanted_version "$DEST"; then
        log "kube-apiserver $K8S_VERSION cached: $DEST"
    else
        targets+=(cmd/kube-apiserver)
    fi
fi
if [ "$need_kubectl" = 1 ]; then
    if kubectl_is_wanted_version "$KUBECTL_DEST"; then
        log "kubectl $K8S_VERSION cached: $KUBECTL_DEST"
    else
        targets+=(cmd/kubectl)
    fi
fi
[ "${#targets[@]}" -gt 0 ] || exit 0

log "not cached yet: ${targets[*]} $K8S_VERSION; building once (several minutes)"
apt_install golang-go golang-github-modern-go-reflect2-dev rsync make ca-certificates
[ -x "$GO_BIN_DIR/go" ] || die "$GO_BIN_DIR/go is missing although golang-go is installed"
[ -d "$REFLECT2_SRC" ] || die "$REFLECT2_SRC is missing although golang-github-modern-go-reflect2-dev is installed"

# Same filesystem as the cache, so the final `mv` is an atomic rename.
WORK="$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")"
cleanup() {
    local rc=$?
    chmod -R u+w "$WORK" 2>/dev/null || true
    rm -rf "$WORK"
    [ "$rc" = 0 ] || log "failed (exit $rc); temporary build folder removed, the cache is unchanged"
}
# The build runs in its own process group (see below) so that a signal to this script can stop
# all of it at once: bash would otherwise run the trap only after `make` finished by itself.
BUILD_PID=""
on_signal() {
    if [ -n "$BUILD_PID" ]; then
        kill -TERM -- "-$BUILD_PID" 2>/dev/null || true
        wait "$BUILD_PID" 2>/dev/null || true
    fi
    exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# The Debian archive this machine already uses (its configured mirror), so that the
# source comes from the same place as every other package here.
debian_mirror() {
    local uri
    uri=$(grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
          | awk '{print $2}' | grep -E '/debian/?$' | head -n 1)
    if [ -z "$uri" ]; then
        uri=$(grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list 2>/dev/null \
              | awk '{print $2}' | grep -E '/debian/?$' | head -n 1)
    fi
    [ -n "$uri" ] || die "no Debian archive found in the machine's apt sources"
    printf '%s' "$uri"
}

# Download the source package into $WORK/download through a private apt configuration.
download_source() {
    local mirror apt_dir="$WORK/apt"
    mirror=$(debian_mirror)
    log "fetching the '$SRC_PACKAGE' source package from Debian bookworm (private apt configuration)"
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
    "${apt_private[@]}" update
    (cd "$WORK/download" && "${apt_private[@]}" source --download-only "$SRC_PACKAGE")
    rm -rf "$apt_dir"
}

mkdir -p "$WORK/download"
# The same tarball, if scripts/build-clientgo-bench.sh already keeps it: no second download.
shopt -s nullglob
cached_origs=("$SOURCE_CACHE"/"${SRC_PACKAGE}"_*.orig.tar.*)
shopt -u nullglob
if [ "${#cached_origs[@]}" = 1 ]; then
    log "source tarball already cached: ${cached_origs[0]}"
    cp "${cached_origs[0]}" "$WORK/download/"
else
    download_source
fi

shopt -s nullglob
origs=("$WORK"/download/"${SRC_PACKAGE}"_*.orig.tar.*)
shopt -u nullglob
[ "${#origs[@]}" = 1 ] || die "expected one ${SRC_PACKAGE}_*.orig.tar.* in the download, found ${#origs[@]}"
log "unpacking $(basename "${origs[0]}")"
mkdir -p "$WORK/src"
tar -xf "${origs[0]}" -C "$WORK/src" --strip-components=1
rm -rf "$WORK/download"
SRC="$WORK/src"
for target in "${targets[@]}"; do
    [ -d "$SRC/$target" ] || die "the unpacked source has no $target"
done

log "replacing vendored github.com/modern-go/reflect2 (1.0.1) with Debian's (Go >= 1.18 safe)"
rm -rf "$SRC/vendor/github.com/modern-go/reflect2"
cp -r "$REFLECT2_SRC" "$SRC/vendor/github.com/modern-go/reflect2"
rm -f "$SRC/vendor/github.com/modern-go/reflect2/go.mod" "$SRC/vendor/github.com/modern-go/reflect2/go.sum"

log "building ${targets[*]} with $("$GO_BIN_DIR/go" version) (GOPATH mode, as debian/rules does)"
mkdir -p "$SRC/.go/src/k8s.io"
ln -s ../../.. "$SRC/.go/src/k8s.io/kubernetes"
build_start=$SECONDS
(
    cd "$SRC"
    export PATH="$GO_BIN_DIR:$PATH"
    export GOPATH="$SRC/.go" GOCACHE="$WORK/gocache" CGO_ENABLED=0
    export KUBE_GIT_VERSION="$K8S_VERSION" KUBE_GIT_TREE_STATE="clean"
    # A background job of a non-interactive shell is no group leader, so setsid does not fork:
    # BUILD_PID is the new process group's id.
    exec setsid nice -n 10 make WHAT="${targets[*]}"
) &
BUILD_PID=$!
wait "$BUILD_PID"
BUILD_PID=""
log "build finished in $((SECONDS - build_start))s"

# Both are checked before either is installed, then each lands with one rename.
for target in "${targets[@]}"; do
    built="$SRC/_output/bin/${target#cmd/}"
    case "$target" in
    cmd/kube-apiserver)
        apiserver_is_wanted_version "$built" ||
            die "the built kube-apiserver does not report 'Kubernetes $K8S_VERSION': $("$built" --version 2>&1 || true)" ;;
    cmd/kubectl)
        kubectl_is_wanted_version "$built" ||
            die "the built kubectl does not report 'Client Version: $K8S_VERSION': $("$built" version --client --short 2>&1 || true)" ;;
    esac
done
for target in "${targets[@]}"; do
    name="${target#cmd/}"
    case "$target" in
    cmd/kube-apiserver) dest_dir="$DEST_DIR" ;;
    cmd/kubectl) dest_dir="$KUBECTL_DIR" ;;
    esac
    mkdir -p "$dest_dir"
    install -m 0755 "$SRC/_output/bin/$name" "$dest_dir/.$name.partial"
    mv -f "$dest_dir/.$name.partial" "$dest_dir/$name"
    log "$name $K8S_VERSION installed: $dest_dir/$name"
done
