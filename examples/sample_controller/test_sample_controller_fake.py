"""The sample controller on fake clientsets: informers, queue, workers and event recorder run
for real, the API server is the in-memory fake (no leader election here: see
``test_sample_controller.py`` for the whole program on a real server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from kube_v1_35 import SharedInformerFactory as KubeInformerFactory
from kube_v1_35.fake import Clientset as FakeKube
from kube_v1_35.models.apps_v1 import Deployment

from kubecodegen_runtime.controller import ObjectKey
from kubecodegen_runtime.errors import NotFound
from kubecodegen_runtime.events import EventBroadcaster
from kubecodegen_runtime.fake.actions import Action, server_timeout

from .controller import (
    CONTROLLER_NAME,
    ERR_RESOURCE_EXISTS,
    INVALID_SPEC,
    SUCCESS_SYNCED,
    SampleController,
    meta,
    new_deployment,
)
from .generated.samplecontroller import SharedInformerFactory as SampleInformerFactory
from .generated.samplecontroller.fake import Clientset as FakeSample
from .generated.samplecontroller.models.meta_v1 import ObjectMeta
from .generated.samplecontroller.models.samplecontroller_k8s_io_v1alpha1 import Foo, FooSpec

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def foo(name: str, deployment_name: str | None, replicas: int | None = 1) -> Foo:
    return Foo(metadata=ObjectMeta(name=name, namespace="default"),
               spec=FooSpec(deployment_name=deployment_name, replicas=replicas))


@contextmanager
def controller_on(kube: FakeKube, sample: FakeSample) -> Iterator[SampleController]:
    broadcaster = EventBroadcaster(kube.rest)
    kube_informers, sample_informers = KubeInformerFactory(kube), SampleInformerFactory(sample)
    controller = SampleController(kube, sample, kube_informers, sample_informers,
                                  broadcaster.new_recorder(CONTROLLER_NAME, "test"), workers=1)
    kube_informers.start()
    sample_informers.start()
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield controller
    finally:
        stop.set()
        thread.join(timeout=10)
        kube_informers.shutdown()
        sample_informers.shutdown()
        broadcaster.shutdown()
    assert not thread.is_alive()


def deployment(kube: FakeKube, name: str) -> Deployment | None:
    try:
        return kube.apps_v1.deployments("default").get(name)
    except NotFound:
        return None


def reasons(kube: FakeKube, name: str) -> set[str]:
    """Reasons of the Events about ``name``: the recorder writes events.k8s.io/v1 (the fake,
    unlike a real server, does not show them through core/v1 as well)."""
    return {e.reason or "" for e in kube.events_v1.events("default").list().items
            if e.regarding is not None and e.regarding.name == name}


def test_a_foo_gets_its_deployment_and_status() -> None:
    kube, sample = FakeKube(), FakeSample(foo("example", "example-deploy", replicas=2))
    with controller_on(kube, sample):
        made = eventually(lambda: deployment(kube, "example-deploy"))
        assert made.spec is not None and made.spec.replicas == 2
        uid = meta(sample.samplecontroller_k8s_io_v1alpha1.foos("default").get("example")).uid
        assert [(r.kind, r.uid, r.controller) for r in meta(made).owner_references or []] == [
            ("Foo", uid, True)]
        status = eventually(lambda: sample.samplecontroller_k8s_io_v1alpha1.foos("default")
                            .get("example").status)
        assert status.available_replicas == 0
        eventually(lambda: SUCCESS_SYNCED in reasons(kube, "example"))


def test_replicas_follow_the_foo_and_a_deleted_deployment_comes_back() -> None:
    kube, sample = FakeKube(), FakeSample(foo("example", "example-deploy", replicas=1))
    foos = sample.samplecontroller_k8s_io_v1alpha1.foos("default")
    with controller_on(kube, sample):
        eventually(lambda: deployment(kube, "example-deploy"))
        live = foos.get("example")
        assert live.spec is not None
        live.spec.replicas = 4
        foos.update(live)
        eventually(lambda: (d := deployment(kube, "example-deploy")) is not None
                   and d.spec is not None and d.spec.replicas == 4)
        kube.apps_v1.deployments("default").delete("example-deploy")
        again = eventually(lambda: deployment(kube, "example-deploy"))
        assert again.spec is not None and again.spec.replicas == 4


def test_a_deployment_it_does_not_control_is_an_error_retried_with_backoff() -> None:
    theirs = new_deployment(foo("other", "taken"))
    assert theirs.metadata is not None
    theirs.metadata.owner_references = None
    kube, sample = FakeKube(theirs), FakeSample(foo("greedy", "taken", replicas=3),
                                                foo("nameless", None))
    with controller_on(kube, sample) as controller:
        eventually(lambda: controller.controller.queue.num_requeues(
            ObjectKey("default", "greedy")) >= 2)
        eventually(lambda: ERR_RESOURCE_EXISTS in reasons(kube, "greedy"))
        eventually(lambda: INVALID_SPEC in reasons(kube, "nameless"))
        # A Foo without a deployment name is not retried: only an update brings it back.
        assert controller.controller.queue.num_requeues(ObjectKey("default", "nameless")) == 0
        untouched = deployment(kube, "taken")
        assert untouched is not None and untouched.spec is not None
        assert untouched.spec.replicas == 1 and not meta(untouched).owner_references


def test_a_failed_create_is_retried() -> None:
    failures: list[Action] = []

    def fail_once(action: Action) -> None:
        if not failures:
            failures.append(action)
            raise server_timeout("deployments", operation="create")

    kube, sample = FakeKube(), FakeSample(foo("example", "example-deploy"))
    kube.prepend_reactor("create", "deployments", fail_once)
    with controller_on(kube, sample):
        eventually(lambda: deployment(kube, "example-deploy"))
    assert len(failures) == 1
