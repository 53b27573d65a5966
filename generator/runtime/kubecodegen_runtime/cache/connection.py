"""The sync reflector's own connections, so that stopping an informer interrupts a request.

Why: a blocking httpx request cannot be cancelled from another thread. A LIST stalled by
a slow or hung server (or proxy) used to hold ``SharedInformer.stop()`` until the
client's read timeout, and the HTTP retries after it, had run out -- minutes. Closing a
socket does not wake a thread blocked reading it; shutting it down does, and the read
then fails at once.

So each sync reflector sends its LISTs and WATCHes through :class:`InterruptibleClient`:
a :class:`~..client.RESTClient` with the caller's configuration, rate limiter, retry
policy, warning handler and limits, over an httpx connection pool of its own. A
reflector makes one request at a time, and with HTTP/1.1 a watch occupies a connection
for its whole life anyway, so this costs no extra connections (and many informers can
no longer exhaust the shared pool's connection limit with their watches). Every socket
the pool opens is recorded through httpcore's documented ``trace`` request extension
(the transport's ``trace`` option); :meth:`InterruptibleClient.cut` shuts them all down.
After ``cut()``:

* a blocked connect, send or read fails at once (a ``TransportError``);
* a new request fails before it touches the network, and a socket still being opened is
  shut down as soon as it exists;
* the retry policy gives up instead of retrying, and a retry wait in progress ends.

The asyncio informer needs none of this: cancelling its task cancels the request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import weakref
from typing import Any

import httpcore

from ..client._sync.rest import RESTClient
from ..retry import Failure, RetryPolicy
from ..transport import Transport

#: httpcore trace events whose ``return_value`` is a freshly opened network stream.
_NEW_STREAM_EVENTS = frozenset({"connection.connect_tcp.complete",
                                "connection.start_tls.complete"})
#: The first event of every request: opening a connection, or sending on a pooled one.
_REQUEST_STARTS = frozenset({"connection.connect_tcp.started",
                             "http11.send_request_headers.started",
                             "http2.send_request_headers.started"})


_RETRY_FIELDS = tuple(f.name for f in dataclasses.fields(RetryPolicy))
"""RetryPolicy's field names, read once (``dataclasses.fields`` costs ~5 µs per informer)."""


class StopAwareRetry(RetryPolicy):
    """``inner``'s decisions, except that nothing is retried once ``cut`` is set, and the
    wait before a retry is spent on ``cut`` (so it ends early) instead of in a sleep.

    The REST client is told to wait 0 s; the time actually waited is tracked here per
    request (attempt 1 starts a new one) so ``inner``'s total-wait bound still holds.
    """

    def __init__(self, inner: RetryPolicy, cut: threading.Event) -> None:
        # The same settings, so that code reading them (logs, reprs) sees the real policy.
        super().__init__(**{name: getattr(inner, name) for name in _RETRY_FIELDS})
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "cut", cut)
        object.__setattr__(self, "_waited", [0.0])

    inner: RetryPolicy
    cut: threading.Event
    _waited: list[float]

    def backoff(self, attempt: int) -> float:
        return self.inner.backoff(attempt)

    def delay(self, *, attempt: int, method: str, waited: float = 0.0,
              status: int | None = None, retry_after: float | None = None,
              failure: Failure | None = None) -> float | None:
        if attempt <= 1:
            self._waited[0] = 0.0
        if self.cut.is_set():
            return None
        wait = self.inner.delay(attempt=attempt, method=method, waited=self._waited[0],
                                status=status, retry_after=retry_after, failure=failure)
        if wait is None or self.cut.wait(wait):
            return None
        self._waited[0] += wait
        return 0.0


class InterruptibleClient:
    """A REST client over private connections that another thread can :meth:`cut`."""

    def __init__(self, rest: RESTClient, *, cut: threading.Event | None = None) -> None:
        """``cut``: an event of the owner's that means "stopping" (its reflector's), so
        one event serves both instead of two to make and set; :meth:`cut` sets it."""
        self._cut = cut if cut is not None else threading.Event()
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        # An owned transport: it also renews its pool when an exec plugin rotates the
        # client certificate, as the caller's does. A transport without sockets (the fake
        # server's) offers ``fork()``: a private copy whose ``cut()`` ends its streams.
        fork = getattr(getattr(rest, "_transport", None), "fork", None)
        transport: Transport = fork() if callable(fork) else \
            Transport(rest.config, limits=rest.limits, trace=self._trace)
        self._transport = transport
        self.rest = RESTClient(
            rest.config, transport=transport, retry=StopAwareRetry(rest.retry, self._cut),
            rate_limiter=rest.rate_limiter, warning_handler=rest.warnings)

    @property
    def is_cut(self) -> bool:
        return self._cut.is_set()

    def cut(self) -> None:
        """Make the request in flight (if any) fail now, and every later one at once.

        Safe to call from any thread, more than once.
        """
        with self._lock:
            self._cut.set()
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)
        cut_streams = getattr(self._transport, "cut", None)
        if callable(cut_streams):
            cut_streams()

    def close(self) -> None:
        """Release the connection pool (call from the thread that used the client)."""
        self.rest.close()

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback, called on the requesting thread at each step."""
        if event in _REQUEST_STARTS and self._cut.is_set():
            # httpx reports it as a connect failure: nothing was sent, nothing retried.
            raise httpcore.ConnectError("the informer is stopping")
        if event not in _NEW_STREAM_EVENTS:
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.add(sock)
            cut = self._cut.is_set()
        if cut:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
