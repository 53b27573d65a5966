"""A minimal HTTP CONNECT proxy on loopback that tunnels every target to one upstream.

Why: ``tls-server-name`` must survive a tunnel -- the client asks the proxy for
``CONNECT kube-api.invalid:6443``, the proxy (like a corporate proxy resolving a name
the client cannot) connects to the real API server, and the TLS handshake inside the
tunnel must present and verify ``tls-server-name``, not the URL host. This proxy does
exactly that: it accepts only CONNECT, records each target, connects to the fixed
loopback ``upstream`` whatever the target, answers ``200``, then copies bytes both ways
without looking at them (it never sees plaintext: TLS runs end to end).

Bounded: loopback only, one thread pair per tunnel, every socket closed when the
context manager exits.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from types import TracebackType


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        line = self.rfile.readline(4096).decode("latin-1").split()
        while self.rfile.readline(4096) not in (b"\r\n", b"\n", b""):
            pass
        if len(line) < 2 or line[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.targets.append(line[1])
        upstream = socket.create_connection(self.server.upstream, timeout=10)
        self.server.track(upstream)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        client = self.connection
        client.settimeout(None)
        upstream.settimeout(None)
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join(10)
        upstream.close()


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.targets: list[str] = []
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        self.track(request)
        super().process_request(request, client_address)

    def cut_all(self) -> None:
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class ConnectProxy:
    """``with ConnectProxy(("127.0.0.1", port)) as proxy``; ``proxy.url``, ``proxy.targets``."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        if upstream[0] not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("ConnectProxy forwards to loopback only")
        self._server = _Server(upstream)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def targets(self) -> list[str]:
        """The ``host:port`` of every CONNECT received, in order."""
        return self._server.targets

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.cut_all()
        self._server.server_close()
        self._thread.join(5)
