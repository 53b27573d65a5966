"""The server side of the kubelet's WebSocket streams (channel.k8s.io framing), over wsproto.

The HTTP request has already been read (h11) when a handler decides to upgrade; `accept` answers
``101 Switching Protocols`` with the negotiated subprotocol and from then on the connection speaks
WebSocket through wsproto's sans-IO `Connection`, fed from the asyncio stream. Each binary
message is one frame: the first byte is the channel, the rest its data (the kubelet's wsstream).
Subprotocol choice follows the kubelet's handshake: the first protocol *the client offers* that
the server supports; no ``Sec-WebSocket-Protocol`` at all means the legacy protocol ``""``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import h11
from wsproto.connection import Connection, ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    TextMessage,
)
from wsproto.utilities import generate_accept_token

_log = logging.getLogger("tests.harness.kubelet")


def header(request: h11.Request, name: str) -> str | None:
    """A request header's value (the first, decoded), or None."""
    wanted = name.lower().encode()
    for key, value in request.headers:
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


def offered_protocols(request: h11.Request) -> list[str]:
    """Every ``Sec-WebSocket-Protocol`` the client offered, in its order."""
    offered: list[str] = []
    for key, value in request.headers:
        if key.lower() == b"sec-websocket-protocol":
            offered.extend(p.strip() for p in value.decode("latin-1").split(",") if p.strip())
    return offered


def is_websocket(request: h11.Request) -> bool:
    upgrade = header(request, "upgrade") or ""
    return upgrade.lower() == "websocket"


def choose_protocol(request: h11.Request, supported: Sequence[str]) -> str | None:
    """The kubelet's choice: the client's first supported offer; ``""`` when none was offered;
    None when offers were made and none is supported (the kubelet then refuses with 403)."""
    offered = offered_protocols(request)
    if not offered:
        return "" if "" in supported else None
    for protocol in offered:
        if protocol in supported:
            return protocol
    return None


class ServerWebSocket:
    """One accepted WebSocket: send channel frames, receive the client's frames."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        initial: bytes,
        subprotocol: str,
    ) -> None:
        self.subprotocol = subprotocol
        self._reader = reader
        self._writer = writer
        self._ws = Connection(ConnectionType.SERVER)
        self._pending = initial
        self._lock = asyncio.Lock()
        self._partial = b""
        self.closed = False
        #: Set when the client sent a close frame (or the TCP connection ended).
        self.remote_closed = False

    @classmethod
    async def accept(
        cls,
        conn: h11.Connection,
        request: h11.Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        subprotocol: str,
    ) -> ServerWebSocket:
        key = header(request, "sec-websocket-key") or ""
        headers = [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Accept", generate_accept_token(key.encode())),
        ]
        if subprotocol:
            headers.append((b"Sec-WebSocket-Protocol", subprotocol.encode()))
        data = conn.send(h11.InformationalResponse(status_code=101, headers=headers))
        writer.write(data or b"")
        await writer.drain()
        trailing, _ = conn.trailing_data
        return cls(reader, writer, bytes(trailing), subprotocol)

    async def _write(self, data: bytes) -> None:
        async with self._lock:
            self._writer.write(data)
            await self._writer.drain()

    async def send_frame(self, channel: int, data: bytes) -> None:
        """One binary message: the channel byte, then ``data``."""
        if self.closed:
            raise ConnectionError("websocket closed")
        await self._write(self._ws.send(BytesMessage(data=bytes([channel]) + data)))

    async def recv_frame(self) -> tuple[int, bytes] | None:
        """The client's next non-empty binary message as (channel, data); None once closed."""
        while True:
            for event in self._ws.events():
                if isinstance(event, Message):
                    payload = event.data if isinstance(event, BytesMessage) else event.data.encode()
                    self._partial += payload
                    if not event.message_finished:
                        continue
                    whole, self._partial = self._partial, b""
                    if isinstance(event, TextMessage) or not whole:
                        continue
                    return whole[0], whole[1:]
                if isinstance(event, Ping):
                    await self._write(self._ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    self.remote_closed = True
                    if not self.closed:
                        self.closed = True
                        await self._write(self._ws.send(event.response()))
                    return None
            if self._pending:
                data, self._pending = self._pending, b""
            else:
                try:
                    data = await self._reader.read(65536)
                except (ConnectionError, OSError):
                    data = b""
            if not data:
                self.remote_closed = True
                self.closed = True
                return None
            self._ws.receive_data(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once); the TCP connection is closed by the caller."""
        if self.closed:
            return
        self.closed = True
        try:
            await self._write(self._ws.send(CloseConnection(code=code, reason=reason)))
        except (ConnectionError, OSError) as exc:
            _log.debug("close frame not sent: %s", exc)

    def abort(self) -> None:
        """Cut the TCP connection at once (a fault: no close frame)."""
        self.closed = True
        self._writer.transport.abort()
