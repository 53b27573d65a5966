"""The async REST client: owns the transport, rate limiter, retry policy and warnings.

Every other async client (typed resources, discovery, dynamic) sends through
:class:`AsyncRESTClient`; it also offers untyped verbs on raw paths.
"""

from __future__ import annotations

import logging
from asyncio import sleep
from types import TracebackType
from typing import Any

from ...config.types import ClientConfig
from ...errors import ApiError, TransportError
from ...ratelimit import AsyncRateLimiter
from ...rest import request as rq
from ...rest.limits import Limits
from ...rest.request import Request
from ...rest.response import Response, WarningHandler, decode_json, error_from, is_success
from ...retry import RetryPolicy, failure_kind
from ...transport import AsyncStream, AsyncTransport

logger = logging.getLogger("kubecodegen_runtime")


class AsyncRESTClient:
    """Sends :class:`Request` values with rate limiting, retries and warning handling.

    Build it from a :class:`ClientConfig`; use it as a context manager (or call
    :meth:`aclose`) so the connection pool is released. ``retry``, ``rate_limiter``,
    ``warning_handler`` and ``transport`` may be replaced (tests, custom policies).
    ``limits`` bounds body and stream-line sizes and the total time of a request
    (see :class:`~...rest.limits.Limits`); a passed ``transport`` keeps its own.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: AsyncTransport | None = None,
        retry: RetryPolicy | None = None,
        rate_limiter: AsyncRateLimiter | None = None,
        warning_handler: WarningHandler | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.config = config
        self._transport = (
            transport if transport is not None else AsyncTransport(config, limits=limits)
        )
        self.limits: Limits = getattr(self._transport, "limits", None) or limits or Limits()
        self.retry = retry if retry is not None else RetryPolicy()
        self._limiter = (
            rate_limiter if rate_limiter is not None else AsyncRateLimiter(config.qps, config.burst)
        )
        self.warnings = warning_handler if warning_handler is not None else WarningHandler()

    @property
    def rate_limiter(self) -> AsyncRateLimiter:
        """The client-side rate limiter; clients made for the same program share it."""
        return self._limiter

    @property
    def transport(self) -> AsyncTransport:
        """The transport requests go through; a WebSocket upgrade (:mod:`...websocket`)
        opens its stream there directly (a ``101`` is no API success, nor retried)."""
        return self._transport

    @property
    def namespace(self) -> str:
        """The default namespace of the configuration (kubeconfig context or in-cluster)."""
        return self.config.namespace

    async def __aenter__(self) -> AsyncRESTClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    def _give_up_or_wait(
        self, req: Request, attempt: int, waited: float,
        error: ApiError | None = None, failure: TransportError | None = None,
    ) -> float | None:
        if failure is not None:
            kind = failure_kind(failure)
            return self.retry.delay(attempt=attempt, method=req.method, waited=waited, failure=kind)
        assert error is not None
        return self.retry.delay(
            attempt=attempt, method=req.method, waited=waited,
            status=error.status, retry_after=error.retry_after,
        )

    async def send(self, req: Request) -> Response:
        """Send and read the whole answer; raise the typed error for a failure status."""
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            await self._limiter.acquire()
            try:
                resp = await self._transport.send(req)
            except TransportError as exc:
                delay = self._give_up_or_wait(req, attempt, waited, failure=exc)
                if delay is None:
                    raise
                logger.debug("retrying %s %s in %.2fs after %s", req.method, req.path, delay, exc)
            else:
                self.warnings.handle(resp.headers)
                if is_success(resp.status_code):
                    return resp
                error = error_from(resp.status_code, resp.headers, resp.body,
                                   method=req.method, path=req.path)
                delay = self._give_up_or_wait(req, attempt, waited, error=error)
                if delay is None:
                    raise error
                logger.debug("retrying %s %s in %.2fs after %s", req.method, req.path, delay,
                             resp.status_code)
            await sleep(delay)
            waited += delay

    async def open(self, req: Request) -> AsyncStream:
        """Open a streaming answer (watch, log follow); retried like :meth:`send`."""
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            await self._limiter.acquire()
            try:
                stream = await self._transport.open(req)
            except TransportError as exc:
                delay = self._give_up_or_wait(req, attempt, waited, failure=exc)
                if delay is None:
                    raise
            else:
                self.warnings.handle(stream.headers)
                if is_success(stream.status_code):
                    return stream
                try:
                    body = await stream.read()
                finally:
                    await stream.aclose()
                error = error_from(stream.status_code, stream.headers, body,
                                   method=req.method, path=req.path)
                delay = self._give_up_or_wait(req, attempt, waited, error=error)
                if delay is None:
                    raise error
            await sleep(delay)
            waited += delay

    # --- untyped verbs on paths ------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        """Send on an absolute API path; JSON answers are decoded, others returned as bytes."""
        req = rq.raw(method, path, params=params or (), body=body, content_type=content_type)
        return decode_json(await self.send(req))

    async def get(self, path: str, *, params: list[tuple[str, str]] | None = None) -> Any:
        return await self.request("GET", path, params=params)

    async def post(self, path: str, body: bytes, *, params: list[tuple[str, str]] | None = None,
                   content_type: str = "application/json") -> Any:
        return await self.request("POST", path, params=params, body=body, content_type=content_type)

    async def put(self, path: str, body: bytes, *, params: list[tuple[str, str]] | None = None,
                  content_type: str = "application/json") -> Any:
        return await self.request("PUT", path, params=params, body=body, content_type=content_type)

    async def patch(self, path: str, body: bytes, *, content_type: str,
                    params: list[tuple[str, str]] | None = None) -> Any:
        return await self.request("PATCH", path, params=params, body=body, content_type=content_type)

    async def delete(self, path: str, *, params: list[tuple[str, str]] | None = None,
                     body: bytes | None = None) -> Any:
        return await self.request("DELETE", path, params=params, body=body)
