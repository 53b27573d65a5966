"""The tracker's storage records: stored objects, their keys, and cheap JSON copies.

Kept apart from :mod:`.tracker` so that :mod:`.listing` (which the tracker uses) can
read stored entries without importing the tracker.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode

Obj = dict[str, Any]
GR = tuple[str, str]
#: Where an object is in its resource's table: ``(namespace or "", name)``.
Slot = tuple[str, str]


def copy(obj: Obj) -> Obj:
    """A deep copy of a JSON object (msgspec round trip: faster than ``copy.deepcopy``)."""
    result: Obj = _decode(_encode(obj))
    return result


def meta_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


@dataclass(slots=True)
class Stored:
    """One stored object: its dict (never mutated once stored) and its JSON bytes."""

    obj: Obj
    raw: bytes
    rv: int
    #: The bytes without ``apiVersion``/``kind``, as a built-in list's items are sent
    #: (made on first need).
    bare: bytes | None = None

    @staticmethod
    def of(obj: Obj, rv: int) -> Stored:
        return Stored(obj, _encode(obj), rv)

    def item_bytes(self) -> bytes:
        if self.bare is None:
            self.bare = _encode({k: v for k, v in self.obj.items()
                                 if k not in ("apiVersion", "kind")})
        return self.bare


class Presented(dict[str, Any]):
    """A write's answer: the stored object (a shallow copy) that also knows its bytes.

    The fake server sends a write's result as JSON; the stored bytes are that JSON, so the
    dispatcher sends :attr:`raw` instead of encoding the copy again. Only the dispatcher
    asks for one (``presented=True`` on the tracker's writes) and reads :attr:`raw`, right
    after the write: the tracker's other callers get plain dicts (private deep copies), as
    before. Its values are the stored object's own (a decode of :attr:`raw` per write
    saved), so it is **read only**: whoever gets one reads it (``success_status`` reads
    the name and uid) and sends :attr:`raw`, never changes it."""

    __slots__ = ("raw",)

    def __init__(self, obj: Obj, raw: bytes) -> None:
        super().__init__(obj)
        self.raw = raw


def sort_key(slot: Slot) -> str:
    """Where etcd puts an object of a resource: ``namespace/name`` (or ``name``), bytewise."""
    namespace, name = slot
    return f"{namespace}/{name}" if namespace else name


#: How many paged lists keep their snapshot for their continue tokens.
SNAPSHOTS = 64


class Snapshots:
    """The selected objects of recent paged lists, by snapshot id (thread-safe under the
    tracker's lock, which every caller holds)."""

    def __init__(self) -> None:
        self._items: OrderedDict[int, list[Stored]] = OrderedDict()
        self._ids = itertools.count(1)

    def keep(self, items: list[Stored]) -> int:
        ident = next(self._ids)
        self._items[ident] = items
        while len(self._items) > SNAPSHOTS:
            self._items.popitem(last=False)
        return ident

    def get(self, ident: int) -> list[Stored] | None:
        return self._items.get(ident)
