"""One undecodable object cannot fail a list page or a watch stream (runtime/cache/tolerant.py),
and what the watcher and delta processing do with the keys of such objects."""

from __future__ import annotations

import json
from typing import Any, Literal

import msgspec
import pytest

from kubecodegen_runtime.cache import (
    AddNotification,
    Apply,
    DeletedFinalStateUnknown,
    DeleteKey,
    DeleteNotification,
    DeltaProcessor,
    Init,
    InitApply,
    InitDone,
    InitKeep,
    ThreadSafeStore,
    UpdateNotification,
    Watcher,
    WatchRequest,
    new_indexer,
)
from kubecodegen_runtime.cache.tolerant import TolerantDecoder, Undecodable, UndecodableObject
from kubecodegen_runtime.errors import KubernetesError
from kubecodegen_runtime.watch.decode import WatchDecodeError, WatchDecoder
from kubecodegen_runtime.watch.event import Bookmark, WatchEvent

from .cache_objects import Pod, pod

DECODER: TolerantDecoder[Pod] = TolerantDecoder(Pod, api_version="v1", kind="Pod")


def item(name: str, rv: str = "1", *, priority: Any = 1, **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": rv},
            "spec": {"priority": priority}, **extra}


def page(*items: Any, rv: str = "50", cont: str | None = None) -> bytes:
    meta: dict[str, Any] = {"resourceVersion": rv}
    if cont:
        meta["continue"] = cont
    return json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": meta,
                       "items": list(items)}).encode()


def names(objs: Any) -> list[str]:
    return [o.metadata.name for o in objs]


def test_a_sound_page_decodes_whole() -> None:
    decoded = DECODER.decode_page(page(item("a"), item("b"), cont="tok"))
    assert names(decoded.items) == ["a", "b"]
    assert all(isinstance(o, Pod) for o in decoded.items)
    assert (decoded.resource_version, decoded.continue_token) == ("50", "tok")
    assert decoded.undecodable == ()


def test_one_bad_item_is_set_aside_with_its_identity_and_problem() -> None:
    body = page(item("a"), item("bad", rv="7", priority="high"), item("c"))
    decoded = DECODER.decode_page(body)
    assert names(decoded.items) == ["a", "c"]
    assert decoded.resource_version == "50"
    [bad] = decoded.undecodable
    err = bad.error
    assert isinstance(err, UndecodableObject) and isinstance(err, KubernetesError)
    assert (err.key, err.resource_version, err.phase, err.event_type) == ("ns/bad", "7", "list",
                                                                         None)
    # list items of built-in types carry no apiVersion/kind: the informer's are used
    assert (err.api_version, err.kind) == ("v1", "Pod")
    assert "$.spec.priority" in err.problem and "int" in err.problem
    assert err.json_path == "$.spec.priority"
    assert "'ns/bad'" in str(err) and "Pod" in str(err) and "$.spec.priority" in str(err)


def test_an_item_that_states_its_own_kind_is_named_by_it() -> None:
    odd = item("x", priority=[1], apiVersion="example.com/v2", kind="Widget")
    [bad] = DECODER.decode_page(page(odd)).undecodable
    assert (bad.error.api_version, bad.error.kind) == ("example.com/v2", "Widget")


@pytest.mark.parametrize("raw", [
    {"metadata": "not an object", "spec": 1},  # no usable identity at all
    "a string item",
    42,
])
def test_items_without_identity_are_still_set_aside(raw: Any) -> None:
    decoded = DECODER.decode_page(page(item("a"), raw))
    assert names(decoded.items) == ["a"]
    [bad] = decoded.undecodable
    assert bad.key == "" and bad.resource_version == ""


class Phase(msgspec.Struct):
    phase: Literal["Running", "Done"]


def test_control_characters_from_the_server_are_escaped_in_messages() -> None:
    hostile = item("evil\x1b[31m", priority="x")
    [bad] = DECODER.decode_page(page(hostile)).undecodable
    assert "\x1b" not in str(bad.error)
    assert bad.key == "ns/evil\x1b[31m"  # the key itself stays exact
    # a decoder message that quotes the server's value is made terminal-safe too
    quoting: TolerantDecoder[Phase] = TolerantDecoder(Phase, api_version="v1", kind="Phase")
    body = page({"metadata": {"name": "p"}, "phase": "\x1b]0;owned\x07"})
    [quoted] = quoting.decode_page(body).undecodable
    assert "Invalid enum value" in quoted.error.problem
    assert "\x1b" not in str(quoted.error) and "\x07" not in str(quoted.error)


@pytest.mark.parametrize("body", [
    b"not json",
    b'{"items": 5, "metadata": {}}',
    b'{"items": [], "metadata": {"resourceVersion": 5}}',
    b"",
])
def test_a_malformed_page_still_fails_as_a_whole(body: bytes) -> None:
    with pytest.raises(ValueError):
        DECODER.decode_page(body)


def test_dynamic_items_never_fail() -> None:
    decoder: TolerantDecoder[dict[str, Any]] = TolerantDecoder(dict, api_version="v1", kind="Pod")
    decoded = decoder.decode_page(page(item("a", priority="high")))
    assert decoded.items[0]["spec"]["priority"] == "high" and decoded.undecodable == ()


def line(event_type: str, obj: Any) -> bytes:
    return json.dumps({"type": event_type, "object": obj}).encode() + b"\n"


def test_watch_lines_with_a_bad_object_become_placeholders_and_the_stream_goes_on() -> None:
    decoder: WatchDecoder[Pod] = WatchDecoder(Pod, decode_line=DECODER.decode_line)
    chunk = (line("ADDED", item("a", "10")) + line("MODIFIED", item("a", "11", priority="x"))
             + line("BOOKMARK", {"metadata": {"resourceVersion": "12"}})
             + line("DELETED", item("b", "13", priority={"no": 1}))
             + line("MODIFIED", item("a", "14")))
    events = decoder.feed(chunk)
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "BOOKMARK", "DELETED", "MODIFIED"]
    first, bad_modified, bookmark, bad_deleted, last = events
    assert isinstance(first, WatchEvent) and isinstance(first.object, Pod)
    assert isinstance(bookmark, Bookmark) and bookmark.resource_version == "12"
    assert isinstance(last, WatchEvent) and last.object.metadata is not None
    assert last.object.metadata.resource_version == "14"
    for event, key, rv, kind in ((bad_modified, "ns/a", "11", "MODIFIED"),
                                 (bad_deleted, "ns/b", "13", "DELETED")):
        assert isinstance(event, WatchEvent) and isinstance(event.object, Undecodable)
        err = event.object.error
        assert (err.key, err.resource_version, err.phase, err.event_type) == (key, rv, "watch",
                                                                             kind)
        assert "Expected" in err.problem and "$.spec.priority" in err.problem
        assert err.json_path == "$.spec.priority"


@pytest.mark.parametrize("bad", [
    b"garbage\n",
    line("ERROR", {"code": "not a number"}),
    line("WHATEVER", item("a")),
    b'{"type": "ADDED"}\n',
])
def test_lines_that_are_not_object_events_still_fail_the_stream(bad: bytes) -> None:
    decoder: WatchDecoder[Pod] = WatchDecoder(Pod, decode_line=DECODER.decode_line)
    with pytest.raises((WatchDecodeError, msgspec.DecodeError)):
        decoder.feed(bad)


# -- the watcher: keys of undecodable objects --------------------------------------------


def watching(rv: str = "100") -> Watcher[Any]:
    w: Watcher[Any] = Watcher()
    w.start()
    step = w.on_list_page([pod("a")], rv, None)
    assert isinstance(step.request, WatchRequest)
    w.on_watch_opened()
    return w


def test_listed_but_undecodable_keys_are_kept_not_dropped() -> None:
    w: Watcher[Any] = Watcher()
    w.start()
    a = pod("a")
    step = w.on_list_page([a], "100", None, unavailable=["default/bad", ""])
    assert step.events == (Init(), InitApply(a), InitKeep("default/bad"), InitDone("100"))
    assert isinstance(step.request, WatchRequest) and step.request.resource_version == "100"


def test_undecodable_watch_events_advance_the_version_and_delete_by_key() -> None:
    w = watching()
    step = w.on_watch_undecodable("MODIFIED", "default/a", "101")
    assert step.events == () and step.request is None and step.failure is None
    assert w.resource_version == "101"
    step = w.on_watch_undecodable("DELETED", "default/a", "102")
    assert step.events == (DeleteKey("default/a"),) and step.request is None
    assert w.resource_version == "102"
    # without a version the stream still goes on, resuming from the last known one
    assert w.on_watch_undecodable("ADDED", "", "").request is None
    assert w.resource_version == "102"
    w.on_watch_closed()  # one event was delivered: not a short watch


# -- delta processing: InitKeep and DeleteKey --------------------------------------------


def processor() -> tuple[DeltaProcessor[Any], ThreadSafeStore[Any]]:
    store: ThreadSafeStore[Any] = new_indexer()
    return DeltaProcessor(store), store


def test_a_relist_keeps_the_cached_version_of_an_undecodable_object() -> None:
    proc, store = processor()
    good_a, good_b = pod("a", rv="1"), pod("b", rv="2")
    proc.handle_all([Init(), InitApply(good_a), InitApply(good_b), InitDone("2")])
    # relist: "a" is now undecodable, "b" decodes; nothing is deleted
    b3 = pod("b", rv="3")
    notes = proc.handle_all([Init(), InitKeep("default/a"), InitApply(b3), InitDone("4")])
    assert notes == [UpdateNotification(good_b, b3)]
    assert store.get_by_key("default/a") is good_a


def test_a_never_cached_undecodable_object_is_simply_absent_and_sync_completes() -> None:
    proc, store = processor()
    a = pod("a")
    notes = proc.handle_all([Init(), InitKeep("default/bad"), InitApply(a), InitDone("5")])
    assert notes == [AddNotification(a, True)]
    assert proc.has_synced() and store.list_keys() == ["default/a"]
    # a later decodable version of it is an ordinary add
    fixed = pod("bad", rv="6")
    assert proc.handle(Apply(fixed)) == [AddNotification(fixed, False)]


def test_delete_by_key_sends_a_tombstone_with_the_last_cached_state() -> None:
    proc, store = processor()
    a = pod("a", rv="1")
    proc.handle_all([Init(), InitApply(a), InitDone("1")])
    tombstone: DeleteNotification[Any] = DeleteNotification(DeletedFinalStateUnknown("default/a", a))
    assert proc.handle(DeleteKey("default/a")) == [tombstone]
    assert store.get_by_key("default/a") is None
    assert proc.handle(DeleteKey("default/never")) == []
