"""A fault-injecting TLS reverse proxy in front of the test cluster's kube-apiserver.

Why it exists: retries and rate limiting must be tested against the real server (team
standard), but a healthy kube-apiserver never answers 429 or 503 on demand, nor drops a
connection halfway. :class:`FaultProxy` terminates TLS on 127.0.0.1 with a certificate of
its own CA, forwards every request unchanged (method, path, raw query, headers including
``Authorization``, body) to the real server over verified TLS, streams the answer back as
it arrives (watches work), and replaces chosen requests by a :class:`Fault`: an error
status with or without ``Retry-After``, a connection reset, or a delay.

Bounded on purpose: it listens on loopback only and forwards to a loopback server only,
caps concurrent connections and request bodies, puts timeouts on every socket, and stops
everything (listener, open client connections, pending delays) when its context manager
exits. It records each request's method, path, arrival time and outcome -- never headers
or bodies, so credentials cannot leak into test output.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import socketserver
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from .kubeconfig import write_private
from .pki import CertificateAuthority

#: Headers that belong to one connection, not to the request (RFC 9110 section 7.6.1).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)

#: Status reasons kube-apiserver itself uses, so the client picks the same typed error.
_REASONS = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}

_MAX_BODY = 16 * 1024 * 1024
_MAX_DELAY = 30.0


@dataclass(frozen=True)
class Fault:
    """What the proxy does to a matched request instead of (or before) forwarding it.

    ``delay`` seconds pass first (the request is then forwarded unless ``status`` or
    ``drop`` say otherwise); ``status`` answers with that error code and a Kubernetes
    Status body, plus ``Retry-After: <retry_after>`` when given; ``drop`` resets the
    connection after the whole request was read, so the client cannot know whether the
    server acted on it.
    """

    status: int | None = None
    retry_after: int | None = None
    drop: bool = False
    delay: float = 0.0
    location: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and not 300 <= self.status <= 599:
            raise ValueError(f"Fault.status must be a code 300-599, not {self.status}")
        if (self.location is not None) != (self.status is not None and self.status < 400):
            raise ValueError("Fault: a redirect (3xx) needs a location, and only a redirect")
        if self.status is not None and self.drop:
            raise ValueError("Fault: give status or drop, not both")
        if self.retry_after is not None and (self.status is None or self.retry_after < 0):
            raise ValueError("Fault.retry_after needs a status and must be >= 0")
        if not 0.0 <= self.delay <= _MAX_DELAY:
            raise ValueError(f"Fault.delay must be between 0 and {_MAX_DELAY} s, not {self.delay}")

    @classmethod
    def error(cls, status: int, retry_after: int | None = None) -> Fault:
        """Answer ``status`` (with ``Retry-After`` if given) without asking the server."""
        return cls(status=status, retry_after=retry_after)

    @classmethod
    def redirect(cls, status: int, location: str) -> Fault:
        """Answer with a redirect to ``location`` (what a login portal in front does)."""
        return cls(status=status, location=location)

    @classmethod
    def reset(cls) -> Fault:
        """Read the request, then reset the connection without answering."""
        return cls(drop=True)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Hold the request for ``seconds``, then forward it normally."""
        return cls(delay=seconds)

    def describe(self) -> str:
        if self.drop:
            return "reset"
        if self.status is not None:
            suffix = f" retry-after={self.retry_after}" if self.retry_after is not None else ""
            return f"{self.status}{suffix}"
        return f"delay {self.delay:g}s"


@dataclass(frozen=True)
class Seen:
    """One request as the proxy saw it: ``outcome`` is ``"forwarded"``, ``"injected"``,
    ``"reset"`` or ``"upstream-error"``; ``status`` the code sent back (``None`` for a
    reset); ``at`` the ``time.monotonic()`` at which the request had fully arrived."""

    method: str
    path: str
    at: float
    outcome: str
    status: int | None


@dataclass
class _Rule:
    fault: Fault
    remaining: int | None
    method: str | None
    path: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or path == self.path or path.startswith(self.path + "/")


class FaultProxy:
    """A TLS-terminating reverse proxy on ``127.0.0.1:<free port>`` with injectable faults.

    Use as a context manager; :attr:`url` and :attr:`ca_file` are valid inside it, and
    :meth:`kubeconfig` copies a cluster kubeconfig so that it points here. ``upstream``
    must be a loopback ``https`` URL, verified against ``upstream_ca``.
    """

    def __init__(
        self,
        upstream: str,
        upstream_ca: Path,
        *,
        max_connections: int = 32,
        timeout: float = 30.0,
        upstream_read_timeout: float = 60.0,
    ) -> None:
        parsed = httpx.URL(upstream)
        if parsed.scheme != "https" or not _is_loopback(parsed.host):
            raise ValueError(f"FaultProxy forwards only to a loopback https server, not {upstream}")
        self._upstream = parsed
        self._upstream_ca = upstream_ca
        self._max_connections = max_connections
        self._timeout = timeout
        self._read_timeout = upstream_read_timeout
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._seen: list[Seen] = []
        self._stopping = threading.Event()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"FaultProxy({where} -> {self._upstream})"

    # ----- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Mint a CA and a serving certificate for 127.0.0.1, bind a free port, serve."""
        if self._server is not None:
            raise RuntimeError("FaultProxy is already running")
        self._stopping.clear()
        self._tmp = tempfile.TemporaryDirectory(prefix="kubecodegen-proxy-")
        folder = Path(self._tmp.name)
        ca = CertificateAuthority("kubecodegen-fault-proxy-ca")
        serving = ca.issue_serving(dns_names=["localhost"], ip_addresses=["127.0.0.1"])
        write_private(folder / "ca.crt", ca.cert_pem)
        write_private(folder / "proxy.crt", serving.cert_pem)
        write_private(folder / "proxy.key", serving.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_alpn_protocols(["http/1.1"])
        context.load_cert_chain(folder / "proxy.crt", folder / "proxy.key")
        upstream_tls = ssl.create_default_context(cafile=str(self._upstream_ca))
        self._client = httpx.Client(
            verify=upstream_tls,
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(self._timeout, read=self._read_timeout),
            limits=httpx.Limits(max_connections=self._max_connections),
        )
        self._server = _Server(self, context, self._max_connections, self._timeout)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fault-proxy",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening, cut open connections and delays, delete the certificates."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
            server.wait_idle(timeout=5.0)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # ----- addresses -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>`` of the running proxy."""
        if self._server is None:
            raise RuntimeError("FaultProxy is not running")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_file(self) -> Path:
        """The CA that signed the proxy's serving certificate (for clients to verify it)."""
        return self._folder() / "ca.crt"

    def _folder(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("FaultProxy is not running")
        return Path(self._tmp.name)

    def kubeconfig(self, source: Path) -> Path:
        """A copy of kubeconfig ``source`` whose clusters all point at this proxy.

        Users (tokens, client certificates) are kept, so requests reach the real server
        with the same credentials; each cluster's CA becomes the proxy's CA.
        """
        document = yaml.safe_load(source.read_text())
        clusters = document.get("clusters") if isinstance(document, dict) else None
        if not isinstance(clusters, list) or not clusters:
            raise ValueError(f"{source}: no clusters to point at the proxy")
        for index, entry in enumerate(clusters):
            cluster = entry.get("cluster") if isinstance(entry, dict) else None
            if not isinstance(cluster, dict):
                raise ValueError(f"{source}: clusters[{index}].cluster is not a mapping")
            cluster.pop("certificate-authority-data", None)
            cluster.pop("tls-server-name", None)
            cluster["server"] = self.url
            cluster["certificate-authority"] = str(self.ca_file)
        target = self._folder() / f"proxied-{source.name}"
        write_private(target, yaml.safe_dump(document, sort_keys=False).encode())
        return target

    # ----- faults and records --------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        times: int | None = 1,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Apply ``fault`` to the next ``times`` matching requests (``None``: all of them).

        ``method`` matches exactly (upper case); ``path`` matches that URL path or any path
        below it. Rules are tried in the order they were added; the first that still
        applies wins, so two rules for the same request apply one after the other.
        """
        if times is not None and times < 1:
            raise ValueError(f"times must be >= 1 or None, not {times}")
        rule = _Rule(fault, times, method.upper() if method else None, path and path.rstrip("/"))
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        """Forget every rule and every recorded request."""
        with self._lock:
            self._rules.clear()
            self._seen.clear()

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """Recorded requests in arrival order, optionally only one method and/or exact path."""
        with self._lock:
            seen = list(self._seen)
        picked = [
            s
            for s in seen
            if (method is None or s.method == method.upper()) and (path is None or s.path == path)
        ]
        return sorted(picked, key=lambda s: s.at)

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule.fault
        return None

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    def _upstream_client(self) -> httpx.Client:
        if self._client is None:
            raise RuntimeError("FaultProxy is not running")
        return self._client


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Threaded TCP server that wraps each accepted socket in TLS in its worker thread
    (so a slow handshake never blocks accepting) and caps concurrent connections."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = False

    def __init__(
        self, proxy: FaultProxy, context: ssl.SSLContext, max_connections: int, timeout: float
    ) -> None:
        self.proxy = proxy
        self.context = context
        self.io_timeout = timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Condition()
        self._active = 0
        self.resets: set[ssl.SSLSocket] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        with self._open_lock:
            self._active += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()
            with self._open_lock:
                self._active -= 1
                self._open_lock.notify_all()

    def finish_request(self, request: Any, client_address: Any) -> None:
        assert isinstance(request, socket.socket)
        request.settimeout(self.io_timeout)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self._open_lock:
            self._open.add(tls)
        try:
            _Handler(tls, client_address, self)
        finally:
            with self._open_lock:
                self._open.discard(tls)
            if tls in self.resets:
                self.resets.discard(tls)
                # SO_LINGER 0 makes close() send RST instead of FIN.
                tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                with contextlib.suppress(OSError):
                    tls.shutdown(socket.SHUT_RDWR)
            tls.close()

    def track(self, sock: socket.socket | None) -> None:
        """Remember an upstream socket a handler may block on (a watch stream)."""
        if sock is not None:
            with self._open_lock:
                self._open.add(sock)

    def untrack(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._open_lock:
                self._open.discard(sock)

    def close_connections(self) -> None:
        """Wake every handler blocked on a client or upstream socket so its thread ends."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._open_lock:
            while self._active > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._open_lock.wait(left)


class _Handler(BaseHTTPRequestHandler):
    """One client connection: keep-alive HTTP/1.1, each request faulted or forwarded."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.io_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry queries, and the test output needs no access log."""

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # the client vanished, TLS failed, or stop() cut the socket
            self.close_connection = True

    def _serve(self) -> None:
        """Read the request, then fault or forward it. Each request is recorded before
        anything is written back, so a client that has its answer also finds the record."""
        body = self._read_body()
        if body is None:
            return
        path = urlsplit(self.path).path
        method = self.command
        arrived = time.monotonic()
        proxy = self.server.proxy
        fault = proxy._take(method, path)
        if fault is not None and fault.delay > 0 and proxy._stopping.wait(fault.delay):
            self._reset()
            return
        if fault is not None and fault.drop:
            proxy._record(Seen(method, path, arrived, "reset", None))
            self._reset()
            return
        if fault is not None and fault.status is not None:
            proxy._record(Seen(method, path, arrived, "injected", fault.status))
            message = f"injected by the test proxy ({fault.describe()})"
            if fault.location is not None:
                self._send_redirect(fault.status, fault.location)
            else:
                self._send_status(fault.status, fault.retry_after, message)
            return
        self._forward(body, Seen(method, path, arrived, "forwarded", None))

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._send_status(411, None, "the test proxy needs Content-Length on request bodies")
            self.close_connection = True
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY:
            self._send_status(413, None, f"request body length must be 0..{_MAX_BODY} bytes")
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _reset(self) -> None:
        self.close_connection = True
        assert isinstance(self.request, ssl.SSLSocket)
        self.server.resets.add(self.request)

    def _send_redirect(self, code: int, location: str) -> None:
        page = b"<html><body>Moved</body></html>"
        try:
            self.send_response_only(code)
            self.send_header("Location", location)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
        except OSError:
            self.close_connection = True

    def _send_status(self, code: int, retry_after: int | None, message: str) -> None:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "code": code,
        }
        if code in _REASONS:
            status["reason"] = _REASONS[code]
        payload = json.dumps(status).encode()
        try:
            self.send_response_only(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    def _forward(self, body: bytes, seen: Seen) -> None:
        proxy = self.server.proxy
        client = proxy._upstream_client()
        url = proxy._upstream.copy_with(raw_path=self.path.encode("ascii"))
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        request = client.build_request(self.command, url, headers=headers, content=body or None)
        try:
            response = client.send(request, stream=True)
        except httpx.HTTPError as exc:
            proxy._record(replace(seen, outcome="upstream-error", status=502))
            self._send_status(502, None, f"test proxy: upstream failed ({type(exc).__name__})")
            return
        proxy._record(replace(seen, status=response.status_code))
        upstream = _socket_of(response)
        self.server.track(upstream)
        try:
            self._relay(response)
        except (OSError, httpx.HTTPError):
            # The client went away or the upstream stream broke mid-answer: this
            # connection's framing is now unknown, so it cannot be reused.
            self.close_connection = True
        finally:
            self.server.untrack(upstream)
            response.close()

    def _relay(self, response: httpx.Response) -> None:
        self.send_response_only(response.status_code, response.reason_phrase)
        for key, value in response.headers.multi_items():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        bodiless = self.command == "HEAD" or response.status_code in (204, 304)
        length = response.headers.get("content-length")
        if bodiless:
            if length is not None:
                self.send_header("Content-Length", length)
            self.end_headers()
            return
        if length is not None and "transfer-encoding" not in response.headers:
            self.send_header("Content-Length", length)
            self.end_headers()
            for chunk in response.iter_raw():
                self.wfile.write(chunk)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in _nonempty(response.iter_raw()):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _socket_of(response: httpx.Response) -> socket.socket | None:
    """The socket under a streamed httpx response, so that stop() can cut a watch that
    the upstream server would otherwise keep open until its own timeout."""
    network = response.extensions.get("network_stream")
    sock = network.get_extra_info("socket") if network is not None else None
    return sock if isinstance(sock, socket.socket) else None


def _nonempty(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Skip empty chunks: a zero-length chunk would end a chunked body early."""
    return (chunk for chunk in chunks if chunk)
