"""A total deadline for blocking requests, enforced at every socket operation.

httpx's timeouts are per operation: each read may take up to the read timeout, so a
server that sends one byte just before each timeout keeps a request alive forever --
while it trickles the *headers* as well as the body. The async transport bounds the
whole request with a cancellation; a blocking call cannot be cancelled, so the sync
transport instead runs it under :func:`deadline` and every connect, TLS handshake,
read and write of the connection gets as timeout what is left of the deadline (never
more than its own timeout). When nothing is left the operation fails with httpcore's
timeout, which the transport reports as :class:`~.errors.DeadlineExceeded`.

The deadline is a context variable, so it applies only to the request that set it (in
its own thread): streams (watches, followed logs) and other threads are unaffected, even
on the same pooled connection.

How it is installed (:func:`install`) depends on two private attributes of httpx 0.28
/ httpcore 1.x (the transport's ``_pool`` and the pool's ``_network_backend``);
:func:`install` reports whether it succeeded and the test suite checks that it does, so
an httpx upgrade that moves them fails loudly instead of silently losing the bound.
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
import time
import typing
from collections.abc import Iterable, Iterator

import httpcore
import httpx

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "kubecodegen_request_deadline", default=None
)


@contextlib.contextmanager
def deadline(at: float) -> Iterator[None]:
    """Run the enclosed blocking request with the ``time.monotonic()`` deadline ``at``."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def bounded(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left of the current deadline (if any)."""
    at = _DEADLINE.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request deadline has passed")
    return left if timeout is None else min(timeout, left)


def expired() -> bool:
    """Whether the current request's deadline has passed."""
    at = _DEADLINE.get()
    return at is not None and time.monotonic() >= at


class _Stream(httpcore.NetworkStream):
    """A connection whose every operation is bounded by the current deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, bounded(timeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Opens connections through ``inner`` and wraps them in :class:`_Stream`."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.connect_tcp(host, port, bounded(timeout), local_address,
                                              socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[typing.Any] | None = None,
                            ) -> httpcore.NetworkStream:
        return _Stream(self.inner.connect_unix_socket(path, bounded(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def install(client: httpx.Client) -> bool:
    """Put every connection pool of ``client`` (direct and proxied) under the deadline.

    Returns ``False`` if some pool could not be reached (an httpx layout this module
    does not know); the request then keeps only the per-read bound.
    """
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    done = True
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, _Backend):
            continue
        if pool is None or not isinstance(backend, httpcore.NetworkBackend):
            done = False
            continue
        pool._network_backend = _Backend(backend)
    return done
