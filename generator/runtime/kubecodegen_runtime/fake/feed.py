"""A watch answer as the transports read it: JSON event lines from an event source.

The server turns every watch into a :class:`WatchFeed`: the lines of a live
subscription to the tracker's event log, or a fixed list (a watch reactor's events,
the single ``ERROR`` event of a too-old resourceVersion). The transports ask for the
next chunk with a timeout (sync) or await it (async); :meth:`WatchFeed.close` ends it
from any thread, which is how an informer's ``stop()`` interrupts a quiet watch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import msgspec

_encode = msgspec.json.Encoder().encode

JSON_HEADERS: tuple[tuple[str, str], ...] = (("content-type", "application/json"),)


class EventSource(Protocol):
    """Where a feed's events come from.

    ``poll`` returns the events available now (waiting up to ``timeout`` seconds for
    the first), ``[]`` when none came in time, ``None`` once the source has ended
    (closed, timed out, or exhausted).
    """

    def poll(self, timeout: float | None) -> list[Mapping[str, Any]] | None: ...

    async def poll_async(self) -> list[Mapping[str, Any]] | None: ...

    def close(self) -> None: ...


class FixedEvents:
    """A source of a fixed list of events, then the end of the stream."""

    def __init__(self, events: Iterable[Mapping[str, Any]]) -> None:
        self._events: list[Mapping[str, Any]] | None = list(events)

    def poll(self, timeout: float | None) -> list[Mapping[str, Any]] | None:
        events, self._events = self._events, None
        return events

    async def poll_async(self) -> list[Mapping[str, Any]] | None:
        return self.poll(None)

    def close(self) -> None:
        self._events = None


def event_line(event: Mapping[str, Any]) -> bytes:
    """One event as the server writes it: compact JSON and a newline."""
    return _encode(event) + b"\n"


class WatchFeed:
    """The body of a watch answer, one chunk (one or more event lines) at a time."""

    def __init__(self, source: EventSource,
                 headers: tuple[tuple[str, str], ...] = JSON_HEADERS) -> None:
        self.source = source
        self.headers = headers
        self.ended = False

    def _chunk(self, events: list[Mapping[str, Any]] | None) -> bytes | None:
        if events is None:
            self.ended = True
            return None
        if not events:
            return None
        return b"".join(event_line(e) for e in events)

    def next(self, timeout: float | None) -> bytes | None:
        """The next lines, or ``None`` if nothing came within ``timeout`` (or the feed
        ended: then :attr:`ended` is true)."""
        if self.ended:
            return None
        return self._chunk(self.source.poll(timeout))

    async def next_async(self) -> bytes | None:
        if self.ended:
            return None
        return self._chunk(await self.source.poll_async())

    def close(self) -> None:
        """End the feed (from any thread); a reader waiting in :meth:`next` returns."""
        self.ended = True
        self.source.close()
