"""A deliberately misbehaving HTTP server on loopback, for the client's failure paths.

Why: a real kube-apiserver never answers a GET with an HTML login page, a 302, a body
that never ends, or one byte every few seconds -- but proxies, portals and broken
servers in front of it do, and the client must turn each of those into a typed error
within its limits. This is not a fake API server: every route answers with raw bytes
written by the test, and nothing here imitates Kubernetes behaviour.

Each route is a function that receives the connection's writable socket file and the
request line; it writes a complete (or incomplete, on purpose) HTTP/1.1 answer. The
server listens on 127.0.0.1 only, closes every connection after one answer, and stops
its threads and sockets when its context manager exits.
"""

from __future__ import annotations

import contextlib
import io
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from types import TracebackType

Route = Callable[[io.BufferedIOBase], None]


def answer(status: str, body: bytes = b"", headers: tuple[tuple[str, str], ...] = (),
           *, length: bool = True) -> Route:
    """A route sending ``status`` (``"200 OK"``), ``headers`` and ``body`` at once."""

    def send(out: io.BufferedIOBase) -> None:
        lines = [f"HTTP/1.1 {status}", "Connection: close", *(f"{k}: {v}" for k, v in headers)]
        if length:
            lines.append(f"Content-Length: {len(body)}")
        out.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    return send


def chunked(status: str, chunks: list[bytes], headers: tuple[tuple[str, str], ...] = (),
            *, pause: float = 0.0, finish: bool = True) -> Route:
    """A route streaming ``chunks`` with chunked encoding, ``pause`` seconds apart;
    ``finish=False`` cuts the connection without the terminating chunk."""

    def send(out: io.BufferedIOBase) -> None:
        head = [f"HTTP/1.1 {status}", "Connection: close", "Transfer-Encoding: chunked",
                *(f"{k}: {v}" for k, v in headers)]
        out.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        out.flush()
        for piece in chunks:
            if pause:
                time.sleep(pause)
            out.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            out.flush()
        if finish:
            out.write(b"0\r\n\r\n")

    return send


def trickle(raw: bytes, every: float) -> Route:
    """A route writing the raw answer ``raw`` one byte every ``every`` seconds."""

    def send(out: io.BufferedIOBase) -> None:
        for i in range(len(raw)):
            out.write(raw[i:i + 1])
            out.flush()
            time.sleep(every)

    return send


class _Handler(socketserver.StreamRequestHandler):
    server: _Server
    timeout = 30

    def handle(self) -> None:
        request_line = self.rfile.readline(65537).decode("latin-1")
        parts = request_line.split()
        if len(parts) < 2:
            return
        length = 0
        while True:
            header = self.rfile.readline(65537)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip() or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        method, target = parts[0], parts[1]
        path = target.split("?", 1)[0]
        self.server.seen.append((method, target))
        route = self.server.routes.get((method, path)) or self.server.routes.get(("*", path))
        if route is None:
            route = answer("404 Not Found", b"no route")
        try:
            route(self.wfile)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up (or the server is stopping): what many tests want


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[tuple[str, str], Route] = {}
        self.seen: list[tuple[str, str]] = []
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self.lock:
            self.open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self.lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def cut_all(self) -> None:
        """Shut down every open connection, so handler threads end at their next write."""
        with self.lock:
            for sock in self.open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class HostileServer:
    """``with HostileServer() as srv: srv.route("GET", "/x", answer(...))``; ``srv.url``."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def seen(self) -> list[tuple[str, str]]:
        return self._server.seen

    def route(self, method: str, path: str, route: Route) -> None:
        self._server.routes[(method, path)] = route

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.cut_all()
        self._server.server_close()
        self._thread.join(5)
