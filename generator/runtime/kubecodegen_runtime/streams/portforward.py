"""The portforward.k8s.io protocol over a WebSocket, as a pure state machine.

This is the specification of what a port-forward WebSocket carries; the thread and asyncio
shells (:mod:`.portforward_threads`, :mod:`.portforward_asyncio`) only move bytes between it,
a TCP socket and the WebSocket.

The upgrade: ``GET .../pods/{name}/portforward?ports=P1&ports=P2...`` offering the
subprotocol ``v4.channel.k8s.io`` (the kubelet's binary channel protocol; kube-apiserver
passes the upgrade through to the kubelet). Every message is one channel byte followed by
that channel's payload. For the i-th requested port (in request order) there are two
channels:

* data channel ``2*i``: both ways; the bytes of the TCP stream to/from the pod's port;
* error channel ``2*i + 1``: server to client only; text the kubelet writes when it could
  not forward (``error forwarding port 80 to pod ..., uid ...: ... connection refused``).

The first frame the server sends on *each* channel starts with the port number as a
little-endian uint16 (the kubelet writes it as a frame of its own, before any data); the
client checks it against the port it asked for, so a confused server cannot route one
port's bytes to another's connection. The client sends no such prefix: its frames carry
data only.

Closing: protocol v4 has no per-channel close, so the client cannot tell the pod "no more
data" except by closing the whole WebSocket, which also ends the pod->client direction.
When the local TCP peer shuts down its sending side, the shells therefore keep the
WebSocket open and keep delivering what the pod sends until the server closes it (which
the kubelet does when the pod side of the connection ends); then the TCP connection is
closed. (client-go's SPDY forwarder can half-close a stream; v4 WebSocket channels cannot.)

Nothing here does I/O; :meth:`PortForwardProtocol.receive` turns one WebSocket message into
events and :meth:`PortForwardProtocol.data` builds one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config.text import terminal_safe

#: the subprotocols offered, in order of preference (the kubelet's binary channel protocol)
PROTOCOLS: tuple[str, ...] = ("v4.channel.k8s.io",)

_PREFIX = 2  # the uint16 port number on each channel's first server frame
#: the longest error text kept per port: the kubelet writes one short line; a hostile or
#: broken server must not grow memory without bound through the error channel
MAX_ERROR_BYTES = 64 * 1024


class PortForwardError(Exception):
    """Forwarding a connection failed: the kubelet reported an error for the port, or the
    server broke the protocol. The message is safe to print (server text escaped)."""

    def __init__(self, port: int, message: str) -> None:
        self.port = port
        self.message = terminal_safe(message)
        super().__init__(f"port {port}: {self.message}")


@dataclass(frozen=True)
class Data:
    """Bytes the pod sent from ``port`` (to write to that port's local connection)."""

    port: int
    data: bytes


@dataclass(frozen=True)
class Error:
    """The kubelet's error text for ``port`` (already escaped for a terminal)."""

    port: int
    message: str


Event = Data | Error


def port_params(ports: Sequence[int]) -> list[tuple[str, str]]:
    """The query of the upgrade request: one ``ports`` parameter per port, in order."""
    return [("ports", str(validate_port(p))) for p in ports]


def validate_port(port: int) -> int:
    """``port`` if it is a TCP port number (1..65535), else ValueError naming it."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"not a TCP port number: {port!r}")
    return port


def parse_ports(ports: Sequence[int | tuple[int, int]]) -> list[tuple[int, int]]:
    """``(local, remote)`` pairs from the user's list: ``8080`` means local 8080 -> remote
    8080, ``(0, 80)`` any free local port -> remote 80 (kubectl's ``:80``/``8080:80``).

    Remote ports must be unique (one listener each, looked up by remote port), and so must
    non-zero local ports.
    """
    pairs: list[tuple[int, int]] = []
    for item in ports:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise ValueError(f"a port pair is (local, remote), not {item!r}")
            local, remote = item
            if local != 0:
                validate_port(local)
            elif isinstance(local, bool) or not isinstance(local, int):
                raise ValueError(f"not a local port number: {local!r}")
            pairs.append((local, validate_port(remote)))
        else:
            pairs.append((validate_port(item), item))
    if not pairs:
        raise ValueError("port_forward needs at least one port")
    remotes = [r for _, r in pairs]
    if len(set(remotes)) != len(remotes):
        raise ValueError(f"remote ports repeat: {remotes}")
    locals_ = [loc for loc, _ in pairs if loc]
    if len(set(locals_)) != len(locals_):
        raise ValueError(f"local ports repeat: {locals_}")
    return pairs


class PortForwardProtocol:
    """One port-forward WebSocket's state: which channels have shown their port prefix,
    and the error text received so far per port.

    ``receive(message)`` -> events; raises :class:`PortForwardError` when the server breaks
    the protocol (a channel that was not opened, a prefix naming another port); a prefix
    split over several frames is reassembled. ``data(port, bytes)`` -> the message to send.
    """

    def __init__(self, ports: Sequence[int]) -> None:
        self.ports = [validate_port(p) for p in ports]
        if not self.ports:
            raise ValueError("a port-forward stream needs at least one port")
        if len(self.ports) > 127:  # channel numbers are one byte: 2*i + 1 <= 255
            raise ValueError("at most 127 ports per port-forward stream")
        # per channel: bytes of the port prefix still to come (None once it has been seen)
        self._pending: list[bytes | None] = [b""] * (2 * len(self.ports))
        self._errors: list[bytearray] = [bytearray() for _ in self.ports]

    def data(self, port: int, payload: bytes) -> bytes:
        """The message that sends ``payload`` to the pod's ``port``."""
        return bytes((2 * self._index(port),)) + payload

    def error_text(self, port: int) -> str:
        """Everything the error channel of ``port`` said so far (escaped), "" if nothing."""
        raw = bytes(self._errors[self._index(port)])
        return terminal_safe(raw.decode("utf-8", "replace"))

    def receive(self, message: bytes) -> list[Event]:
        """Events for one message from the server (an empty message carries nothing)."""
        if not message:
            return []
        channel, payload = message[0], message[1:]
        if channel >= len(self._pending):
            raise PortForwardError(
                self.ports[0], f"the server sent on channel {channel}, which was not opened"
            )
        index, is_error = divmod(channel, 2)
        port = self.ports[index]
        pending = self._pending[channel]
        if pending is not None:
            buffered = pending + payload
            if len(buffered) < _PREFIX:
                self._pending[channel] = buffered
                return []
            announced = int.from_bytes(buffered[:_PREFIX], "little")
            if announced != port:
                raise PortForwardError(
                    port, f"the server announced port {announced} on the channel of port {port}"
                )
            self._pending[channel] = None
            payload = buffered[_PREFIX:]
        if not payload:
            return []
        if not is_error:
            return [Data(port, payload)]
        kept = self._errors[index]
        kept += payload[: max(0, MAX_ERROR_BYTES - len(kept))]
        return [Error(port, terminal_safe(payload.decode("utf-8", "replace")))]

    def _index(self, port: int) -> int:
        try:
            return self.ports.index(port)
        except ValueError:
            raise ValueError(f"port {port} is not forwarded by this stream") from None


def check_subprotocol(port: int, chosen: str | None) -> None:
    """Refuse a WebSocket whose server chose a subprotocol we did not offer. None or ""
    (no subprotocol header) is the kubelet's default, the binary channel framing."""
    if chosen and chosen not in PROTOCOLS:
        raise PortForwardError(port, f"the server chose the unknown subprotocol {chosen!r}")


def deliver(events: Sequence[Event]) -> tuple[bytes, str | None]:
    """What the shells do with one message's events: the bytes to write to the local
    connection, and the first error text (the connection is then closed), if any."""
    data = b"".join(e.data for e in events if isinstance(e, Data))
    errors = [e.message for e in events if isinstance(e, Error)]
    return data, (errors[0] if errors else None)


#: WebSocket close code of a connection that ended without a close frame (RFC 6455 7.1.5)
ABNORMAL_CLOSURE = 1006


def check_end(port: int, close_code: int | None) -> None:
    """Raise when the WebSocket ended by losing the connection (no close frame: the API
    server or the kubelet went away mid-stream), so that connection counts as failed
    rather than as the pod closing its side."""
    if close_code == ABNORMAL_CLOSURE:
        raise PortForwardError(port, "lost the connection to the server (no close frame)")
