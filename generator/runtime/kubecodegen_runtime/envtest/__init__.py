"""envtest for Python: a real etcd + kube-apiserver on loopback for a user's tests.

Like controller-runtime's envtest: `Environment` starts the two binaries (found through
``TEST_ASSET_*``, ``KUBEBUILDER_ASSETS``, kubecodegen's cache or ``PATH``; see `find_binaries`)
with a private PKI, RBAC and free ports, installs CRDs from files, and hands out `ClientConfig`
values for an admin and for restricted users::

    from kubecodegen_runtime.envtest import Environment

    with Environment(crds=["config/crd/bases"]) as env:
        clientset = Clientset(env.config)
        ...

The pytest plugin (`pytest_plugin`, registered automatically) offers the fixtures ``envtest``,
``envtest_config`` and ``envtest_namespace``. Certificates need ``cryptography``: install
``kubecodegen-runtime[envtest]``. See docs/envtest.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import APIError
    from .binaries import (
        Binaries,
        BinariesMisconfiguredError,
        BinaryNotFoundError,
        find_binaries,
    )
    from .crds import CRD, CRDFileError, CRDInstallError, load_crds
    from .environment import Environment, StartError, unique_name
    from .flags import Layout

#: Public name -> the submodule defining it. Loaded on first access, so that the pytest plugin
#: (a submodule, imported by every pytest run where the runtime is installed) costs nothing.
_EXPORTS = {
    "APIError": "api",
    "Binaries": "binaries",
    "BinariesMisconfiguredError": "binaries",
    "BinaryNotFoundError": "binaries",
    "find_binaries": "binaries",
    "CRD": "crds",
    "CRDFileError": "crds",
    "CRDInstallError": "crds",
    "load_crds": "crds",
    "Environment": "environment",
    "StartError": "environment",
    "unique_name": "environment",
    "Layout": "flags",
}

__all__ = [
    "CRD",
    "APIError",
    "Binaries",
    "BinariesMisconfiguredError",
    "BinaryNotFoundError",
    "CRDFileError",
    "CRDInstallError",
    "Environment",
    "Layout",
    "StartError",
    "find_binaries",
    "load_crds",
    "unique_name",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
