"""The asyncio shell of port-forward: local listeners, one WebSocket per TCP connection.

Like kubectl's WebSocket forwarder, every accepted connection opens its own
``.../pods/{name}/portforward?ports=P`` WebSocket, so connections are independent: one
refused or broken connection closes only itself. The protocol is
:mod:`.portforward` (pure); this module only waits: on the listener, the local socket
and the WebSocket. An error (upgrade refused, the kubelet's error channel, a protocol
violation, a local reset) is logged on ``kubecodegen_runtime.streams.portforward``,
counted in :attr:`AsyncPortForward.errors`, and closes that connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Protocol

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


class AsyncChannelSocket(Protocol):
    """What the shell needs of a WebSocket (``kubecodegen_runtime.websocket``'s)."""

    @property
    def subprotocol(self) -> str | None: ...

    @property
    def close_code(self) -> int | None: ...

    async def send(self, data: bytes) -> None: ...

    async def recv(self) -> bytes | None: ...

    async def close(self) -> None: ...


#: opens the WebSocket for one connection to the given remote port
AsyncConnector = Callable[[int], Awaitable[AsyncChannelSocket]]


class AsyncPortForward:
    """Forwards local ports on ``address`` (127.0.0.1) to a pod's ports while open.

    ``ports``: ``8080`` (local 8080 -> remote 8080) or ``(local, remote)``; local ``0``
    picks a free port, see :meth:`local_port`. Use ``async with``: entering listens,
    leaving closes the listeners and every forwarded connection.
    """

    def __init__(
        self,
        connect: AsyncConnector,
        ports: Sequence[int | tuple[int, int]],
        *,
        address: str = "127.0.0.1",
    ) -> None:
        self._connect = connect
        self._pairs = parse_ports(ports)
        self._address = address
        self._servers: list[asyncio.Server] = []
        self._local: dict[int, int] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        #: connections closed by an error (each one also logged)
        self.errors = 0

    def local_port(self, remote: int) -> int:
        """The local port that forwards to ``remote`` (useful with local port 0)."""
        if remote not in self._local:
            raise KeyError(f"remote port {remote} is not forwarded (or not listening yet)")
        return self._local[remote]

    async def start(self) -> None:
        """Listen on every local port (``async with`` calls this)."""
        try:
            for local, remote in self._pairs:
                server = await asyncio.start_server(
                    self._handler(remote), self._address, local, reuse_address=True
                )
                self._servers.append(server)
                self._local[remote] = server.sockets[0].getsockname()[1]
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stop listening and close every forwarded connection."""
        self._closed = True
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    async def __aenter__(self) -> AsyncPortForward:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _handler(
        self, remote: int
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            if self._closed:
                writer.close()
                return
            self._tasks.add(task)
            try:
                await self._forward(remote, reader, writer)
            finally:
                self._tasks.discard(task)

        return handle

    async def _forward(
        self, remote: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        ws: AsyncChannelSocket | None = None
        pumps: list[asyncio.Future[None]] = []
        try:
            ws = await self._connect(remote)
            check_subprotocol(remote, ws.subprotocol)
            proto = PortForwardProtocol([remote])
            up = asyncio.ensure_future(self._upstream(remote, proto, reader, ws))
            down = asyncio.ensure_future(self._downstream(remote, proto, ws, writer))
            pumps = [up, down]
            # the pod side decides the end (see portforward.py "Closing"); a failing local
            # read (reset) ends it too
            done, _ = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            if up in done and up.exception() is None:
                await down  # local EOF: keep delivering what the pod sends
            for task in done:
                task.result()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure closes only this connection
            self.errors += 1
            logger.warning("port-forward to remote port %d: connection closed: %s", remote, exc)
        finally:
            # both pumps end with the connection (also when this task is cancelled by
            # aclose), and their outcome is retrieved here, never left to the loop's GC
            for pump in pumps:
                pump.cancel()
            if pumps:
                await asyncio.gather(*pumps, return_exceptions=True)
            writer.close()
            if ws is not None:
                try:
                    await ws.close()
                except Exception as exc:  # closing a broken socket: nothing else to do
                    logger.debug("closing the port-forward WebSocket: %s", exc)

    @staticmethod
    async def _upstream(
        remote: int,
        proto: PortForwardProtocol,
        reader: asyncio.StreamReader,
        ws: AsyncChannelSocket,
    ) -> None:
        while chunk := await reader.read(_CHUNK):
            await ws.send(proto.data(remote, chunk))

    @staticmethod
    async def _downstream(
        remote: int,
        proto: PortForwardProtocol, ws: AsyncChannelSocket, writer: asyncio.StreamWriter
    ) -> None:
        while (message := await ws.recv()) is not None:
            data, error = deliver(proto.receive(message))
            if data:
                writer.write(data)
                await writer.drain()
            if error is not None:
                raise PortForwardError(remote, error)
        check_end(remote, ws.close_code)
