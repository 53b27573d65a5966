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
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from ..config.types import ClientConfig
from ..rest.limits import DEFAULT_LIMITS, Limits
from ..rest.request import Request
from ..rest.response import Response

if TYPE_CHECKING:
    from .server import FakeServer, WatchFeed

#: How long one wait on a quiet watch lasts before the stream checks it was aborted.
_POLL = 0.05


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

    def __init__(self, server: FakeServer, config: ClientConfig,
                 limits: Limits | None = None) -> None:
        self.server = server
        self.config = config
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.user_agent = config.user_agent or ""

    def send(self, req: Request) -> Response:
        return self.server.handle(req, user_agent=self.user_agent)

    def open(self, req: Request) -> FakeStream:
        answer = self.server.open_watch(req, user_agent=self.user_agent)
        if isinstance(answer, Response):
            return FakeStream(answer.status_code, answer.headers, answer.body)
        return FakeStream(200, answer.headers, feed=answer)

    def close(self) -> None:
        """Nothing to release: the server outlives its clients."""


class AsyncFakeTransport:
    """Async twin of :class:`FakeTransport`; waits on watches without blocking the loop."""

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
