"""The thread shell of port-forward: the blocking twin of :mod:`.portforward_asyncio`.

Same behaviour (read that module's docstring): local listeners on 127.0.0.1, one WebSocket
per accepted TCP connection, the protocol in :mod:`.portforward`. Here the waiting is done
by threads: one accepts on every listener (a selector, woken by a socket pair on close),
and each connection has two, local->pod and pod->local.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Protocol

from .portforward import (
    PortForwardError,
    PortForwardProtocol,
    check_end,
    check_subprotocol,
    deliver,
    parse_ports,
)

logger = logging.getLogger("kubecodegen_runtime.streams.portforward")

_CHUNK = 64 * 1024
_JOIN_TIMEOUT = 10.0  # an upper bound for a thread to notice the close, not a measurement


class ChannelSocket(Protocol):
    """What the shell needs of a WebSocket (``kubecodegen_runtime.websocket``'s): ``send``
    and ``recv`` are called from two threads at once, as over any full-duplex socket."""

    @property
    def subprotocol(self) -> str | None: ...

    @property
    def close_code(self) -> int | None: ...

    def send(self, data: bytes) -> None: ...

    def recv(self) -> bytes | None: ...

    def close(self) -> None: ...


#: opens the WebSocket for one connection to the given remote port
Connector = Callable[[int], ChannelSocket]


class PortForward:
    """Forwards local ports on ``address`` (127.0.0.1) to a pod's ports while open.

    ``ports``: ``8080`` (local 8080 -> remote 8080) or ``(local, remote)``; local ``0``
    picks a free port, see :meth:`local_port`. Use ``with``: entering listens, leaving
    closes the listeners and every forwarded connection.
    """

    def __init__(
        self,
        connect: Connector,
        ports: Sequence[int | tuple[int, int]],
        *,
        address: str = "127.0.0.1",
    ) -> None:
        self._connect = connect
        self._pairs = parse_ports(ports)
        self._address = address
        self._listeners: dict[socket.socket, int] = {}
        self._local: dict[int, int] = {}
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._sockets: set[ChannelSocket] = set()
        self._threads: set[threading.Thread] = set()
        self._closed = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._acceptor: threading.Thread | None = None
        #: connections closed by an error (each one also logged)
        self.errors = 0

    def local_port(self, remote: int) -> int:
        """The local port that forwards to ``remote`` (useful with local port 0)."""
        if remote not in self._local:
            raise KeyError(f"remote port {remote} is not forwarded (or not listening yet)")
        return self._local[remote]

    def start(self) -> None:
        """Listen on every local port (``with`` calls this)."""
        try:
            for local, remote in self._pairs:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self._listeners[sock] = remote
                sock.bind((self._address, local))
                sock.listen(128)
                self._local[remote] = sock.getsockname()[1]
        except BaseException:
            self.close()
            raise
        self._acceptor = threading.Thread(
            target=self._accept_loop, name="port-forward accept", daemon=True
        )
        self._acceptor.start()

    def close(self) -> None:
        """Stop listening and close every forwarded connection."""
        self._closed.set()
        with contextlib.suppress(OSError):  # already closed by an earlier close()
            self._wake_w.send(b"x")
        if self._acceptor is not None and self._acceptor is not threading.current_thread():
            self._acceptor.join(_JOIN_TIMEOUT)
        for sock in self._listeners:
            sock.close()
        with self._lock:
            conns, sockets, threads = list(self._conns), list(self._sockets), list(self._threads)
        for conn in conns:
            _shutdown(conn)
        for ws in sockets:
            _close_ws(ws)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(_JOIN_TIMEOUT)
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> PortForward:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_r, selectors.EVENT_READ)
            for sock in self._listeners:
                selector.register(sock, selectors.EVENT_READ)
            while not self._closed.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._closed.is_set():
                        return
                    listener = key.fileobj
                    assert isinstance(listener, socket.socket)
                    try:
                        conn, _addr = listener.accept()
                    except OSError as exc:
                        logger.debug("port-forward accept: %s", exc)
                        continue
                    self._spawn(self._forward, self._listeners[listener], conn)

    def _spawn(self, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(target, *args),
                                  name="port-forward", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def _run(self, target: Callable[..., None], *args: object) -> None:
        try:
            target(*args)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _forward(self, remote: int, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)
        ws: ChannelSocket | None = None
        try:
            ws = self._connect(remote)
            with self._lock:
                self._sockets.add(ws)
            if self._closed.is_set():
                return
            check_subprotocol(remote, ws.subprotocol)
            proto = PortForwardProtocol([remote])
            failure: list[BaseException] = []
            up = self._spawn(self._upstream, remote, proto, conn, ws, failure)
            self._downstream(remote, proto, ws, conn)  # the pod side decides the end
            _shutdown(conn)  # wakes the upstream thread if the local side still sends
            up.join(_JOIN_TIMEOUT)
            if failure:
                raise failure[0]
        except Exception as exc:  # every failure closes only this connection
            if not self._closed.is_set():
                with self._lock:
                    self.errors += 1
                logger.warning("port-forward to remote port %d: connection closed: %s",
                               remote, exc)
        finally:
            _shutdown(conn)  # a bare close() would neither wake a blocked recv nor send FIN
            conn.close()
            if ws is not None:
                _close_ws(ws)
            with self._lock:
                self._conns.discard(conn)
                if ws is not None:
                    self._sockets.discard(ws)

    @staticmethod
    def _upstream(
        remote: int,
        proto: PortForwardProtocol,
        conn: socket.socket,
        ws: ChannelSocket,
        failure: list[BaseException],
    ) -> None:
        try:
            while chunk := conn.recv(_CHUNK):
                ws.send(proto.data(remote, chunk))
        except OSError as exc:  # our own shutdown after the pod side ended, or a reset
            logger.debug("port-forward local read ended: %s", exc)
        except Exception as exc:  # the WebSocket failed: the downstream side sees it too
            failure.append(exc)
            _shutdown(conn)

    @staticmethod
    def _downstream(
        remote: int, proto: PortForwardProtocol, ws: ChannelSocket, conn: socket.socket
    ) -> None:
        while (message := ws.recv()) is not None:
            data, error = deliver(proto.receive(message))
            if data:
                conn.sendall(data)
            if error is not None:
                raise PortForwardError(remote, error)
        check_end(remote, ws.close_code)


def _shutdown(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed or never connected
        conn.shutdown(socket.SHUT_RDWR)


def _close_ws(ws: ChannelSocket) -> None:
    try:
        ws.close()
    except Exception as exc:  # closing a broken socket: nothing else to do
        logger.debug("closing the port-forward WebSocket: %s", exc)
