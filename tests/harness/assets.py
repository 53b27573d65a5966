"""Locate the etcd, etcdctl and kube-apiserver binaries the test cluster runs.

The lookup honours controller-runtime envtest's variables so that someone with other binaries
(a newer Kubernetes) runs the same suite against them. For each binary the most specific source
wins, as in envtest: ``TEST_ASSET_<NAME>``, then ``$KUBEBUILDER_ASSETS/<name>``, then (for
kube-apiserver) the per-machine cache written by ``scripts/install-test-assets.sh``, then ``PATH``.

A variable that is set but points at nothing usable is a configuration mistake and is reported as
such (never silently replaced by another binary); a binary that is simply absent lets the tests be
skipped outside CI.
"""

from __future__ import annotations

import enum
import functools
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: The Kubernetes version `scripts/install-test-assets.sh` builds and caches.
CACHED_APISERVER_VERSION = "v1.20.2"

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


class AssetsNotFoundError(Exception):
    """A binary the cluster needs is not installed anywhere the harness looks."""


class AssetsMisconfiguredError(Exception):
    """An environment variable names a binary or folder that is missing or not executable."""


@dataclass(frozen=True)
class Assets:
    """Absolute paths of the binaries one test cluster runs."""

    #: The API server binary: kube-apiserver, or for `ServerKind.MODERN` apiextensions-apiserver.
    kube_apiserver: Path
    etcd: Path
    #: Only `TestCluster.compact` needs it, so its absence is reported there, not at start.
    etcdctl: Path | None
    kind: ServerKind = ServerKind.KUBE


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-machine folder holding built binaries, outside any repository."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path(env.get("HOME") or Path.home()) / ".cache"
    return base / "kubecodegen"


def cached_apiserver_path(env: Mapping[str, str] | None = None) -> Path:
    """Where `scripts/install-test-assets.sh` installs kube-apiserver, keyed by version."""
    return cache_dir(env) / f"kube-apiserver-{CACHED_APISERVER_VERSION}" / "kube-apiserver"


def modern_cache_path(env: Mapping[str, str] | None = None) -> Path:
    """The folder `scripts/install-modern-apiserver.sh` fills (server, etcd 3.5, etcdctl)."""
    return cache_dir(env) / f"modern-apiserver-{MODERN_APISERVER_VERSION}"


def modern_unavailable_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the installer records, in one line, why the modern server could not be built."""
    folder = modern_cache_path(env)
    return folder.with_name(folder.name + ".unavailable")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _which(name: str, env: Mapping[str, str]) -> Path | None:
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    return Path(found).absolute() if found else None


def _locate(
    name: str,
    variable: str,
    env: Mapping[str, str],
    extra_candidates: tuple[Path, ...] = (),
) -> Path | None:
    explicit = env.get(variable)
    if explicit:
        path = Path(explicit).expanduser()
        if not _is_executable(path):
            raise AssetsMisconfiguredError(f"{variable}={explicit} is not an executable file")
        return path.absolute()
    folder = env.get("KUBEBUILDER_ASSETS")
    if folder:
        path = Path(folder).expanduser() / name
        if _is_executable(path):
            return path.absolute()
    for candidate in extra_candidates:
        if _is_executable(candidate):
            return candidate.absolute()
    return _which(name, env)


def find_assets(env: Mapping[str, str] | None = None) -> Assets:
    """Find kube-apiserver, etcd and (optionally) etcdctl, or say precisely what is missing."""
    env = os.environ if env is None else env
    folder = env.get("KUBEBUILDER_ASSETS")
    if folder:
        base = Path(folder).expanduser()
        if not base.is_dir():
            raise AssetsMisconfiguredError(f"KUBEBUILDER_ASSETS={folder} is not a folder")
        for name, variable in (
            ("kube-apiserver", "TEST_ASSET_KUBE_APISERVER"),
            ("etcd", "TEST_ASSET_ETCD"),
        ):
            if not env.get(variable) and not _is_executable(base / name):
                raise AssetsMisconfiguredError(
                    f"KUBEBUILDER_ASSETS={folder} holds no executable '{name}' (and {variable} is not set)"
                )

    apiserver = _locate(
        "kube-apiserver", "TEST_ASSET_KUBE_APISERVER", env, (cached_apiserver_path(env),)
    )
    etcd = _locate("etcd", "TEST_ASSET_ETCD", env)
    missing = [
        f"{name} (looked at {where})"
        for name, path, where in (
            ("kube-apiserver", apiserver, f"{cached_apiserver_path(env)} and PATH"),
            ("etcd", etcd, "PATH"),
        )
        if path is None
    ]
    if missing or apiserver is None or etcd is None:
        raise AssetsNotFoundError(f"missing {', '.join(missing)}; {INSTALL_HINT}")

    etcdctl = _locate("etcdctl", "TEST_ASSET_ETCDCTL", env, (etcd.parent / "etcdctl",))
    return Assets(kube_apiserver=apiserver, etcd=etcd, etcdctl=etcdctl)


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
    apiserver = _locate(
        "apiextensions-apiserver",
        "TEST_ASSET_MODERN_APISERVER",
        {k: v for k, v in env.items() if k != "KUBEBUILDER_ASSETS"},
        (cached / "apiextensions-apiserver",),
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
        if not _is_executable(etcd):
            raise AssetsMisconfiguredError(
                f"TEST_ASSET_MODERN_ETCD={explicit_etcd} is not an executable file"
            )
    elif _is_executable(cached / "etcd"):
        etcd = cached / "etcd"
    else:
        etcd = _locate("etcd", "TEST_ASSET_ETCD", env)
    if etcd is None:
        raise AssetsNotFoundError(f"no etcd for the modern API server; {MODERN_INSTALL_HINT}")
    etcdctl = etcd.parent / "etcdctl"
    return Assets(
        kube_apiserver=apiserver,
        etcd=etcd.absolute(),
        etcdctl=etcdctl.absolute() if _is_executable(etcdctl) else _which("etcdctl", env),
        kind=ServerKind.MODERN,
    )


_VERSION_RE = re.compile(r"\bv?(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[int, int, int]:
    """Parse `Kubernetes v1.20.2` (or `v1.31.0-rc.1`, ...) into a comparable tuple."""
    match = _VERSION_RE.search(text)
    if match is None:
        raise ValueError(f"no version number in {text!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


@functools.lru_cache(maxsize=8)
def binary_version(binary: Path) -> tuple[int, int, int]:
    """Ask a kube-apiserver binary its version, to pick the flags that version accepts."""
    result = subprocess.run(
        [str(binary), "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PATH": os.defpath},
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise AssetsMisconfiguredError(
            f"{binary} --version failed (exit {result.returncode}): {output}"
        )
    try:
        return parse_version(output)
    except ValueError as exc:
        raise AssetsMisconfiguredError(
            f"{binary} --version printed no version: {output!r}"
        ) from exc
