"""The two backends every conformance scenario runs on: the real kube-apiserver 1.20 and the fake.

A scenario only sees a :class:`Backend`: a typed clientset ``cs`` of ``kube_v1_20``, a factory
``acs()`` of async clientsets over the same store, a clientset ``crs`` of the suite's own
custom-resource package (``tests/conformance/crds``) and a fresh ``namespace`` created through
the API. Both builders work without pytest, so the benchmark (``benchmarks/fake_conformance.py``)
runs the very same scenarios.

The real side raises the client-side rate limit: scenarios write dozens of objects in a row, and
client-go's default of 5 requests per second would time the limiter, not the server.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import importlib
import io
import itertools
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.generated_packages import import_reference

CRDS = Path(__file__).resolve().parent / "crds"
CR_PACKAGE = "conf_widgets"
CR_GROUP = "conformance.kubecodegen.test"
CRD_NAMES = ("widgets." + CR_GROUP,)
QPS = 10_000.0

kube: ModuleType = import_reference("kube_v1_20")
#: The spec of the release the real backend's kube-apiserver runs (that of :data:`kube`).
CLUSTER_SPEC = "builtin:v1.20"

_cr_module: ModuleType | None = None


def cr_package() -> ModuleType:
    """The CR package, generated once per process with ``kubecodegen generate --crd`` and imported.

    It is generated over the spec of the release the real backend runs (``builtin:v1.20``,
    :data:`CLUSTER_SPEC`), not the default one: its fake follows the package's
    ``kubernetes_version``, and a CR package of the default spec (v1.35) would be compared
    with 1.35's server-side apply against a 1.20 server."""
    global _cr_module
    if _cr_module is None:
        out = Path(tempfile.mkdtemp(prefix="kubecodegen-conformance-"))
        atexit.register(shutil.rmtree, out, True)
        from kubecodegen.cli import main

        # "wrote N files" and the warning that 1.20's ObjectMeta.clusterName has no place in
        # the runtime's meta/v1: noise in reports
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["generate", "--spec", CLUSTER_SPEC, "--crd", str(CRDS), "--group", CR_GROUP,
                  "--package", CR_PACKAGE, "--out", str(out)],
                 standalone_mode=False)
        sys.path.insert(0, str(out))
        _cr_module = importlib.import_module(CR_PACKAGE)
    return _cr_module


_counter = itertools.count()


@dataclass
class Backend:
    """What a scenario may use; ``name`` is ``"kube"`` or ``"fake"`` (scenarios must not branch
    on it: it is there for reports only)."""

    name: str
    cs: Any
    acs: Callable[[], Any]
    make_crs: Callable[[], Any] = field(repr=False)
    namespace: str
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _crs: Any = field(default=None, repr=False)

    @property
    def crs(self) -> Any:
        """The CR package's clientset, made on first use (most scenarios never need it)."""
        if self._crs is None:
            self._crs = self.make_crs()
        return self._crs

    def unique(self, hint: str = "o") -> str:
        """A DNS-1123 name unique in this process (for cluster-scoped objects and namespaces)."""
        return f"{hint}-{next(_counter)}-{uuid.uuid4().hex[:6]}"

    def new_namespace(self, hint: str = "ns") -> str:
        """Another fresh namespace, created through the API (for cross-namespace scenarios)."""
        return create_namespace(self.cs, self.unique(hint))

    def close(self) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()


def create_namespace(cs: Any, name: str) -> str:
    from kube_v1_20.models import core_v1, meta_v1

    cs.core_v1.namespaces().create(core_v1.Namespace(metadata=meta_v1.ObjectMeta(name=name)))
    return name


# ----- the real server ------------------------------------------------------------------------


@dataclass
class _RealSession:
    cs: Any
    crs: Any
    config: Any


_real_sessions: dict[str, _RealSession] = {}


def _install_crds(cs: Any) -> None:
    """Create the suite's CRDs (once per cluster) and wait until each is Established."""
    from kubecodegen_runtime import errors

    crds = cs.apiextensions_v1.custom_resource_definitions()
    for path in sorted(CRDS.glob("*.yaml")):
        try:
            for crd in kube.scheme.decode_yaml(path.read_text()):
                crds.create(crd)
        except errors.AlreadyExists:
            pass
    deadline = time.monotonic() + 60
    for name in CRD_NAMES:
        while True:
            conditions = crds.get(name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} not Established")
            time.sleep(0.05)


def _real_session(cluster: Any) -> _RealSession:
    key = str(cluster.admin_kubeconfig)
    if key not in _real_sessions:
        from kubecodegen_runtime.config import load_config

        config = dataclasses.replace(load_config(key), qps=QPS, burst=int(QPS))
        cs = kube.Clientset.from_config(config)
        _install_crds(cs)
        crs = cr_package().Clientset.from_config(config)
        _real_sessions[key] = _RealSession(cs=cs, crs=crs, config=config)
    return _real_sessions[key]


def real_backend(cluster: Any) -> Backend:
    """A backend on ``cluster`` (a harness ``TestCluster``) with a fresh namespace.

    The clientsets are shared by every backend of the same cluster (one connection pool);
    the CRDs are installed on first use."""
    session = _real_session(cluster)
    config = session.config

    def acs() -> Any:
        return kube.AsyncClientset.from_config(config)

    backend = Backend(name="kube", cs=session.cs, acs=acs, make_crs=lambda: session.crs,
                      namespace="")
    backend.namespace = backend.new_namespace("conf")
    return backend


def close_real_sessions() -> None:
    """Close the shared real clientsets (the benchmark calls this before stopping its cluster)."""
    for session in _real_sessions.values():
        session.cs.close()
        session.crs.close()
    _real_sessions.clear()


# ----- the fake -------------------------------------------------------------------------------


def fake_backend() -> Backend:
    """A backend on a fresh fake clientset (its own store), with a fresh namespace."""
    fake = importlib.import_module("kube_v1_20.fake")
    cs = fake.Clientset()

    def acs() -> Any:
        return fake.AsyncClientset(tracker=cs.tracker)

    def crs() -> Any:
        return importlib.import_module(f"{cr_package().__name__}.fake").Clientset()

    backend = Backend(name="fake", cs=cs, acs=acs, make_crs=crs, namespace="")
    backend.namespace = backend.new_namespace("conf")
    return backend
