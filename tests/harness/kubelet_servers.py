"""Servers "inside" a test pod: TCP for port-forward, HTTP for the pod and service proxy.

A test pod has no network namespace: its podIP is an address of this machine and its servers
listen there. kube-apiserver refuses to proxy ``pods/proxy`` and ``services/proxy`` to loopback or
link-local addresses (proxyutil.IsProxyableIP: "address not allowed"), so the podIP is the
machine's first non-loopback, non-link-local IPv4 address (`pod_address`), and servers bind only
there; without one the podIP is 127.0.0.1 and proxy tests must skip (`proxyable`). Port-forward
and exec go through the kubelet and work either way.
"""

from __future__ import annotations

import contextlib
import http.server
import ipaddress
import json
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

_log = logging.getLogger("tests.harness.kubelet")

LOOPBACK = "127.0.0.1"


def proxyable(address: str) -> bool:
    """What kube-apiserver's IsProxyableIP accepts."""
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


def pod_address() -> str:
    """This machine's first proxyable IPv4 address, else 127.0.0.1."""
    candidates: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: only a route lookup
        candidates.append(str(probe.getsockname()[0]))
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            candidates.append(str(info[4][0]))
    for address in candidates:
        if proxyable(address) and _bindable(address):
            return address
    return LOOPBACK


def _bindable(address: str) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((address, 0))
        return True
    except OSError:
        return False


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def echo(connection: socket.socket) -> None:
    """The default TCP handler: send back what arrives until the peer half-closes."""
    while True:
        data = connection.recv(65536)
        if not data:
            return
        connection.sendall(data)


class PodServer:
    """One server of a pod (closed with the pod)."""

    def __init__(self, server: socketserver.TCPServer) -> None:
        self._server = server
        address = server.server_address
        assert isinstance(address, tuple)
        self.host, self.port = str(address[0]), int(address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return f"PodServer({self.host}:{self.port})"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def tcp_server(host: str, port: int, handler: Callable[[socket.socket], None]) -> PodServer:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                handler(self.request)
            except OSError as exc:
                _log.debug("pod TCP connection ended: %s", exc)
            except Exception:
                _log.exception("pod TCP handler failed")

    return PodServer(_TCPServer((host, port), Handler))


@dataclass
class HttpRecord:
    """A request a pod's HTTP server received."""

    method: str
    path: str  # with the query
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class HttpAnswer:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("Content-Type", "text/plain")])


HttpHandler = Callable[[HttpRecord], HttpAnswer]


def echo_http(request: HttpRecord) -> HttpAnswer:
    """The default HTTP handler: the request as JSON (method, path, headers, body)."""
    body = json.dumps(
        {
            "method": request.method,
            "path": request.path,
            "headers": request.headers,
            "body": request.body.decode("utf-8", "replace"),
        }
    ).encode()
    return HttpAnswer(200, body, [("Content-Type", "application/json")])


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def http_server(
    host: str, port: int, handler: HttpHandler, received: list[HttpRecord]
) -> PodServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            record = HttpRecord(self.command, self.path, list(self.headers.items()), body)
            received.append(record)
            try:
                answer = handler(record)
            except Exception:
                _log.exception("pod HTTP handler failed")
                answer = HttpAnswer(500, b"handler failed")
            self.send_response(answer.status)
            for key, value in answer.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _any

        def log_message(self, format: str, *args: object) -> None:
            _log.debug("pod HTTP: " + format, *args)

    return PodServer(_HTTPServer((host, port), Handler))
