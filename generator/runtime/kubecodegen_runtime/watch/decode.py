"""Incremental, typed decoding of a watch stream; no I/O.

Feed byte chunks as they arrive (split anywhere: mid-line, mid-UTF-8 sequence) and get
back the events completed so far. Each line is decoded exactly once by msgspec into a
tagged union keyed on ``type``, with the object already typed; there is no
``json.loads`` followed by a conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, Union

import msgspec

from ..errors import ApiError, MalformedResponse, Status, UnexpectedKind, api_error_from_status
from ..rest.lines import DEFAULT_MAX_LINE, LineSplitter
from ..rest.response import decode_detail, type_meta_differs
from .event import Bookmark, WatchEvent

T = TypeVar("T")

#: Lines longer than this without a newline are rejected rather than buffered forever.
MAX_LINE = DEFAULT_MAX_LINE


class _Added(msgspec.Struct, Generic[T], tag_field="type", tag="ADDED"):
    object: T


class _Modified(msgspec.Struct, Generic[T], tag_field="type", tag="MODIFIED"):
    object: T


class _Deleted(msgspec.Struct, Generic[T], tag_field="type", tag="DELETED"):
    object: T


class _BookmarkMeta(msgspec.Struct, rename="camel"):
    resource_version: str = ""
    annotations: dict[str, str] | None = None


class _BookmarkObject(msgspec.Struct):
    metadata: _BookmarkMeta = msgspec.field(default_factory=_BookmarkMeta)


class _Bookmark(msgspec.Struct, tag_field="type", tag="BOOKMARK"):
    object: _BookmarkObject


class _Error(msgspec.Struct, tag_field="type", tag="ERROR"):
    object: Status


class WatchDecodeError(MalformedResponse):
    """A watch line was not a valid event for the expected type (garbage, a truncated
    line, an unknown event type, an object of the wrong shape). A
    :class:`~..errors.MalformedResponse`, hence a ``KubernetesError`` and a
    ``ValueError``; ``json_path`` is where in the event the decoder failed."""


def event_union(tp: Any) -> Any:
    """The tagged-union type that one watch line decodes into, for object type ``tp``."""
    return Union[_Added[tp], _Modified[tp], _Deleted[tp], _Bookmark, _Error]  # noqa: UP007


def _convert(raw: Any) -> WatchEvent[Any] | Bookmark:
    if isinstance(raw, (WatchEvent, Bookmark)):
        return raw  # a ``decode_line`` that builds the record itself (cache/tolerant.py)
    if isinstance(raw, _Bookmark):
        meta = raw.object.metadata
        return Bookmark(meta.resource_version, dict(meta.annotations or {}))
    if isinstance(raw, _Error):
        raise watch_error(raw.object)
    if isinstance(raw, _Added):
        return WatchEvent("ADDED", raw.object)
    if isinstance(raw, _Modified):
        return WatchEvent("MODIFIED", raw.object)
    return WatchEvent("DELETED", raw.object)


def watch_error(status: Status) -> ApiError:
    """The typed error for a watch ``ERROR`` event (410 -> ResourceExpired).

    An ERROR whose object is an odd Status (no code, or a code that is not an error)
    still ends the watch as an error: client-go treats every ERROR event as one, and
    a code below 400 would otherwise name no error class.
    """
    code = status.code if status.code and status.code >= 400 else 500
    return api_error_from_status(status, code=code)


class WatchDecoder(Generic[T]):
    """Byte chunks in, ``WatchEvent[T] | Bookmark`` out.

    ``decode_line`` is the typed line decoder; by default a plain msgspec decoder of the
    event union for ``tp``. Callers with a codec pass ``codec.decoder(event_union(tp))``'s
    ``decode`` so special types (quantities, times) decode the same way as elsewhere.
    An ``ERROR`` line raises its typed :class:`ApiError` from :meth:`feed`; events
    completed before it in the same chunk are lost only if the caller ignores the
    exception, so callers should treat the error as the end of the stream.
    ``decode_line`` may also return a finished ``WatchEvent``/``Bookmark`` itself (the
    informers' per-object tolerant decoder does). ``expect`` is the ``(apiVersion,
    kind)`` the objects must state if they state one: an object of another kind raises
    :class:`~..errors.UnexpectedKind`, as a typed get does.
    """

    def __init__(
        self, tp: Any, *, decode_line: Callable[[bytes], Any] | None = None,
        max_line: int = MAX_LINE, expect: tuple[str | None, str | None] = (None, None),
    ) -> None:
        self._decode = decode_line or msgspec.json.Decoder(event_union(tp)).decode
        self._lines = LineSplitter(max_line, what="watch event")
        self._expect = expect

    def feed(self, chunk: bytes) -> list[WatchEvent[T] | Bookmark]:
        """Add bytes; return the events whose lines are now complete.

        A line longer than ``max_line`` raises :class:`~..errors.LineTooLong`.
        """
        return [self._line(line) for line in self._lines.feed(chunk) if line.strip()]

    def close(self) -> list[WatchEvent[T] | Bookmark]:
        """End of stream: decode a final line that had no newline.

        The server ends every event with a newline, so such a line is a stream cut off
        mid-event; it is decoded anyway (and fails as a WatchDecodeError if truncated).
        """
        rest = self._lines.close()
        return [self._line(rest)] if rest.strip() else []

    def _line(self, line: bytes) -> WatchEvent[T] | Bookmark:
        try:
            raw = self._decode(line)
        except msgspec.DecodeError as exc:
            raise WatchDecodeError(
                f"bad watch event: {decode_detail(exc)}", json_path=getattr(exc, "path", None),
                expected="watch event",
            ) from None
        event = _convert(raw)
        want_version, want_kind = self._expect
        if want_kind is not None and isinstance(event, WatchEvent):
            version = getattr(event.object, "api_version", None)
            kind = getattr(event.object, "kind", None)
            if type_meta_differs(version, kind, want_version, want_kind):
                raise UnexpectedKind(
                    f"expected {want_version or '?'} {want_kind} objects in the watch, "
                    f"the server sent {version or '?'} {kind or '?'}",
                    kind=kind, api_version=version, expected=want_kind,
                )
        return event
