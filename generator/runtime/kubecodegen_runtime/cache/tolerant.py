"""Decoding that one bad object cannot break: list pages and watch lines, object by object.

Why: a typed LIST page decodes as one document, so a single object the model cannot read
(a custom resource whose served schema changed under an older generated package, a field
of an unexpected type) used to fail the whole page -- and the informer retried the same
page forever, never syncing. A watch line with such an object ended the stream, and the
resumed watch replayed the same line. client-go has the same weakness; a controller
should not lose a whole resource because of one object.

The policy, in one place:

* **Fast path first.** A page is decoded as a whole (``Page[T]``), exactly as before; only
  when that raises is it decoded again with its items left raw (``Page[msgspec.Raw]``)
  and each item decoded on its own. A healthy cluster pays nothing.
* **The body itself must be sound.** If the page is not even a list of JSON values (not
  JSON, ``items`` not a list, bad ``metadata``), the original error is raised: that is a
  failed LIST, not a bad object.
* **A bad object becomes an** :class:`Undecodable` **placeholder** carrying an
  :class:`UndecodableObject` error that names its key (``namespace/name``), apiVersion,
  kind, resourceVersion and the decoder's problem (with the JSON path inside the object).
  Identity is read from the raw JSON leniently; missing apiVersion/kind (list items of
  built-in types carry none) fall back to the informer's own.
* **Watch lines**: only ``ADDED``/``MODIFIED``/``DELETED`` lines whose envelope is sound
  are rescued; a garbage line, an ``ERROR`` or ``BOOKMARK`` of the wrong shape, or an
  unknown event type still fails the stream as before.

What the informer does with the placeholders (keep the cached version, advance the
resourceVersion, report the error) is the reflector's and the watcher's business; this
module does no I/O and decides nothing about the cache.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from ..client.ops import decoder_for, page_type
from ..config.text import terminal_safe
from ..errors import KubernetesError
from ..watch.decode import event_union
from ..watch.event import WatchEvent
from .keys import object_key

T = TypeVar("T")

_OBJECT_EVENTS = frozenset({"ADDED", "MODIFIED", "DELETED"})


class UndecodableObject(KubernetesError, ValueError):
    """An object the server sent that the expected type cannot decode.

    ``key`` is the cache key (``namespace/name``, or ``name`` when cluster-scoped; ``""``
    if the object has no name), ``phase`` is ``"list"`` or ``"watch"``, ``event_type``
    the watch event type (``None`` for a list item), ``problem`` the decoder's message and
    ``json_path`` where in the object it failed (``$.spec.replicas``), when known.
    Server text cannot reach a terminal raw: the key is shown with ``repr`` and the
    problem (which may quote a value) through :func:`~..config.text.terminal_safe`.
    """

    def __init__(self, *, key: str, api_version: str, kind: str, resource_version: str,
                 phase: str, event_type: str | None, problem: str,
                 json_path: str | None = None) -> None:
        where = f"{phase} ({event_type})" if event_type else phase
        super().__init__(
            f"cannot decode {kind} {key!r} ({api_version}, resourceVersion "
            f"{resource_version!r}) from the {where}: {problem}")
        self.key = key
        self.api_version = api_version
        self.kind = kind
        self.resource_version = resource_version
        self.phase = phase
        self.event_type = event_type
        self.problem = problem
        self.json_path = json_path


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Stands in for an object that did not decode; see :class:`UndecodableObject`."""

    error: UndecodableObject

    @property
    def key(self) -> str:
        return self.error.key

    @property
    def resource_version(self) -> str:
        return self.error.resource_version


@dataclass(frozen=True, slots=True)
class DecodedPage(Generic[T]):
    """One LIST page: the objects that decoded, and placeholders for those that did not."""

    items: Sequence[T]
    resource_version: str | None
    continue_token: str | None
    undecodable: Sequence[Undecodable] = ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def identify(raw: bytes | msgspec.Raw, problem: BaseException, *, phase: str,
             event_type: str | None, api_version: str, kind: str) -> Undecodable:
    """The placeholder for raw object JSON that failed with ``problem``.

    ``api_version``/``kind`` are used when the object does not state its own.
    """
    try:
        doc = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        doc = None
    doc = doc if isinstance(doc, dict) else {}
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = _text(meta.get("name"))
    key = object_key(_text(meta.get("namespace")), name) if name else ""
    error = UndecodableObject(
        key=key,
        api_version=_text(doc.get("apiVersion")) or api_version,
        kind=_text(doc.get("kind")) or kind,
        resource_version=_text(meta.get("resourceVersion")),
        phase=phase, event_type=event_type, problem=terminal_safe(str(problem)),
        json_path=_json_path(problem))
    return Undecodable(error)


_PATH = re.compile(r"`(\$[^`]*)`\s*$")


def _json_path(problem: BaseException) -> str | None:
    """The JSON path the decoder named: from the runtime's error types, else its message."""
    for attr in ("json_path", "path"):
        value = getattr(problem, attr, None)
        if isinstance(value, str) and value.startswith("$"):
            return value
    found = _PATH.search(str(problem))
    return found.group(1) if found else None


class TolerantDecoder(Generic[T]):
    """Page and watch-line decoding for objects of ``item_type`` (see the module doc).

    ``api_version`` and ``kind`` describe the informer's resource, for error messages.
    """

    def __init__(self, item_type: Any, *, api_version: str, kind: str) -> None:
        self.api_version = api_version
        self.kind = kind
        self._page = decoder_for(page_type(item_type))
        self._raw_page = decoder_for(page_type(msgspec.Raw))
        self._item = decoder_for(item_type)
        self._event = decoder_for(event_union(item_type))
        self._raw_event = decoder_for(_RawEvent)

    def _placeholder(self, raw: msgspec.Raw, problem: BaseException, phase: str,
                     event_type: str | None) -> Undecodable:
        return identify(raw, problem, phase=phase, event_type=event_type,
                        api_version=self.api_version, kind=self.kind)

    def decode_page(self, body: bytes) -> DecodedPage[T]:
        """Decode one LIST page; raises only when the page itself is malformed."""
        try:
            page = self._page(body)
        except ValueError as whole:
            try:
                raw_page = self._raw_page(body)
            except ValueError:
                raise whole from None
            return self._item_by_item(raw_page)
        return DecodedPage(page.items or (), page.metadata.resource_version,
                           page.continue_token)

    def _item_by_item(self, raw_page: Any) -> DecodedPage[T]:
        items: list[T] = []
        bad: list[Undecodable] = []
        for raw in raw_page.items or ():
            try:
                items.append(self._item(raw))
            except ValueError as exc:
                bad.append(self._placeholder(raw, exc, "list", None))
        return DecodedPage(items, raw_page.metadata.resource_version,
                           raw_page.continue_token, bad)

    def decode_line(self, line: bytes) -> Any:
        """A ``decode_line`` for :class:`~..watch.decode.WatchDecoder`.

        Sound lines decode as usual; an object event whose object does not decode
        becomes ``WatchEvent(type, Undecodable(...))``; anything else raises as before.
        """
        try:
            return self._event(line)
        except ValueError as whole:
            try:
                envelope = self._raw_event(line)
            except ValueError:
                raise whole from None
            if envelope.type not in _OBJECT_EVENTS:
                raise whole from None
            try:
                obj = self._item(envelope.object)
            except ValueError as exc:
                return WatchEvent(envelope.type,
                                  self._placeholder(envelope.object, exc, "watch",
                                                    envelope.type))
            return WatchEvent(envelope.type, obj)


class _RawEvent(msgspec.Struct):
    """A watch line with its object left undecoded."""

    type: str
    object: msgspec.Raw

