"""Detecting in-place mutation of cached objects."""

from __future__ import annotations

import pytest

from kubecodegen_runtime.cache import (
    Apply,
    CacheMutationError,
    DeltaProcessor,
    Init,
    InitApply,
    InitDone,
    Mutation,
    MutationDetector,
    mutation_detection_enabled,
    new_indexer,
)

from .cache_objects import Pod, pod, pod_dict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_untouched_objects_pass() -> None:
    detector = MutationDetector()
    detector.add(pod("a", labels={"x": "1"}))
    detector.add(pod_dict("b"))
    assert detector.check() == []
    detector.check_or_raise()


def test_struct_and_dict_mutations_are_reported_with_paths_not_values() -> None:
    detector = MutationDetector()
    p = pod("a", labels={"x": "1"})
    d = pod_dict("b", "ns")
    detector.add(p)
    detector.add(d)
    assert p.metadata is not None and p.metadata.labels is not None
    p.metadata.labels["x"] = "s3cr3t"  # the forbidden thing
    d["spec"]["nodeName"] = "n9"
    found = detector.check()
    assert found == [Mutation("default/a", ("/metadata/labels/x",)),
                     Mutation("ns/b", ("/spec/nodeName",))]
    with pytest.raises(CacheMutationError) as info:
        detector.check_or_raise()
    message = str(info.value)
    assert "default/a: changed at /metadata/labels/x" in message
    assert "ns/b: changed at /spec/nodeName" in message
    assert "s3cr3t" not in message and "n9" not in message


def test_list_element_changes_are_located() -> None:
    detector = MutationDetector()
    obj = {"metadata": {"name": "a"}, "spec": {"items": [1, 2, 3]}}
    detector.add(obj)
    obj["spec"]["items"][1] = 5  # type: ignore[index]
    assert detector.check() == [Mutation("a", ("/spec/items/1",))]
    obj["spec"]["items"].append(4)  # type: ignore[index]
    assert detector.check() == [Mutation("a", ("/spec/items",))]


def test_snapshots_expire_after_the_retention_period() -> None:
    clock = Clock()
    detector = MutationDetector(retain=60, clock=clock)
    p = pod("a")
    detector.add(p)
    clock.now = 61
    detector.add(pod("b"))
    assert len(detector) == 1
    p.spec = None
    assert detector.check() == []
    detector.clear()
    assert len(detector) == 0


def test_delta_processor_feeds_the_detector() -> None:
    detector = MutationDetector(retain=None)
    deltas: DeltaProcessor[Pod] = DeltaProcessor(new_indexer(), mutation_detector=detector)
    a = pod("a")
    deltas.handle_all([Init(), InitApply(a), InitDone("1")])
    b = pod("b")
    deltas.handle(Apply(b))
    assert len(detector) == 2
    b.spec = None  # a handler "fixing" the cached object in place
    with pytest.raises(CacheMutationError, match="default/b: changed at /spec"):
        detector.check_or_raise()


@pytest.mark.parametrize(("value", "enabled"), [("1", True), ("true", True), ("YES", True),
                                                ("0", False), ("", False), (None, False)])
def test_enabled_from_environment(value: str | None, enabled: bool) -> None:
    env = {} if value is None else {"KUBECODEGEN_CACHE_MUTATION_DETECTOR": value}
    assert mutation_detection_enabled(env) is enabled
