"""Unit tests of the mirror on the fake clientset: no server, milliseconds per test."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kube_v1_35.fake import Clientset
from kube_v1_35.models.core_v1 import ConfigMap, Namespace
from kube_v1_35.models.meta_v1 import ObjectMeta

from kubecodegen_runtime.errors import NotFound
from kubecodegen_runtime.fake.actions import Action, server_timeout

from .mirror import (
    ENABLED_LABEL,
    FIELD_MANAGER,
    SOURCE_NAME_LABEL,
    TARGETS_ANNOTATION,
    Controller,
    Mirror,
    Outcome,
    meta,
)


def source(name: str = "settings", targets: str = "team-a,team-b", enabled: bool = True,
           data: dict[str, str] | None = None) -> ConfigMap:
    return ConfigMap(
        metadata=ObjectMeta(
            name=name, namespace="default",
            labels={ENABLED_LABEL: "true" if enabled else "false"},
            annotations={TARGETS_ANNOTATION: targets},
        ),
        data=data if data is not None else {"color": "blue"},
    )


def namespace(name: str) -> Namespace:
    return Namespace(metadata=ObjectMeta(name=name))


class Sources:
    """A lister over the fake's API, for reconcile tests without an informer."""

    def __init__(self, cs: Clientset) -> None:
        self._cs = cs

    def config_maps(self, ns: str) -> Sources:
        self._ns = ns
        return self

    def get(self, name: str) -> ConfigMap:
        return self._cs.core_v1.config_maps(self._ns).get(name)


def mirror_of(cs: Clientset) -> Mirror:
    return Mirror(cs, Sources(cs))  # type: ignore[arg-type]


def test_copies_go_to_every_target_namespace() -> None:
    cs = Clientset(namespace("team-a"), namespace("team-b"), source())
    assert mirror_of(cs).reconcile("default/settings") == Outcome(applied=("team-a", "team-b"))
    for ns in ("team-a", "team-b"):
        copy = cs.core_v1.config_maps(ns).get("settings")
        assert copy.data == {"color": "blue"}
        assert meta(copy).labels is not None
        assert (meta(copy).labels or {})[SOURCE_NAME_LABEL] == "settings"
        managers = [m.manager for m in meta(copy).managed_fields or []]
        assert managers == [FIELD_MANAGER]


def test_reconcile_is_idempotent_and_follows_the_source() -> None:
    cs = Clientset(namespace("team-a"), source(targets="team-a"))
    mirror = mirror_of(cs)
    mirror.reconcile("default/settings")
    before = meta(cs.core_v1.config_maps("team-a").get("settings")).resource_version
    mirror.reconcile("default/settings")
    assert meta(cs.core_v1.config_maps("team-a").get("settings")).resource_version == before

    live = cs.core_v1.config_maps("default").get("settings")
    live.data = {"color": "green"}
    cs.core_v1.config_maps("default").update(live)
    mirror.reconcile("default/settings")
    assert cs.core_v1.config_maps("team-a").get("settings").data == {"color": "green"}


def test_copies_are_deleted_with_the_source_and_when_untargeted() -> None:
    cs = Clientset(namespace("team-a"), namespace("team-b"), source())
    mirror = mirror_of(cs)
    mirror.reconcile("default/settings")

    live = cs.core_v1.config_maps("default").get("settings")
    annotations = meta(live).annotations
    assert annotations is not None
    annotations[TARGETS_ANNOTATION] = "team-b"
    cs.core_v1.config_maps("default").update(live)
    assert mirror.reconcile("default/settings") == Outcome(applied=("team-b",), deleted=("team-a",))
    with pytest.raises(NotFound):
        cs.core_v1.config_maps("team-a").get("settings")

    cs.core_v1.config_maps("default").delete("settings")
    assert mirror.reconcile("default/settings") == Outcome(deleted=("team-b",))
    assert cs.core_v1.all_config_maps().list(label_selector=SOURCE_NAME_LABEL).items == []


def test_a_disabled_source_writes_nothing() -> None:
    cs = Clientset(namespace("team-a"), source(enabled=False))
    cs.clear_actions()
    assert mirror_of(cs).reconcile("default/settings") == Outcome()
    assert [a.verb for a in cs.actions()] == ["get", "list"]


def test_a_missing_target_namespace_is_an_error_the_controller_retries() -> None:
    cs = Clientset(source(targets="nowhere"))
    with pytest.raises(NotFound):
        mirror_of(cs).reconcile("default/settings")


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_the_controller_converges_through_a_failing_apply() -> None:
    """Informers and the worker on the fake: the first apply fails (a reactor injects a
    server timeout), the retry succeeds."""
    cs = Clientset(namespace("team-a"))

    failures: list[Action] = []

    def fail_once(action: Action) -> None:
        if not failures:
            failures.append(action)
            raise server_timeout("configmaps", operation="patch")
        return None

    cs.prepend_reactor("patch", "configmaps", fail_once)
    controller = Controller(cs, "default", retry_after=0.01)
    controller.start()
    try:
        cs.core_v1.config_maps("default").create(source(targets="team-a"))

        def copied() -> bool:
            try:
                return cs.core_v1.config_maps("team-a").get("settings").data == {"color": "blue"}
            except NotFound:
                return False

        eventually(copied)
        assert len(failures) == 1
        cs.core_v1.config_maps("default").delete("settings")
        eventually(lambda: not cs.core_v1.all_config_maps().list(label_selector=SOURCE_NAME_LABEL).items)
    finally:
        controller.stop()
