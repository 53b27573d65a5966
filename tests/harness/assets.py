"""Locate the etcd, etcdctl and API server binaries the test clusters run.

kube-apiserver and etcd are found by the runtime's envtest (`find_binaries`: ``TEST_ASSET_<NAME>``,
``$KUBEBUILDER_ASSETS/<name>``, the per-machine cache written by ``scripts/install-test-assets.sh``,
``PATH``), so the suite and users' envtest runs use one lookup. What stays here is the project's
own: the `Assets` record with its `ServerKind`, and the modern (v1.36, CRDs only) server, which
lives in a cache folder of its own and ignores ``KUBEBUILDER_ASSETS``.

A variable that is set but points at nothing usable is a configuration mistake and is reported as
such (never silently replaced by another binary); a binary that is simply absent lets the tests be
skipped outside CI.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kubecodegen_runtime.envtest.binaries import (
    CACHED_APISERVER_VERSION,
    BinariesMisconfiguredError,
    BinaryNotFoundError,
    binary_version,
    cache_dir,
    cached_apiserver_path,
    find_binaries,
    is_executable,
    locate,
    parse_version,
    which,
)

__all__ = [
    "CACHED_APISERVER_VERSION",
    "Assets",
    "AssetsMisconfiguredError",
    "AssetsNotFoundError",
    "ServerKind",
    "binary_version",
    "cache_dir",
    "cached_apiserver_path",
    "find_assets",
    "find_kubectl",
    "find_modern_assets",
    "parse_version",
]

INSTALL_HINT = "run `make test-assets` (or set KUBEBUILDER_ASSETS / TEST_ASSET_KUBE_APISERVER + TEST_ASSET_ETCD)"

#: The version `scripts/install-modern-apiserver.sh` builds: API machinery v1.36, CRDs only.
MODERN_APISERVER_VERSION = "v1.36.4"

MODERN_INSTALL_HINT = (
    "run `make test-assets` (scripts/install-modern-apiserver.sh), "
    "or set TEST_ASSET_MODERN_APISERVER (+ TEST_ASSET_MODERN_ETCD)"
)


class ServerKind(enum.Enum):
    """Which API server a cluster runs; the two differ in flags, APIs and bootstrap.

    ``KUBE`` is a full kube-apiserver (v1.20.2 by default): core/v1, RBAC, admission.
    ``MODERN`` is the v1.36 generic API server with apiextensions only: CustomResourceDefinitions
    and custom resources, no core/v1 (so no Namespace objects), no RBAC, no admission chain.
    """

    KUBE = "kube-apiserver"
    MODERN = "apiextensions-apiserver"


#: A binary the cluster needs is not installed anywhere the lookup searches.
AssetsNotFoundError = BinaryNotFoundError
#: An environment variable names a binary or folder that is missing or not executable.
AssetsMisconfiguredError = BinariesMisconfiguredError


@dataclass(frozen=True)
class Assets:
    """Absolute paths of the binaries one test cluster runs."""

    #: The API server binary: kube-apiserver, or for `ServerKind.MODERN` apiextensions-apiserver.
    kube_apiserver: Path
    etcd: Path
    #: Only `TestCluster.compact` needs it, so its absence is reported there, not at start.
    etcdctl: Path | None
    kind: ServerKind = ServerKind.KUBE
    #: kubectl of the server's version, for the tests that compare our client with it (None:
    #: not installed; those tests skip, see `find_kubectl`).
    kubectl: Path | None = None


def kubectl_cache_path(env: Mapping[str, str] | None = None) -> Path:
    """Where `scripts/install-test-assets.sh` puts the kubectl it builds beside kube-apiserver."""
    return cache_dir(env) / f"kubectl-{CACHED_APISERVER_VERSION}" / "kubectl"


def find_kubectl(env: Mapping[str, str] | None = None) -> Path | None:
    """kubectl: ``TEST_ASSET_KUBECTL``, then ``$KUBEBUILDER_ASSETS/kubectl``, then the cache.

    Never ``PATH``: a machine's own kubectl is of another version, and from 1.29 on it speaks
    WebSocket for exec where the comparison is about kubectl 1.20's SPDY. A variable naming no
    executable raises `AssetsMisconfiguredError`, like the other binaries.
    """
    env = os.environ if env is None else env
    explicit = env.get("TEST_ASSET_KUBECTL")
    if explicit:
        path = Path(explicit).expanduser()
        if not is_executable(path):
            raise AssetsMisconfiguredError(f"TEST_ASSET_KUBECTL={explicit} is not an executable file")
        return path.absolute()
    folder = env.get("KUBEBUILDER_ASSETS")
    candidates = [Path(folder).expanduser() / "kubectl"] if folder else []
    candidates.append(kubectl_cache_path(env))
    return next((c.absolute() for c in candidates if is_executable(c)), None)


def modern_cache_path(env: Mapping[str, str] | None = None) -> Path:
    """The folder `scripts/install-modern-apiserver.sh` fills (server, etcd 3.5, etcdctl)."""
    return cache_dir(env) / f"modern-apiserver-{MODERN_APISERVER_VERSION}"


def modern_unavailable_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the installer records, in one line, why the modern server could not be built."""
    folder = modern_cache_path(env)
    return folder.with_name(folder.name + ".unavailable")


def find_assets(env: Mapping[str, str] | None = None) -> Assets:
    """Find kube-apiserver, etcd and (optionally) etcdctl, or say precisely what is missing."""
    found = find_binaries(env=os.environ if env is None else env, hint=INSTALL_HINT)
    return Assets(
        kube_apiserver=found.kube_apiserver,
        etcd=found.etcd,
        etcdctl=found.etcdctl,
        kubectl=find_kubectl(env),
    )


def find_modern_assets(env: Mapping[str, str] | None = None) -> Assets:
    """Find the modern (v1.36, CRDs only) API server and the etcd it runs on.

    ``TEST_ASSET_MODERN_APISERVER`` / ``TEST_ASSET_MODERN_ETCD`` win over the cache; etcd falls
    back to the cached etcd 3.5, then PATH. When nothing is built, the error carries the
    installer's recorded reason (e.g. the Debian package sid no longer has), so a skip says why.
    """
    env = os.environ if env is None else env
    cached = modern_cache_path(env)
    if env.get("SKIP_MODERN_APISERVER", "") == "1" and not env.get("TEST_ASSET_MODERN_APISERVER"):
        raise AssetsNotFoundError("SKIP_MODERN_APISERVER=1: the modern API server is switched off")
    apiserver, _ = locate(
        "apiextensions-apiserver",
        "TEST_ASSET_MODERN_APISERVER",
        env=env,
        candidates=(cached / "apiextensions-apiserver",),
        kubebuilder_assets=False,
    )
    if apiserver is None:
        unavailable = modern_unavailable_path(env)
        try:
            reason = unavailable.read_text(encoding="utf-8").strip()
        except OSError:
            reason = ""
        if reason:
            raise AssetsNotFoundError(reason)
        raise AssetsNotFoundError(
            f"modern API server {MODERN_APISERVER_VERSION} not built "
            f"(looked at {cached / 'apiextensions-apiserver'} and PATH); {MODERN_INSTALL_HINT}"
        )
    explicit_etcd = env.get("TEST_ASSET_MODERN_ETCD")
    etcd: Path | None
    if explicit_etcd:
        etcd = Path(explicit_etcd).expanduser()
        if not is_executable(etcd):
            raise AssetsMisconfiguredError(
                f"TEST_ASSET_MODERN_ETCD={explicit_etcd} is not an executable file"
            )
    elif is_executable(cached / "etcd"):
        etcd = cached / "etcd"
    else:
        etcd, _ = locate("etcd", "TEST_ASSET_ETCD", env=env)
    if etcd is None:
        raise AssetsNotFoundError(f"no etcd for the modern API server; {MODERN_INSTALL_HINT}")
    etcdctl = etcd.parent / "etcdctl"
    return Assets(
        kube_apiserver=apiserver,
        etcd=etcd.absolute(),
        etcdctl=etcdctl.absolute() if is_executable(etcdctl) else which("etcdctl", env),
        kind=ServerKind.MODERN,
    )
