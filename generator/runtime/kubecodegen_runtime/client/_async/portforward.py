"""``pods/portforward``: forward local TCP ports to a pod's ports (``kubectl port-forward``).

The mixin only says where: each accepted local connection opens its own WebSocket on
``.../pods/{name}/portforward?ports=P`` through this client's REST client (so its TLS,
credentials and proxy), see :mod:`...streams.portforward` for the protocol and
:mod:`...streams.forwarding` for the forwarding itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...rest import request as rq
from ...streams.forwarding import AsyncPortForward
from ...streams.portforward import PROTOCOLS, parse_ports, port_params
from ...websocket._async.connection import AsyncWebSocket, connect
from .resource import _AsyncScope


class AsyncWithPortForward(_AsyncScope):
    """``pods/portforward``: local ports forwarded to the pod's ports while open."""

    def port_forward(
        self, name: str, ports: Sequence[int | tuple[int, int]], *, address: str = "127.0.0.1"
    ) -> AsyncPortForward:
        """Listen on ``address`` and forward every connection to the pod ``name``.

        ``ports``: ``8080`` (local 8080 -> the pod's 8080) or ``(local, remote)``, local
        ``0`` for any free port (``.local_port(remote)`` tells which). Use it as a context
        manager; nothing listens before it is entered. Errors of one connection (the
        upgrade refused, nothing listening in the pod) are logged, counted in ``.errors``
        and close that connection only.
        """
        if self._namespace is None:
            raise ValueError("port-forward needs a namespace-bound client")
        parse_ports(ports)  # refuse a bad list now, not at the first connection
        path = rq.resource_path(self.info, self._namespace, name, "portforward")
        rest = self._rest

        async def open_stream(remote: int) -> AsyncWebSocket:
            return await connect(rest, path, port_params([remote]), PROTOCOLS)

        return AsyncPortForward(open_stream, ports, address=address)
