"""The incremental watch decoder under arbitrary chunking."""

from __future__ import annotations

import json
import random
from typing import Any

import msgspec
import pytest

from kubecodegen_runtime.errors import Forbidden, ResourceExpired
from kubecodegen_runtime.watch import Bookmark, WatchDecodeError, WatchDecoder, WatchEvent


class Meta(msgspec.Struct, kw_only=True):
    name: str | None = None
    resourceVersion: str | None = None


class Thing(msgspec.Struct, kw_only=True):
    metadata: Meta
    data: dict[str, str] | None = None
    spec: dict[str, Any]  # required: a bookmark could never decode as a Thing


def event_line(kind: str, name: str, rv: str, data: dict[str, str]) -> bytes:
    obj = {"kind": "Thing", "metadata": {"name": name, "resourceVersion": rv}, "data": data,
           "spec": {}}
    return json.dumps({"type": kind, "object": obj}, ensure_ascii=False).encode() + b"\n"


def stream() -> tuple[bytes, list[tuple[str, str, str]]]:
    lines: list[bytes] = []
    expected: list[tuple[str, str, str]] = []
    for i in range(40):
        kind = ("ADDED", "MODIFIED", "DELETED")[i % 3]
        value = "žluťoučký kůň 🐎" * (i % 4)  # multi-byte characters to split mid-sequence
        lines.append(event_line(kind, f"n{i}", str(100 + i), {"k": value}))
        expected.append((kind, f"n{i}", value))
        if i % 7 == 0:
            bm = {"type": "BOOKMARK", "object": {"kind": "Thing", "metadata": {
                "resourceVersion": str(100 + i), "annotations": {"k8s.io/initial-events-end": "true"}}}}
            lines.append(json.dumps(bm).encode() + b"\n")
            expected.append(("BOOKMARK", str(100 + i), ""))
    return b"".join(lines), expected


def summarise(events: list[WatchEvent[Thing] | Bookmark]) -> list[tuple[str, str, str]]:
    out = []
    for ev in events:
        if isinstance(ev, Bookmark):
            assert ev.initial_events_end
            out.append(("BOOKMARK", ev.resource_version, ""))
        else:
            out.append((ev.type, ev.object.metadata.name or "", (ev.object.data or {})["k"]))
    return out


@pytest.mark.parametrize("seed", range(25))
def test_random_chunk_splits_give_the_same_events(seed: int) -> None:
    data, expected = stream()
    rnd = random.Random(seed)
    decoder: WatchDecoder[Thing] = WatchDecoder(Thing)
    events: list[WatchEvent[Thing] | Bookmark] = []
    pos = 0
    while pos < len(data):
        step = rnd.randint(1, 200)
        events.extend(decoder.feed(data[pos:pos + step]))
        pos += step
    events.extend(decoder.close())
    assert summarise(events) == expected


def test_byte_by_byte() -> None:
    data, expected = stream()
    decoder: WatchDecoder[Thing] = WatchDecoder(Thing)
    events = [ev for i in range(len(data)) for ev in decoder.feed(data[i:i + 1])]
    assert summarise(events) == expected


def test_objects_are_typed() -> None:
    decoder: WatchDecoder[Thing] = WatchDecoder(Thing)
    (ev,) = decoder.feed(event_line("ADDED", "a", "1", {"k": "v"}))
    assert isinstance(ev, WatchEvent) and isinstance(ev.object, Thing)


def test_final_line_without_newline_is_decoded_on_close() -> None:
    decoder: WatchDecoder[Thing] = WatchDecoder(Thing)
    assert decoder.feed(event_line("ADDED", "a", "1", {"k": "v"}).rstrip(b"\n")) == []
    (ev,) = decoder.close()
    assert isinstance(ev, WatchEvent) and ev.object.metadata.name == "a"
    assert decoder.close() == []


def test_blank_lines_are_ignored() -> None:
    decoder: WatchDecoder[dict[str, Any]] = WatchDecoder(dict[str, Any])
    assert decoder.feed(b"\n\r\n  \n") == []


def test_error_event_410_raises_resource_expired() -> None:
    line = json.dumps({"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version: 1 (500)", "reason": "Expired", "code": 410}})
    decoder: WatchDecoder[Thing] = WatchDecoder(Thing)
    with pytest.raises(ResourceExpired, match="too old resource version") as info:
        decoder.feed(line.encode() + b"\n")
    assert info.value.status == 410


def test_error_event_other_code() -> None:
    line = json.dumps({"type": "ERROR", "object": {"kind": "Status", "code": 403,
                                                   "reason": "Forbidden", "message": "no"}})
    with pytest.raises(Forbidden):
        WatchDecoder(Thing).feed(line.encode() + b"\n")


@pytest.mark.parametrize(
    "line",
    [b"{not json}\n", b'{"type": "EXPLODED", "object": {}}\n',
     b'{"type": "ADDED", "object": {"metadata": {}}}\n'],
)
def test_bad_lines_raise_decode_errors(line: bytes) -> None:
    with pytest.raises(WatchDecodeError, match="bad watch event"):
        WatchDecoder(Thing).feed(line)


def test_dict_objects_for_dynamic_clients() -> None:
    decoder: WatchDecoder[dict[str, Any]] = WatchDecoder(dict[str, Any])
    (ev,) = decoder.feed(event_line("MODIFIED", "a", "3", {}))
    assert isinstance(ev, WatchEvent) and ev.object["metadata"]["name"] == "a"
