"""Integration test of the mirror on a real API server started by envtest.

The fixtures come from the runtime's pytest plugin (``kubecodegen_runtime.envtest``):
``envtest_config`` is an admin ClientConfig of a session-wide etcd + kube-apiserver on
loopback, ``envtest_namespace`` a fresh namespace per test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from kube_v1_35 import Clientset
from kube_v1_35.models.core_v1 import ConfigMap, Namespace
from kube_v1_35.models.meta_v1 import ObjectMeta

from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.errors import NotFound

from .mirror import ENABLED_LABEL, FIELD_MANAGER, TARGETS_ANNOTATION, Controller, meta

pytestmark = pytest.mark.cluster


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.fixture
def cs(envtest_config: ClientConfig) -> Iterator[Clientset]:
    with Clientset.from_config(envtest_config) as client:
        yield client


def test_mirror_converges_on_a_real_server(cs: Clientset, envtest_namespace: str) -> None:
    target = f"{envtest_namespace}-copy"
    cs.core_v1.namespaces().create(Namespace(metadata=ObjectMeta(name=target)))
    controller = Controller(cs, envtest_namespace)
    controller.start()
    try:
        cs.core_v1.config_maps(envtest_namespace).create(ConfigMap(
            metadata=ObjectMeta(name="settings", labels={ENABLED_LABEL: "true"},
                                annotations={TARGETS_ANNOTATION: target}),
            data={"color": "blue"},
        ))

        def copy_data() -> dict[str, str] | None:
            try:
                return cs.core_v1.config_maps(target).get("settings").data
            except NotFound:
                return None

        eventually(lambda: copy_data() == {"color": "blue"})
        copy = cs.core_v1.config_maps(target).get("settings")
        assert [m.manager for m in meta(copy).managed_fields or []] == [FIELD_MANAGER]

        live = cs.core_v1.config_maps(envtest_namespace).get("settings")
        live.data = {"color": "green"}
        cs.core_v1.config_maps(envtest_namespace).update(live)
        eventually(lambda: copy_data() == {"color": "green"})

        cs.core_v1.config_maps(envtest_namespace).delete("settings")
        eventually(lambda: copy_data() is None)
    finally:
        controller.stop()
        cs.core_v1.namespaces().delete(target)
