"""Sync and async transports over the fake server: the real transports' duck type.

:class:`FakeTransport` / :class:`AsyncFakeTransport` have ``send``, ``open``,
``close`` / ``aclose``, ``config`` and ``limits`` like :class:`~..transport.Transport`
and :class:`~..transport.AsyncTransport`, so a real :class:`~..client.RESTClient` runs
over them. Everything they do is in :mod:`.server`; they only turn its answers into
responses and streams. A watch stream yields the JSON lines a real server sends
(``{"type": ..., "object": ...}`` and a newline per event).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from ..config.types import ClientConfig
from ..errors import TransportError
from ..rest.limits import DEFAULT_LIMITS, Limits
from ..rest.request import Request
from ..rest.response import Response

if TYPE_CHECKING:
    from .server import FakeServer, WatchFeed

#: How long one wait on a quiet watch lasts before the stream checks it was aborted.
_POLL = 1.0


class FakeStream:
    """An open answer: a whole body (errors, logs) or a live watch feed."""

    def __init__(self, status_code: int, headers: tuple[tuple[str, str], ...],
                 body: bytes = b"", feed: WatchFeed | None = None) -> None:
        self.status_code = status_code
        self.headers = headers
        self._body = body
        self._feed = feed

    def iter_chunks(self) -> Iterator[bytes]:
        if self._feed is None:
            if self._body:
                yield self._body
            return
        feed = self._feed
        while True:
            chunk = feed.next(_POLL)
            if chunk is None:
                if feed.ended:
                    return
                continue
            yield chunk

    def read(self) -> bytes:
        return b"".join(self.iter_chunks())

    def close(self) -> None:
        if self._feed is not None:
            self._feed.close()

    def abort(self) -> None:
        """End the stream from another thread: the reader's iteration stops."""
        self.close()


class AsyncFakeStream:
    """Async twin of :class:`FakeStream`."""

    def __init__(self, status_code: int, headers: tuple[tuple[str, str], ...],
                 body: bytes = b"", feed: WatchFeed | None = None) -> None:
        self.status_code = status_code
        self.headers = headers
        self._body = body
        self._feed = feed

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        if self._feed is None:
            if self._body:
                yield self._body
            return
        feed = self._feed
        while True:
            chunk = await feed.next_async()
            if chunk is None:
                if feed.ended:
                    return
                continue
            yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.iter_chunks()])

    async def aclose(self) -> None:
        if self._feed is not None:
            self._feed.close()


class FakeTransport:
    """Answers requests from a :class:`~.server.FakeServer` in the calling thread."""

    #: Nothing of a fake cluster may be cached outside the process (discovery's disk
    #: cache skips such clients: every fake cluster has the same URL).
    memory_only = True

    def __init__(self, server: FakeServer, config: ClientConfig,
                 limits: Limits | None = None) -> None:
        self.server = server
        self.config = config
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.user_agent = config.user_agent or ""
        self._lock = threading.Lock()
        self._cut = False
        #: The streams opened so far; made at the first (most clients never stream,
        #: and a WeakSet costs more to make than the rest of a transport).
        self._open: weakref.WeakSet[FakeStream] | None = None

    def _refuse_if_cut(self, req: Request) -> None:
        if self._cut:
            raise TransportError("the client was cut off", method=req.method,
                                 url=f"{self.config.server}{req.path}", sent=False)

    def send(self, req: Request) -> Response:
        self._refuse_if_cut(req)
        return self.server.handle(req, user_agent=self.user_agent)

    def open(self, req: Request) -> FakeStream:
        self._refuse_if_cut(req)
        answer = self.server.open_watch(req, user_agent=self.user_agent)
        if isinstance(answer, Response):
            return FakeStream(answer.status_code, answer.headers, answer.body)
        stream = FakeStream(200, answer.headers, feed=answer)
        with self._lock:
            if self._open is None:
                self._open = weakref.WeakSet()
            self._open.add(stream)
            cut = self._cut
        if cut:
            stream.abort()
        return stream

    def fork(self) -> FakeTransport:
        """A private transport to the same server, for a client that another thread
        must be able to interrupt (a sync informer's reflector): see :meth:`cut`."""
        return FakeTransport(self.server, self.config, self.limits)

    def cut(self) -> None:
        """End every stream this transport opened, and refuse every later request (a
        TransportError that was never sent), from any thread."""
        with self._lock:
            self._cut = True
            streams = list(self._open) if self._open is not None else []
        for stream in streams:
            stream.abort()

    def close(self) -> None:
        """Nothing to release: the server outlives its clients."""


class AsyncFakeTransport:
    """Async twin of :class:`FakeTransport`; waits on watches without blocking the loop."""

    memory_only = True

    def __init__(self, server: FakeServer, config: ClientConfig,
                 limits: Limits | None = None) -> None:
        self.server = server
        self.config = config
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.user_agent = config.user_agent or ""

    async def send(self, req: Request) -> Response:
        await asyncio.sleep(0)  # a real request yields to the loop; so does this one
        return self.server.handle(req, user_agent=self.user_agent)

    async def open(self, req: Request) -> AsyncFakeStream:
        await asyncio.sleep(0)
        answer = self.server.open_watch(req, user_agent=self.user_agent)
        if isinstance(answer, Response):
            return AsyncFakeStream(answer.status_code, answer.headers, answer.body)
        return AsyncFakeStream(200, answer.headers, feed=answer)

    async def aclose(self) -> None:
        """Nothing to release."""
