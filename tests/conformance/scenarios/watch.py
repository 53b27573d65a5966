"""Watches: from a resourceVersion, initial events, selectors, bookmarks, too-old versions.

Each watch has a short ``timeoutSeconds`` and the scenario stops reading as soon as it has the
events it expects, so none waits for a timeout except where the point is what does *not* come.
"""

from __future__ import annotations

from kubecodegen_runtime import errors
from kubecodegen_runtime.watch import Bookmark

from ..backends import Backend
from .registry import scenario, waits_for_timeout
from .support import (
    WATCH_TIMEOUT,
    all_events,
    configmap,
    event_names,
    raises,
    read_events,
    rv,
    widget,
    widgets,
)


def _history(b: Backend) -> str:
    """w0 exists; then from the returned list RV: w1 added, w0 relabelled twice, w1 deleted."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("w0", labels={"a": "1"}))
    start = cms.list().metadata.resource_version
    cms.create(configmap("w1", labels={"a": "1"}))
    cms.patch("w0", {"metadata": {"labels": {"a": "2"}}})
    cms.patch("w0", {"metadata": {"labels": {"a": "1"}}})
    cms.delete("w1")
    return str(start)


@scenario
def scenario_watch_from_resource_version(b: Backend) -> None:
    start = _history(b)
    cms = b.cs.core_v1.config_maps(b.namespace)
    events = read_events(cms.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT), 4)
    assert event_names(events) == [("ADDED", "w1"), ("MODIFIED", "w0"), ("MODIFIED", "w0"),
                                   ("DELETED", "w1")]
    versions = [rv(e.object) for e in events]
    assert versions == sorted(versions) and len(set(versions)) == 4
    assert versions[0] > int(start)
    assert events[1].object.metadata.labels == {"a": "2"}


@scenario
def scenario_watch_without_rv_starts_with_state(b: Backend) -> None:
    """No resourceVersion: synthetic ADDED events for what exists now, then changes.

    kube-apiserver 1.20 serves such a watch from its watch cache, whose state may lag the
    last write (under load, ``s2`` can still be there: ADDED, then DELETED): what the events
    say before ``s3`` must add up to the state before it, and ``s3`` comes last."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    for name in ("s1", "s2"):
        cms.create(configmap(name))
    cms.delete("s2")
    with cms.watch(timeout_seconds=WATCH_TIMEOUT) as stream:
        events = iter(stream)
        first = next(events)
        assert first.type == "ADDED" and first.object.metadata.name in ("s1", "s2")
        cms.create(configmap("s3"))
        seen = [first]
        while (seen[-1].type, seen[-1].object.metadata.name) != ("ADDED", "s3"):
            seen.append(next(events))
    state: set[str] = set()
    for event in seen[:-1]:
        name = event.object.metadata.name
        if event.type == "DELETED":
            state.discard(name)
        else:
            state.add(name)
    assert state == {"s1"}
    assert [e.type for e in seen if e.object.metadata.name == "s1"] == ["ADDED"]


@scenario
def scenario_watch_from_zero_starts_with_state(b: Backend) -> None:
    """resourceVersion=0: any recent state first (kube-apiserver serves it from its watch
    cache, which may lag a write or two), as ADDED, then the changes since: the object is
    ADDED once, then only MODIFIED until it reaches its latest state."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("z1", {"v": "1"}))
    cms.patch("z1", {"data": {"v": "2"}})
    seen = []
    with cms.watch(resource_version="0", timeout_seconds=WATCH_TIMEOUT) as stream:
        for event in stream:
            seen.append(event)
            if event.object.data == {"v": "2"}:
                break
    assert seen and seen[-1].object.data == {"v": "2"}
    assert [e.type for e in seen] == ["ADDED"] + ["MODIFIED"] * (len(seen) - 1)
    assert {e.object.metadata.name for e in seen} == {"z1"}


@scenario
def scenario_watch_from_latest_sees_only_new(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    cms.create(configmap("old"))
    latest = cms.create(configmap("marker")).metadata.resource_version
    with cms.watch(resource_version=latest, timeout_seconds=WATCH_TIMEOUT) as stream:
        cms.patch("old", {"data": {"k": "v"}})
        event = next(iter(stream))
        assert (event.type, event.object.metadata.name) == ("MODIFIED", "old")


@scenario
def scenario_watch_label_selector_transitions(b: Backend) -> None:
    """An object leaving the selector is seen as DELETED, one entering it as ADDED."""
    start = _history(b)
    cms = b.cs.core_v1.config_maps(b.namespace)
    events = read_events(
        cms.watch(resource_version=start, label_selector="a=1", timeout_seconds=WATCH_TIMEOUT), 4)
    assert event_names(events) == [("ADDED", "w1"), ("DELETED", "w0"), ("ADDED", "w0"),
                                   ("DELETED", "w1")]
    # The DELETED event carries the object as it was while it matched, at the version of the
    # change that made it leave; versions stay in order.
    assert events[1].object.metadata.labels == {"a": "1"}
    versions = [rv(e.object) for e in events]
    assert versions == sorted(versions) and len(set(versions)) == 4


@scenario
def scenario_watch_field_selector(b: Backend) -> None:
    start = _history(b)
    cms = b.cs.core_v1.config_maps(b.namespace)
    events = read_events(cms.watch(resource_version=start, field_selector="metadata.name=w1",
                                   timeout_seconds=WATCH_TIMEOUT), 2)
    assert event_names(events) == [("ADDED", "w1"), ("DELETED", "w1")]


@scenario
def scenario_watch_is_namespaced(b: Backend) -> None:
    other = b.new_namespace("other")
    cms = b.cs.core_v1.config_maps(b.namespace)
    start = cms.list().metadata.resource_version
    b.cs.core_v1.config_maps(other).create(configmap("elsewhere"))
    cms.create(configmap("here"))
    events = read_events(cms.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT), 1)
    assert event_names(events) == [("ADDED", "here")]
    everywhere = b.cs.core_v1.all_config_maps().watch(
        resource_version=start, timeout_seconds=WATCH_TIMEOUT,
        field_selector="metadata.name=elsewhere")
    seen = read_events(everywhere, 1)
    assert [(e.object.metadata.namespace, e.type) for e in seen] == [(other, "ADDED")]


@scenario
def scenario_watch_deleted_carries_last_state(b: Backend) -> None:
    cms = b.cs.core_v1.config_maps(b.namespace)
    made = cms.create(configmap("d", {"k": "final"}))
    cms.delete("d")
    events = read_events(cms.watch(resource_version=made.metadata.resource_version,
                                   timeout_seconds=WATCH_TIMEOUT), 1)
    assert event_names(events) == [("DELETED", "d")]
    assert events[0].object.data == {"k": "final"}
    assert rv(events[0].object) > rv(made)


@scenario
def scenario_watch_bookmarks_allowed(b: Backend) -> None:
    """With bookmarks allowed, the object events are exactly those without, and a bookmark
    (kube-apiserver 1.20 sends one about once a minute, so a short watch rarely has one) is
    never older than the event before it."""
    start = _history(b)
    cms = b.cs.core_v1.config_maps(b.namespace)
    stream = cms.watch(resource_version=start, allow_watch_bookmarks=True,
                       timeout_seconds=WATCH_TIMEOUT)
    events = []
    with stream:
        for event in stream:
            events.append(event)
            if len(event_names(events)) == 4:
                break
    assert event_names(events) == [("ADDED", "w1"), ("MODIFIED", "w0"), ("MODIFIED", "w0"),
                                   ("DELETED", "w1")]
    last = int(start)
    for event in events:
        current = int(event.resource_version) if isinstance(event, Bookmark) else rv(event.object)
        assert current >= last
        last = current


@scenario
@waits_for_timeout
def scenario_watch_ends_at_timeout(b: Backend) -> None:
    """A quiet watch ends by itself at timeoutSeconds, with no events and no error (it takes
    that second on any server: the benchmark reports it apart)."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    start = cms.create(configmap("quiet")).metadata.resource_version
    assert all_events(cms.watch(resource_version=start, timeout_seconds=1)) == []


@scenario
def scenario_watch_too_old_resource_version(b: Backend) -> None:
    """A resourceVersion older than the server's watch history is 410 Expired.

    Kube-apiserver's watch cache for a custom resource starts when its CRD is established, so
    version 1 is older than anything it holds; the 120 writes first also push version 1 out of
    any history window of up to 100 events (kube-apiserver's default watch-cache size)."""
    ws = widgets(b)
    ws.create(widget("old", replicas=0))
    for i in range(1, 120):
        ws.patch("old", {"spec": {"replicas": i}})
    with raises(errors.ResourceExpired, "Expired"):
        read_events(ws.watch(resource_version="1", timeout_seconds=WATCH_TIMEOUT), 1)
    latest = ws.get("old").metadata.resource_version
    with ws.watch(resource_version=latest, timeout_seconds=WATCH_TIMEOUT) as stream:
        ws.patch("old", {"spec": {"color": "new"}})
        event = next(iter(stream))
        assert (event.type, event.object.spec.color) == ("MODIFIED", "new")


@scenario
def scenario_watch_replays_long_history(b: Backend) -> None:
    """150 quick writes to one object, then a watch from before them: every change is replayed
    in order (kube-apiserver 1.20's watch cache grows while its events are fresh)."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    start = cms.create(configmap("busy", {"n": "0"})).metadata.resource_version
    for i in range(1, 151):
        cms.patch("busy", {"data": {"n": str(i)}})
    events = read_events(cms.watch(resource_version=start, timeout_seconds=WATCH_TIMEOUT), 150)
    assert [e.type for e in events] == ["MODIFIED"] * 150
    assert [e.object.data["n"] for e in events] == [str(i) for i in range(1, 151)]


@scenario
def scenario_watch_recreated_object(b: Backend) -> None:
    """A name deleted and created again: DELETED with the old uid, ADDED with a new one."""
    cms = b.cs.core_v1.config_maps(b.namespace)
    first = cms.create(configmap("again", {"gen": "1"}))
    cms.delete("again")
    second = cms.create(configmap("again", {"gen": "2"}))
    events = read_events(cms.watch(resource_version=first.metadata.resource_version,
                                   field_selector="metadata.name=again",
                                   timeout_seconds=WATCH_TIMEOUT), 2)
    assert event_names(events) == [("DELETED", "again"), ("ADDED", "again")]
    assert events[0].object.metadata.uid == first.metadata.uid
    assert events[1].object.metadata.uid == second.metadata.uid != first.metadata.uid
    assert events[1].object.data == {"gen": "2"}
