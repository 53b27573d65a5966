"""WebSocket over the REST client's connection: the transport of exec, attach and
port-forward.

One library, wsproto (sans-IO, pure Python, on the h11 httpx already brings): the upgrade
is an ordinary HTTP/1.1 request through the client's own httpx client, answered ``101``;
wsproto then frames messages over the very same connection (``network_stream``). So
one protocol implementation serves the blocking and asyncio shells, and authentication,
TLS and proxies are never re-implemented for streams.
"""

from ._async.connection import DEFAULT_MAX_MESSAGE, AsyncWebSocket
from ._async.connection import connect as connect_async
from ._sync.connection import WebSocket, connect
from .handshake import HandshakeError, UpgradeRefused

__all__ = [
    "DEFAULT_MAX_MESSAGE",
    "AsyncWebSocket",
    "HandshakeError",
    "UpgradeRefused",
    "WebSocket",
    "connect",
    "connect_async",
]
