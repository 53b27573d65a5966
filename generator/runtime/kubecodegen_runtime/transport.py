"""The one module that talks HTTP: httpx clients built from a ClientConfig.

:class:`Transport` and :class:`AsyncTransport` send :class:`~.rest.request.Request`
values and return :class:`~.rest.response.Response` values (or open streams for watch
and log follow). They know nothing about retries, rate limits or Kubernetes errors --
the REST clients layer those on top -- and they translate every httpx failure into
:class:`~.errors.TransportError` in exactly one place, :func:`_translate`. They enforce
the size limits and the total deadline of :class:`~.rest.limits.Limits` (the sync one
with :mod:`.deadline`, the async one by cancellation).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from . import deadline
from .config.errors import ConfigError
from .config.types import ClientConfig
from .errors import TransportError
from .proxy import proxy_for
from .rest.limits import DEFAULT_LIMITS, BodyCollector, Limits
from .rest.request import Request
from .rest.response import Response
from .sni import ServerNameContext

#: Version of this runtime, sent in the default User-Agent.
RUNTIME_VERSION = "0.1.0"
DEFAULT_USER_AGENT = f"kubecodegen/{RUNTIME_VERSION} (python)"


def _safe_url(url: httpx.URL) -> str:
    """Scheme, host, port and path only: never user-info or query."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


def _translate(exc: httpx.HTTPError, request: httpx.Request | None) -> TransportError:
    """Map an httpx failure to TransportError (the only place this happens)."""
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    kind = type(exc).__name__
    detail = str(exc) or kind
    if request is None:
        return TransportError(f"{kind}: {detail}", method="?", url="?", sent=sent)
    return TransportError(
        f"{kind}: {detail}", method=request.method, url=_safe_url(request.url), sent=sent
    )


def _proxy(config: ClientConfig) -> str | None:
    """The kubeconfig's ``proxy-url`` if set (used for every request, as in client-go),
    else Go's environment rules (:func:`..proxy.proxy_for`: never for loopback servers)."""
    return config.proxy or proxy_for(config.server, os.environ)


def _client_kwargs(config: ClientConfig) -> dict[str, Any]:
    """httpx client options. httpx's own environment handling is off (``trust_env``):
    the proxy is decided by :func:`_proxy`, and nothing else (netrc credentials, CA
    variables) is taken from the environment, as in client-go."""
    headers = [("User-Agent", config.user_agent or DEFAULT_USER_AGENT), *config.default_headers()]
    proxy = _proxy(config)
    verify: ssl.SSLContext = config.verify
    if proxy and config.tls_server_name:
        verify = ServerNameContext(config.verify, config.tls_server_name)
    kwargs: dict[str, Any] = {
        "trust_env": False,
        "base_url": config.server,
        "verify": verify,
        "auth": config.auth,
        "headers": headers,
        "timeout": httpx.Timeout(config.timeout),
        "follow_redirects": False,
    }
    if proxy:
        kwargs["proxy"] = proxy
    return kwargs


def _socks_missing(proxy: str | None) -> ConfigError:
    """The error for a SOCKS proxy without httpx's optional SOCKS support; names only the
    scheme (a proxy URL may hold credentials)."""
    scheme = (proxy or "").split("://", 1)[0]
    return ConfigError(
        f"the proxy is a {scheme} proxy, which needs the optional SOCKS support of httpx: "
        "install it with pip install 'httpx[socks]'"
    )


def build_client(config: ClientConfig) -> httpx.Client:
    """An ``httpx.Client`` for the configured server: TLS, auth, proxy, timeout, UA;
    its connections obey the request deadline (:mod:`.deadline`)."""
    kwargs = _client_kwargs(config)
    try:
        client = httpx.Client(**kwargs)
    except ImportError:
        raise _socks_missing(kwargs.get("proxy")) from None
    deadline.install(client)
    return client


def build_async_client(config: ClientConfig) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` twin of :func:`build_client`."""
    kwargs = _client_kwargs(config)
    try:
        return httpx.AsyncClient(**kwargs)
    except ImportError:
        raise _socks_missing(kwargs.get("proxy")) from None


def _headers(resp: httpx.Response) -> tuple[tuple[str, str], ...]:
    return tuple((k.lower(), v) for k, v in resp.headers.multi_items())


#: An httpcore trace callback: ``(event name, info)`` at each connection step.
Trace = Callable[[str, dict[str, Any]], None]


def _build(
    client: httpx.Client | httpx.AsyncClient, config: ClientConfig, req: Request,
    deadline: float | None = None, trace: Trace | None = None,
) -> httpx.Request:
    """The httpx request for ``req``. Streams have no read timeout (a watch is quiet for
    minutes); other requests have per-operation timeouts no longer than ``deadline``,
    the total time they may take. ``trace`` is passed to httpcore (see
    :class:`Transport`)."""
    headers = [("Accept", req.accept), *req.headers]
    if req.content_type is not None:
        headers.append(("Content-Type", req.content_type))
    extensions: dict[str, Any] = {}
    if config.tls_server_name:
        extensions["sni_hostname"] = config.tls_server_name
    if trace is not None:
        extensions["trace"] = trace
    timeout: httpx.Timeout | None = None
    if req.stream:
        timeout = httpx.Timeout(config.timeout, read=None)
    elif deadline is not None and deadline < config.timeout:
        timeout = httpx.Timeout(deadline)
    kwargs: dict[str, Any] = {}
    if timeout is not None:
        kwargs["timeout"] = timeout
    return client.build_request(
        req.method,
        req.path,
        params=list(req.params) if req.params else None,
        headers=headers,
        content=req.body,
        extensions=extensions,
        **kwargs,
    )


#: What a finished response's stream is replaced by (see :func:`_release`).
_SPENT = httpx.ByteStream(b"")


def _release(resp: httpx.Response) -> None:
    """Break the reference cycle httpx leaves behind a response.

    ``httpx.Response.stream`` is a bound stream that points back at the response, so
    every answer (its request, headers and anything still buffered) lives until the
    cyclic garbage collector runs, not until the last reference goes. Over a long
    ``list_all`` that is several pages of garbage at a time. Once the response is
    closed its stream is useless; replacing it frees everything by reference counting.
    """
    resp.stream = _SPENT


def _response(resp: httpx.Response, body: bytes, req: Request) -> Response:
    return Response(resp.status_code, _headers(resp), body, req.method, req.path)


class Stream:
    """An open streaming response; iterate :meth:`iter_chunks`, then :meth:`close`."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code
        self.headers = _headers(response)

    @property
    def response(self) -> httpx.Response:
        """The httpx response (a WebSocket upgrade takes its ``network_stream``)."""
        return self._response

    def iter_chunks(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes()
        except httpx.HTTPError as exc:
            raise _translate(exc, self._response.request) from exc

    def read(self) -> bytes:
        try:
            return self._response.read()
        except httpx.HTTPError as exc:
            raise _translate(exc, self._response.request) from exc

    def close(self) -> None:
        self._response.close()
        _release(self._response)

    def abort(self) -> None:
        """Wake a thread blocked reading this stream, from another thread.

        Closing a response does not interrupt a blocked read (the read holds the
        connection); shutting the socket down does, and the reader then sees a
        TransportError. Safe to call more than once, or after the stream ended.
        """
        network = self._response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class AsyncStream:
    """Async twin of :class:`Stream`."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code
        self.headers = _headers(response)

    @property
    def response(self) -> httpx.Response:
        """The httpx response (a WebSocket upgrade takes its ``network_stream``)."""
        return self._response

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise _translate(exc, self._response.request) from exc

    async def read(self) -> bytes:
        try:
            return await self._response.aread()
        except httpx.HTTPError as exc:
            raise _translate(exc, self._response.request) from exc

    async def aclose(self) -> None:
        await self._response.aclose()
        _release(self._response)


class _CertificateGenerations:
    """Client-certificate rotation by an exec plugin, as both transports see it.

    The plugin's new certificate is loaded into the shared SSL context, but pooled
    keep-alive connections were authenticated with the old one, and the API server
    re-checks the certificate on every request, so they answer 401. When a rotation
    happens during a request that then fails with 401, the transport builds a fresh
    client (new pool, new handshakes) and sends the request once more. Old clients are
    kept until close: streams (watches) opened on them stay readable.
    """

    def __init__(self, config: ClientConfig, owned: bool) -> None:
        self.generation = 0
        listen = getattr(config.auth, "add_certificate_listener", None)
        if owned and callable(listen):
            listen(self._rotated)

    def _rotated(self) -> None:
        self.generation += 1

    def retry_with_fresh_client(self, status: int, started_at: int) -> bool:
        return status == 401 and self.generation != started_at


class Transport:
    """Blocking sends over one ``httpx.Client`` (owned unless passed in).

    ``limits`` bounds body sizes and the total time of a non-streaming request; the
    deadline bounds every socket operation of a non-streaming request (:mod:`.deadline`).
    ``trace`` is given to httpcore with every request (it sees each connection as it is
    made: the informers use it to find the socket of a stalled request).
    """

    def __init__(self, config: ClientConfig, client: httpx.Client | None = None,
                 limits: Limits | None = None, *, trace: Trace | None = None) -> None:
        self.config = config
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.trace = trace
        self._owned = client is None
        self._client = client if client is not None else build_client(config)
        self._retired: list[httpx.Client] = []
        self._certs = _CertificateGenerations(config, self._owned)

    def _fresh_client(self) -> None:
        self._retired.append(self._client)
        self._client = build_client(self.config)

    def _send(self, req: Request, deadline: float | None = None) -> httpx.Response:
        started_at = self._certs.generation
        request = _build(self._client, self.config, req, deadline, self.trace)
        try:
            resp = self._client.send(request, stream=True)
            if self._certs.retry_with_fresh_client(resp.status_code, started_at):
                resp.close()
                _release(resp)
                self._fresh_client()
                request = _build(self._client, self.config, req, deadline, self.trace)
                resp = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _translate(exc, request) from exc
        return resp

    def send(self, req: Request) -> Response:
        """Send and read the whole answer within the size limit and the deadline.

        Every socket operation of the exchange (connect, handshake, each read and
        write) is bounded by what is left of the deadline (:mod:`.deadline`).
        """
        total = self.limits.deadline_for(self.config.timeout)
        started = time.monotonic()
        collector = BodyCollector(self.limits, total, req.method, req.path, started)
        with deadline.deadline(started + total):
            try:
                resp = self._send(req, total)
            except TransportError as exc:
                if deadline.expired():
                    raise collector.expired(exc.url) from exc
                raise
            try:
                url = _safe_url(resp.request.url)
                collector.declared(resp.headers, resp.status_code)
                for chunk in resp.iter_bytes():
                    collector.add(chunk, resp.status_code, url)
            except httpx.HTTPError as exc:
                if deadline.expired():
                    raise collector.expired(_safe_url(resp.request.url)) from exc
                raise _translate(exc, resp.request) from exc
            finally:
                resp.close()
                _release(resp)
        return _response(resp, collector.body(), req)

    def open(self, req: Request) -> Stream:
        return Stream(self._send(req))

    def close(self) -> None:
        if self._owned:
            for client in [*self._retired, self._client]:
                with contextlib.suppress(httpx.HTTPError):
                    client.close()


class AsyncTransport:
    """Async twin of :class:`Transport` over one ``httpx.AsyncClient``; the deadline
    bounds the whole request, connect and headers included (it is a cancellation)."""

    def __init__(self, config: ClientConfig, client: httpx.AsyncClient | None = None,
                 limits: Limits | None = None, *, trace: Trace | None = None) -> None:
        self.config = config
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.trace = trace
        self._owned = client is None
        self._client = client if client is not None else build_async_client(config)
        self._retired: list[httpx.AsyncClient] = []
        self._certs = _CertificateGenerations(config, self._owned)

    def _fresh_client(self) -> None:
        self._retired.append(self._client)
        self._client = build_async_client(self.config)

    async def _send(self, req: Request, deadline: float | None = None) -> httpx.Response:
        started_at = self._certs.generation
        request = _build(self._client, self.config, req, deadline, self.trace)
        try:
            resp = await self._client.send(request, stream=True)
            if self._certs.retry_with_fresh_client(resp.status_code, started_at):
                await resp.aclose()
                _release(resp)
                self._fresh_client()
                request = _build(self._client, self.config, req, deadline, self.trace)
                resp = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _translate(exc, request) from exc
        return resp

    async def _read(self, req: Request, collector: BodyCollector, total: float) -> Response:
        resp = await self._send(req, total)
        try:
            url = _safe_url(resp.request.url)
            collector.declared(resp.headers, resp.status_code)
            async for chunk in resp.aiter_bytes():
                collector.add(chunk, resp.status_code, url)
        except httpx.HTTPError as exc:
            raise _translate(exc, resp.request) from exc
        finally:
            await resp.aclose()
            _release(resp)
        return _response(resp, collector.body(), req)

    async def send(self, req: Request) -> Response:
        """Send and read the whole answer within the size limit and the deadline."""
        total = self.limits.deadline_for(self.config.timeout)
        collector = BodyCollector(self.limits, total, req.method, req.path, time.monotonic())
        try:
            return await asyncio.wait_for(self._read(req, collector, total), total)
        except asyncio.TimeoutError:
            url = _safe_url(self._client.base_url.join(req.path))
            raise collector.expired(url) from None

    async def open(self, req: Request) -> AsyncStream:
        return AsyncStream(await self._send(req))

    async def aclose(self) -> None:
        if self._owned:
            for client in [*self._retired, self._client]:
                with contextlib.suppress(httpx.HTTPError):
                    await client.aclose()
