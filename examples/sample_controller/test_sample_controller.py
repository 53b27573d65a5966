"""The sample controller on a real API server (envtest: etcd + kube-apiserver, no
kube-controller-manager).

Each test runs the whole program as ``main`` does -- Lease campaign, informers, workers, event
broadcaster -- in a namespace of its own, and watches its effects through the API only.

The test server runs no kube-controller-manager: nothing turns a Deployment into ReplicaSets
and pods, so ``status.availableReplicas`` of every Deployment stays unset and every Foo's
status says 0; and no garbage collector deletes a Deployment whose Foo is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from kube_v1_35 import Clientset as KubeClientset
from kube_v1_35.models.apps_v1 import Deployment
from kube_v1_35.models.core_v1 import Event

from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.envtest import Environment
from kubecodegen_runtime.errors import NotFound

from .controller import (
    ERR_RESOURCE_EXISTS,
    FIELD_MANAGER,
    INVALID_SPEC,
    SUCCESS_SYNCED,
    meta,
    new_deployment,
)
from .generated.samplecontroller import Clientset as SampleClientset
from .generated.samplecontroller.models.meta_v1 import ObjectMeta
from .generated.samplecontroller.models.samplecontroller_k8s_io_v1alpha1 import Foo, FooSpec
from .main import Options, run

pytestmark = pytest.mark.cluster

CRD = Path(__file__).with_name("crd.yaml")
ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

#: Lease timings shorter than the defaults (15/10/2 s), with room for a loaded CI machine; a
#: takeover does not wait for them: a copy that stops gives the Lease up.
LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 8.0, 6.0, 0.25


def eventually(probe: Callable[[], T | None], timeout: float = 20.0) -> T:
    """Poll ``probe`` until it returns something truthy (a generous upper bound, not a
    measurement: the controller usually converges in well under a second)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.fixture(scope="session")
def crd_installed(envtest: Environment) -> None:
    envtest.install_crds([CRD])


@pytest.fixture
def kube(envtest_config: ClientConfig, crd_installed: None) -> Iterator[KubeClientset]:
    with KubeClientset.from_config(envtest_config) as client:
        yield client


@pytest.fixture
def sample(kube: KubeClientset) -> SampleClientset:
    return SampleClientset(kube.rest)


class Copy:
    """One copy of the controller program, leader-elected, watching ``namespace``."""

    def __init__(self, config: ClientConfig, namespace: str, identity: str, *,
                 workers: int = 2) -> None:
        options = Options(lease_namespace=namespace, identity=identity, namespace=namespace,
                          resync_period=0.0, workers=workers, lease_duration=LEASE_DURATION,
                          renew_deadline=RENEW_DEADLINE, retry_period=RETRY_PERIOD)
        self._stop = threading.Event()
        self._outcome: list[bool] = []
        self._thread = threading.Thread(
            target=lambda: self._outcome.append(run(config, options, self._stop)),
            name=f"sample-controller-{identity}", daemon=True)

    def start(self) -> Copy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        assert self.outcome(timeout=30), "run() did not return after stop (leadership lost?)"

    def outcome(self, timeout: float) -> bool:
        """What run() returned (True: it was stopped), waiting up to ``timeout`` for it."""
        self._thread.join(timeout=timeout)
        assert not self._thread.is_alive(), "the controller did not stop"
        return self._outcome == [True]


@contextmanager
def running(config: ClientConfig, namespace: str, identity: str = "copy-a") -> Iterator[None]:
    """A copy of the program for the length of a ``with``: its own clients (from ``config``),
    so the test's polling never shares its client-side rate limit."""
    copy = Copy(config, namespace, identity).start()
    try:
        yield
    finally:
        copy.stop()


def foo(name: str, deployment_name: str | None, replicas: int | None = 1) -> Foo:
    return Foo(metadata=ObjectMeta(name=name),
               spec=FooSpec(deployment_name=deployment_name, replicas=replicas))


def get_deployment(kube: KubeClientset, namespace: str, name: str) -> Deployment | None:
    try:
        return kube.apps_v1.deployments(namespace).get(name)
    except NotFound:
        return None


def deployment_where(kube: KubeClientset, namespace: str, name: str,
                     check: Callable[[Deployment], bool]) -> Callable[[], Deployment | None]:
    """A probe for :func:`eventually`: the Deployment, once it exists and passes ``check``."""
    def probe() -> Deployment | None:
        found = get_deployment(kube, namespace, name)
        return found if found is not None and check(found) else None
    return probe


def replicas(d: Deployment) -> int | None:
    return d.spec.replicas if d.spec else None


def events_of(kube: KubeClientset, namespace: str, name: str, reason: str) -> list[Event]:
    """The Events about the Foo ``name`` with ``reason`` (read through core/v1, which shows
    events.k8s.io/v1 Events too: they are one resource)."""
    return [e for e in kube.core_v1.events(namespace).list().items
            if e.involved_object.kind == "Foo" and e.involved_object.name == name
            and e.reason == reason]


def holder(kube: KubeClientset, namespace: str) -> str | None:
    try:
        lease = kube.coordination_v1.leases(namespace).get("sample-controller")
    except NotFound:
        return None
    return lease.spec.holder_identity if lease.spec else None


def test_a_foo_gets_its_deployment_status_and_events(
        kube: KubeClientset, sample: SampleClientset, envtest_config: ClientConfig,
        envtest_namespace: str) -> None:
    ns = envtest_namespace
    foos = sample.samplecontroller_k8s_io_v1alpha1.foos(ns)
    with running(envtest_config, ns):
        created = foos.create(foo("example-foo", "example-deploy", replicas=1))

        deployment = eventually(lambda: get_deployment(kube, ns, "example-deploy"))
        assert deployment.spec is not None
        assert deployment.spec.replicas == 1
        [ref] = meta(deployment).owner_references or []
        assert (ref.api_version, ref.kind, ref.name, ref.uid, ref.controller) == (
            "samplecontroller.k8s.io/v1alpha1", "Foo", "example-foo", meta(created).uid, True)
        assert deployment.spec.template.metadata is not None
        assert deployment.spec.template.metadata.labels == {"app": "nginx",
                                                            "controller": "example-foo"}
        assert FIELD_MANAGER in [m.manager for m in meta(deployment).managed_fields or []]

        # No kube-controller-manager: no pods, so 0 available -- written via /status.
        status = eventually(lambda: foos.get("example-foo").status)
        assert status.available_replicas == 0
        synced = eventually(lambda: events_of(kube, ns, "example-foo", SUCCESS_SYNCED))
        assert synced[0].type == "Normal"
        assert synced[0].involved_object.uid == meta(created).uid

        # The Deployment follows the Foo's replicas.
        live = foos.get("example-foo")
        assert live.spec is not None
        live.spec.replicas = 3
        foos.update(live)
        eventually(deployment_where(kube, ns, "example-deploy", lambda d: replicas(d) == 3))

        # ... and is put back when someone else changes it.
        current = get_deployment(kube, ns, "example-deploy")
        assert current is not None and current.spec is not None
        current.spec.replicas = 5
        kube.apps_v1.deployments(ns).update(current)
        eventually(deployment_where(kube, ns, "example-deploy", lambda d: replicas(d) == 3))

        # Deleted, it is created again (a new object: another uid), still owned by the Foo.
        old_uid = meta(current).uid
        kube.apps_v1.deployments(ns).delete("example-deploy")
        again = eventually(deployment_where(kube, ns, "example-deploy",
                                            lambda d: meta(d).uid != old_uid))
        assert again.spec is not None and again.spec.replicas == 3
        assert [r.uid for r in meta(again).owner_references or []] == [meta(created).uid]


def test_a_deployment_the_foo_does_not_control_is_left_alone(
        kube: KubeClientset, sample: SampleClientset, envtest_config: ClientConfig,
        envtest_namespace: str) -> None:
    ns = envtest_namespace
    foos = sample.samplecontroller_k8s_io_v1alpha1.foos(ns)
    # Someone else's Deployment under the name the Foo will ask for (no ownerReference).
    theirs = new_deployment(foo("someone-else", "taken", replicas=1))
    assert theirs.metadata is not None
    theirs.metadata.owner_references = None
    theirs.metadata.namespace = ns
    kube.apps_v1.deployments(ns).create(theirs)
    with running(envtest_config, ns):
        foos.create(foo("greedy", "taken", replicas=2))
        foos.create(foo("nameless", None))

        warning = eventually(lambda: events_of(kube, ns, "greedy", ERR_RESOURCE_EXISTS))
        assert warning[0].type == "Warning"
        assert warning[0].message == 'Resource "taken" already exists and is not managed by Foo'
        invalid = eventually(lambda: events_of(kube, ns, "nameless", INVALID_SPEC))
        assert invalid[0].type == "Warning"

        # The Warning is an error: the key is retried (with backoff) and fails again.
        untouched = get_deployment(kube, ns, "taken")
        assert untouched is not None and untouched.spec is not None
        assert untouched.spec.replicas == 1
        assert not meta(untouched).owner_references
        assert foos.get("greedy").status is None
        assert foos.get("nameless").status is None
        assert [meta(d).name for d in kube.apps_v1.deployments(ns).list().items] == ["taken"]

        # Once the name is free, the retry succeeds.
        kube.apps_v1.deployments(ns).delete("taken")
        mine = eventually(deployment_where(kube, ns, "taken",
                                           lambda d: bool(meta(d).owner_references)))
        assert mine.spec is not None and mine.spec.replicas == 2


def test_only_the_leader_runs_the_controller_and_a_standby_takes_over(
        kube: KubeClientset, sample: SampleClientset, envtest_config: ClientConfig,
        envtest_namespace: str) -> None:
    ns = envtest_namespace
    foos = sample.samplecontroller_k8s_io_v1alpha1.foos(ns)
    a = Copy(envtest_config, ns, "copy-a").start()
    b: Copy | None = None
    try:
        eventually(lambda: holder(kube, ns) == "copy-a")
        b = Copy(envtest_config, ns, "copy-b").start()
        foos.create(foo("first", "first-deploy"))
        eventually(lambda: get_deployment(kube, ns, "first-deploy"))
        synced = eventually(lambda: events_of(kube, ns, "first", SUCCESS_SYNCED))
        assert {e.reporting_instance for e in synced} == {"copy-a"}
        assert holder(kube, ns) == "copy-a"  # b stands by while a renews

        a.stop()  # gives the Lease up (release_on_cancel): b need not wait for it to expire
        eventually(lambda: holder(kube, ns) == "copy-b")
        foos.create(foo("second", "second-deploy"))
        eventually(lambda: get_deployment(kube, ns, "second-deploy"))
        synced = eventually(lambda: events_of(kube, ns, "second", SUCCESS_SYNCED))
        assert {e.reporting_instance for e in synced} == {"copy-b"}
    finally:
        a.stop()
        if b is not None:
            b.stop()
    assert not holder(kube, ns)  # b gave it up too
    lease = kube.coordination_v1.leases(ns).get("sample-controller")
    assert lease.spec is not None
    assert lease.spec.lease_transitions is not None and lease.spec.lease_transitions >= 1


def test_a_copy_whose_controller_fails_gives_the_lease_up(
        kube: KubeClientset, envtest_config: ClientConfig, envtest_namespace: str) -> None:
    """A leader whose work ends on its own (here the controller refuses ``workers=0``) does
    not sit on the Lease: it releases it and run() returns False (``main`` exits 1)."""
    ns = envtest_namespace
    failing = Copy(envtest_config, ns, "broken", workers=0).start()
    assert failing.outcome(timeout=30) is False
    lease = kube.coordination_v1.leases(ns).get("sample-controller")  # it did acquire it ...
    assert lease.spec is not None and not lease.spec.holder_identity  # ... and gave it up
    with running(envtest_config, ns, identity="healthy"):
        eventually(lambda: holder(kube, ns) == "healthy")


def test_the_program_runs_from_its_command_line_and_stops_on_sigterm(
        kube: KubeClientset, sample: SampleClientset, envtest: Environment,
        envtest_namespace: str) -> None:
    """``python -m examples.sample_controller`` as a user runs it: flags, kubeconfig, default
    Lease timings; SIGTERM stops it with status 0 and gives the Lease up."""
    ns = envtest_namespace
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "generated"), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "examples.sample_controller", "--kubeconfig",
         str(envtest.kubeconfig_path), "--namespace", ns, "--lease-namespace", ns,
         "--id", "from-the-command-line"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        sample.samplecontroller_k8s_io_v1alpha1.foos(ns).create(foo("cli", "cli-deploy", 2))
        made = eventually(lambda: get_deployment(kube, ns, "cli-deploy"), timeout=60)
        assert made.spec is not None and made.spec.replicas == 2
        assert holder(kube, ns) == "from-the-command-line"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    assert not holder(kube, ns)
