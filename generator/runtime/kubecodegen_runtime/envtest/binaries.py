"""Find the kube-apiserver, etcd and etcdctl binaries an `Environment` runs.

The lookup follows controller-runtime's envtest so that a folder laid out by ``setup-envtest``
works unchanged. For each binary the most specific source wins:

1. the explicit argument (``Environment(kube_apiserver=...)``);
2. ``TEST_ASSET_KUBE_APISERVER`` / ``TEST_ASSET_ETCD`` / ``TEST_ASSET_ETCDCTL``;
3. ``$KUBEBUILDER_ASSETS/<name>``;
4. kubecodegen's own cached build (``scripts/install-test-assets.sh`` writes kube-apiserver to
   ``~/.cache/kubecodegen/kube-apiserver-v1.20.2/``); etcdctl is also looked for next to etcd;
5. ``PATH`` (Debian's ``etcd-server`` / ``etcd-client`` packages install there).

A source that is configured but unusable (a variable naming a missing file, a
``KUBEBUILDER_ASSETS`` folder without etcd) is a configuration mistake and raises
`BinariesMisconfiguredError` instead of silently falling through to another binary. A binary
found nowhere raises `BinaryNotFoundError` naming every place searched. Nothing here needs
``cryptography``: the lookup works (and can be tested) without the ``envtest`` extra.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: The Kubernetes version kubecodegen's ``scripts/install-test-assets.sh`` builds and caches.
CACHED_APISERVER_VERSION = "v1.20.2"

DEFAULT_HINT = (
    "set KUBEBUILDER_ASSETS to a folder holding kube-apiserver, etcd and etcdctl "
    "(`setup-envtest use -p path` prints one), or TEST_ASSET_KUBE_APISERVER and TEST_ASSET_ETCD"
)


class BinaryNotFoundError(FileNotFoundError):
    """A binary the environment needs is not installed anywhere the lookup searches."""


class BinariesMisconfiguredError(ValueError):
    """An argument or environment variable names a binary or folder that is unusable."""


@dataclass(frozen=True)
class Binaries:
    """Absolute paths of the binaries one environment runs."""

    kube_apiserver: Path
    etcd: Path
    #: Only `Environment.compact` needs it, so its absence is reported there, not at start.
    etcdctl: Path | None


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """kubecodegen's per-machine folder of built binaries (``$XDG_CACHE_HOME/kubecodegen``)."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path(env.get("HOME") or Path.home()) / ".cache"
    return base / "kubecodegen"


def cached_apiserver_path(env: Mapping[str, str] | None = None) -> Path:
    """Where ``scripts/install-test-assets.sh`` installs kube-apiserver, keyed by version."""
    return cache_dir(env) / f"kube-apiserver-{CACHED_APISERVER_VERSION}" / "kube-apiserver"


def is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def which(name: str, env: Mapping[str, str]) -> Path | None:
    """``name`` on the ``PATH`` of ``env`` (not necessarily this process's PATH)."""
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    return Path(found).absolute() if found else None


def locate(
    name: str,
    variable: str,
    *,
    env: Mapping[str, str],
    explicit: str | os.PathLike[str] | None = None,
    argument: str | None = None,
    candidates: Sequence[Path] = (),
    kubebuilder_assets: bool = True,
) -> tuple[Path | None, list[str]]:
    """One binary's path (or ``None``) and the places searched, in order, for the error.

    The order of the module docstring: ``explicit`` (named ``argument`` in errors), ``variable``,
    ``$KUBEBUILDER_ASSETS/name`` (unless ``kubebuilder_assets`` is false), ``candidates``,
    ``PATH``. An explicit path or variable naming no executable raises
    `BinariesMisconfiguredError`.
    """
    searched: list[str] = []
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not is_executable(path):
            raise BinariesMisconfiguredError(
                f"{argument or name}={str(explicit)!r} is not an executable file"
            )
        return path.absolute(), searched
    if argument is not None:
        searched.append(f"argument {argument} (not given)")
    value = env.get(variable)
    if value:
        path = Path(value).expanduser()
        if not is_executable(path):
            raise BinariesMisconfiguredError(f"{variable}={value} is not an executable file")
        return path.absolute(), searched
    searched.append(f"${variable} (not set)")
    folder = env.get("KUBEBUILDER_ASSETS") if kubebuilder_assets else None
    if folder:
        path = Path(folder).expanduser() / name
        if is_executable(path):
            return path.absolute(), searched
        searched.append(str(path))
    elif kubebuilder_assets:
        searched.append("$KUBEBUILDER_ASSETS (not set)")
    for candidate in candidates:
        if is_executable(candidate):
            return candidate.absolute(), searched
        searched.append(str(candidate))
    found = which(name, env)
    searched.append(f"PATH ({env.get('PATH', os.defpath)})")
    return found, searched


def _check_kubebuilder_assets(
    env: Mapping[str, str], given: Mapping[str, str | os.PathLike[str] | None]
) -> None:
    """A ``KUBEBUILDER_ASSETS`` folder must hold what it is used for (setup-envtest's layout)."""
    folder = env.get("KUBEBUILDER_ASSETS")
    if not folder:
        return
    base = Path(folder).expanduser()
    if not base.is_dir():
        raise BinariesMisconfiguredError(f"KUBEBUILDER_ASSETS={folder} is not a folder")
    for name, variable in (
        ("kube-apiserver", "TEST_ASSET_KUBE_APISERVER"),
        ("etcd", "TEST_ASSET_ETCD"),
    ):
        if given.get(name) is None and not env.get(variable) and not is_executable(base / name):
            raise BinariesMisconfiguredError(
                f"KUBEBUILDER_ASSETS={folder} holds no executable '{name}' (and {variable} is not set)"
            )


def find_binaries(
    kube_apiserver: str | os.PathLike[str] | None = None,
    etcd: str | os.PathLike[str] | None = None,
    etcdctl: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    hint: str = DEFAULT_HINT,
) -> Binaries:
    """Find kube-apiserver, etcd and (optionally) etcdctl, or say precisely what is missing.

    ``env`` replaces ``os.environ`` (tests pass a dictionary); ``hint`` ends the not-found
    message (a project can say how *it* installs the binaries).
    """
    env = os.environ if env is None else env
    _check_kubebuilder_assets(env, {"kube-apiserver": kube_apiserver, "etcd": etcd})
    apiserver_path, apiserver_searched = locate(
        "kube-apiserver",
        "TEST_ASSET_KUBE_APISERVER",
        env=env,
        explicit=kube_apiserver,
        argument="kube_apiserver",
        candidates=(cached_apiserver_path(env),),
    )
    etcd_path, etcd_searched = locate(
        "etcd", "TEST_ASSET_ETCD", env=env, explicit=etcd, argument="etcd"
    )
    missing = [
        f"{name} (looked at {', '.join(searched)})"
        for name, path, searched in (
            ("kube-apiserver", apiserver_path, apiserver_searched),
            ("etcd", etcd_path, etcd_searched),
        )
        if path is None
    ]
    if missing or apiserver_path is None or etcd_path is None:
        raise BinaryNotFoundError(f"missing {'; '.join(missing)}; {hint}")
    etcdctl_path, _ = locate(
        "etcdctl",
        "TEST_ASSET_ETCDCTL",
        env=env,
        explicit=etcdctl,
        argument="etcdctl",
        candidates=(etcd_path.parent / "etcdctl",),
    )
    return Binaries(kube_apiserver=apiserver_path, etcd=etcd_path, etcdctl=etcdctl_path)


_VERSION_RE = re.compile(r"\bv?(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[int, int, int]:
    """Parse ``Kubernetes v1.20.2`` (or ``v1.31.0-rc.1``, ...) into a comparable tuple."""
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
        raise BinariesMisconfiguredError(
            f"{binary} --version failed (exit {result.returncode}): {output}"
        )
    try:
        return parse_version(output)
    except ValueError as exc:
        raise BinariesMisconfiguredError(f"{binary} --version printed no version: {output!r}") from exc
