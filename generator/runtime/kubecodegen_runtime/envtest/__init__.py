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
