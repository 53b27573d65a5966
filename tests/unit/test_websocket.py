"""The WebSocket client (sync and async) over the real REST clients, against a loopback
peer built with wsproto's server side (a test peer for the protocol; the real API
server's upgrade is tested in tests/integration/test_exec_cluster.py).

What is checked: the upgrade request's headers and offered subprotocols, the chosen
subprotocol, binary round trips, pings answered, the server's close seen with its code,
an abrupt end seen as 1006, a refused upgrade typed as the API error and as
UpgradeRefused, a bad accept token refused, and the message size limit.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from kubecodegen_runtime import errors
from kubecodegen_runtime.client import (
    AsyncNamespacedScope,
    AsyncRESTClient,
    AsyncWithAttach,
    AsyncWithExec,
    NamespacedScope,
    RESTClient,
    WithAttach,
    WithExec,
)
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.config.auth import BearerTokenAuth
from kubecodegen_runtime.meta import ResourceInfo
from kubecodegen_runtime.retry import NO_RETRY
from kubecodegen_runtime.websocket import (
    HandshakeError,
    UpgradeRefused,
    connect,
    connect_async,
)
from kubecodegen_runtime.websocket.handshake import check_answer, new_key, request_headers

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
REASONS = {400: "BadRequest", 403: "Forbidden", 404: "NotFound"}


class PeerSide:
    """The server end of one connection, as a test's behaviour sees it."""

    def __init__(self, sock: socket.socket, ws: WSConnection) -> None:
        self.sock = sock
        self.ws = ws
        self.pending: list[Any] = []

    def send(self, event: Any) -> None:
        self.sock.sendall(self.ws.send(event))

    def events(self) -> Iterator[Any]:
        while True:
            while self.pending:
                yield self.pending.pop(0)
            data = self.sock.recv(65536)
            self.ws.receive_data(data or None)
            self.pending.extend(self.ws.events())
            if not data and not self.pending:
                return

    def messages(self) -> Iterator[bytes]:
        """Whole binary messages until the client closes (its close is answered)."""
        parts: list[bytes] = []
        for event in self.events():
            if isinstance(event, Message):
                parts.append(event.data if isinstance(event.data, bytes) else event.data.encode())
                if event.message_finished:
                    yield b"".join(parts)
                    parts = []
            elif isinstance(event, CloseConnection):
                if self.ws.state.name == "REMOTE_CLOSING":
                    self.send(event.response())
                return


Behaviour = Callable[[PeerSide], None]


@dataclass
class Peer:
    """A loopback HTTP/1.1 server that answers upgrades as ``accept`` decides."""

    behaviour: Behaviour
    #: the chosen subprotocol, or an HTTP status to refuse with
    accept: Callable[[Request], str | int | None] = lambda req: req.subprotocols[0]
    requests: list[Request] = field(default_factory=list)
    raw_requests: list[bytes] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(sock,), daemon=True).start()

    def _one(self, sock: socket.socket) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        side = PeerSide(sock, ws)
        try:
            with sock:
                request: Request | None = None
                while request is None:
                    data = sock.recv(65536)
                    self.raw_requests.append(data)
                    ws.receive_data(data or None)
                    for event in ws.events():
                        if isinstance(event, Request):
                            request = event
                        else:
                            side.pending.append(event)
                    if not data:
                        return
                self.requests.append(request)
                choice = self.accept(request)
                if isinstance(choice, int):
                    body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                       "reason": REASONS[choice], "code": choice,
                                       "message": "pods \"p\" is forbidden: no exec"}).encode()
                    side.send(RejectConnection(status_code=choice, has_body=True, headers=[
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]))
                    side.send(RejectData(data=body))
                    return
                side.send(AcceptConnection(subprotocol=choice))
                self.behaviour(side)
        except BaseException as exc:  # reported by the test through .errors
            self.errors.append(exc)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def make_peer() -> Iterator[Callable[..., Peer]]:
    peers: list[Peer] = []

    def make(behaviour: Behaviour, **kwargs: Any) -> Peer:
        peer = Peer(behaviour, **kwargs)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()
        assert not peer.errors, peer.errors


def rest_for(peer: Peer) -> RESTClient:
    return RESTClient(ClientConfig(server=peer.url, verify=ssl.create_default_context(),
                                   qps=0.0, auth=BearerTokenAuth("s3cret-token")), retry=NO_RETRY)


def async_rest_for(peer: Peer) -> AsyncRESTClient:
    return AsyncRESTClient(ClientConfig(server=peer.url, verify=ssl.create_default_context(),
                                        qps=0.0, auth=BearerTokenAuth("s3cret-token")), retry=NO_RETRY)


def echo(side: PeerSide) -> None:
    for message in side.messages():
        side.send(Message(data=message))


PATH = "/api/v1/namespaces/ns/pods/p/exec"
PARAMS = [("command", "ls"), ("command", "-l"), ("stdout", "true")]


# --- the upgrade request ----------------------------------------------------------------


def test_upgrade_request_headers_and_protocols(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(echo)
    with rest_for(peer) as rest:
        ws = connect(rest, PATH, PARAMS, PROTOCOLS)
        try:
            assert ws.subprotocol == "v5.channel.k8s.io"
        finally:
            ws.close()
    (request,) = peer.requests
    assert request.subprotocols == list(PROTOCOLS)  # offered in this order
    assert request.target == PATH + "?command=ls&command=-l&stdout=true"
    head = peer.raw_requests[0].split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("get ") and " http/1.1" in head.splitlines()[0]
    assert "authorization: bearer s3cret-token" in head  # the client's own auth
    assert "sec-websocket-version: 13" in head
    assert "upgrade: websocket" in head


def test_server_choice_of_the_older_protocol_is_kept(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(echo, accept=lambda req: "v4.channel.k8s.io")
    with rest_for(peer) as rest, connect(rest, PATH, PARAMS, PROTOCOLS) as ws:
        assert ws.subprotocol == "v4.channel.k8s.io"


def test_refused_upgrade_is_the_typed_api_error(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(echo, accept=lambda req: 403)
    with rest_for(peer) as rest, pytest.raises(UpgradeRefused) as caught:
        connect(rest, PATH, PARAMS, PROTOCOLS)
    assert isinstance(caught.value, errors.Forbidden)
    assert caught.value.status == 403
    assert "no exec" in caught.value.message
    assert caught.value.path == PATH


def test_refused_upgrade_async(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(echo, accept=lambda req: 404)

    async def main() -> None:
        async with async_rest_for(peer) as rest:
            with pytest.raises(UpgradeRefused) as caught:
                await connect_async(rest, PATH, PARAMS, PROTOCOLS)
            assert isinstance(caught.value, errors.NotFound)

    asyncio.run(main())


def test_a_101_with_a_wrong_accept_token_is_refused() -> None:
    key = new_key()
    good = check_answer(key, PROTOCOLS, (("upgrade", "websocket"),
                                         ("sec-websocket-accept", _accept_for(key)),
                                         ("sec-websocket-protocol", "v4.channel.k8s.io")))
    assert good == "v4.channel.k8s.io"
    with pytest.raises(HandshakeError, match="Accept"):
        check_answer(key, PROTOCOLS, (("upgrade", "websocket"),
                                      ("sec-websocket-accept", _accept_for(new_key()))))
    with pytest.raises(HandshakeError, match=r"not\s+offered"):
        check_answer(key, PROTOCOLS, (("upgrade", "websocket"),
                                      ("sec-websocket-accept", _accept_for(key)),
                                      ("sec-websocket-protocol", "v9.channel.k8s.io")))
    assert ("Sec-WebSocket-Protocol", "a, b") in request_headers(key, ["a", "b"])


def _accept_for(key: str) -> str:
    from wsproto.utilities import generate_accept_token

    return generate_accept_token(key.encode()).decode()


# --- frames ------------------------------------------------------------------------------


def test_binary_round_trip_sync(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(echo)
    payloads = [bytes(range(256)), b"", b"\x00" * 100_000, "é".encode()]
    with rest_for(peer) as rest, connect(rest, PATH, PARAMS, PROTOCOLS) as ws:
        for payload in payloads:
            ws.send(payload)
            assert ws.recv() == payload


def test_binary_round_trip_async(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(echo)

    async def main() -> None:
        async with async_rest_for(peer) as rest:
            ws = await connect_async(rest, PATH, PARAMS, PROTOCOLS)
            async with ws:
                for payload in (bytes(range(256)), b"x" * 300_000):
                    await ws.send(payload)
                    assert await ws.recv() == payload

    asyncio.run(main())


def test_ping_is_answered_and_server_close_is_seen(make_peer: Callable[..., Peer]) -> None:
    pongs: list[bytes] = []

    def behaviour(side: PeerSide) -> None:
        side.send(Ping(payload=b"are you there"))
        for event in side.events():
            if isinstance(event, Pong):
                pongs.append(bytes(event.payload))
                break
        side.send(TextMessage(data="text"))
        side.send(CloseConnection(code=4000, reason="done"))
        for event in side.events():
            if isinstance(event, CloseConnection):
                break

    peer = make_peer(behaviour)
    with rest_for(peer) as rest, connect(rest, PATH, PARAMS, PROTOCOLS) as ws:
        assert ws.recv() == b"text"
        assert ws.recv() is None
        assert (ws.close_code, ws.close_reason) == (4000, "done")
        assert ws.recv() is None  # stays closed
    assert pongs == [b"are you there"]


def test_abrupt_end_is_1006(make_peer: Callable[..., Peer]) -> None:
    def behaviour(side: PeerSide) -> None:
        side.send(BytesMessage(data=b"partial"))
        side.sock.shutdown(socket.SHUT_RDWR)

    peer = make_peer(behaviour)
    with rest_for(peer) as rest, connect(rest, PATH, PARAMS, PROTOCOLS) as ws:
        assert ws.recv() == b"partial"
        assert ws.recv() is None
        assert ws.close_code == 1006


def test_message_over_the_limit_is_refused(make_peer: Callable[..., Peer]) -> None:
    def behaviour(side: PeerSide) -> None:
        side.send(BytesMessage(data=b"a" * 1000, message_finished=False))
        side.send(BytesMessage(data=b"b" * 1000, message_finished=True))
        for _ in side.events():
            pass

    peer = make_peer(behaviour)
    with rest_for(peer) as rest:
        ws = connect(rest, PATH, PARAMS, PROTOCOLS, max_message_bytes=1500)
        with ws, pytest.raises(errors.ResponseTooLarge) as caught:
            ws.recv()
        assert caught.value.limit == 1500
        assert ws.close_code == 1009


def test_concurrent_writer_and_reader_threads(make_peer: Callable[..., Peer]) -> None:
    """A writer thread sending much more than socket buffers hold while the reader reads
    the echo: neither blocks the other (the locks never wait behind a blocked write)."""
    peer = make_peer(echo)
    chunk = bytes(range(256)) * 256  # 64 KiB
    count = 64
    with rest_for(peer) as rest, connect(rest, PATH, PARAMS, PROTOCOLS) as ws:
        writer = threading.Thread(target=lambda: [ws.send(chunk) for _ in range(count)])
        writer.start()
        received = [ws.recv() for _ in range(count)]
        writer.join(timeout=60)
        assert received == [chunk] * count


# --- exec sessions over the peer (what the real kubelet cannot be made to do) ---------------

PODS = ResourceInfo(group="", version="v1", resource="pods", kind="Pod", namespaced=True)


class Pods(NamespacedScope[Any, Any], WithExec, WithAttach):
    info = PODS


class AsyncPods(AsyncNamespacedScope[Any, Any], AsyncWithExec, AsyncWithAttach):
    info = PODS


def silent(side: PeerSide) -> None:
    """Accepts, then sends nothing until the client goes away."""
    for _ in side.events():
        pass


def test_exec_timeout_sync(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(silent)
    with rest_for(peer) as rest, pytest.raises(errors.DeadlineExceeded):
        Pods(rest, "ns").exec("p", ["sleep", "1000"], timeout=0.5)


def test_exec_timeout_async(make_peer: Callable[..., Peer]) -> None:
    peer = make_peer(silent)

    async def main() -> None:
        async with async_rest_for(peer) as rest:
            with pytest.raises(errors.DeadlineExceeded):
                await AsyncPods(rest, "ns").exec("p", ["sleep", "1000"], timeout=0.5)

    asyncio.run(main())


def v4_cat(side: PeerSide) -> None:
    """A v4 server running ``cat``: echoes stdin on stdout; it can only learn of the end of
    stdin from the connection's close, then reports success."""
    received = []
    for message in side.messages():
        assert message[0] == 0, "v4 has no close message: only stdin may arrive"
        received.append(message[1:])
        if b"".join(received).endswith(b"END"):
            break
    side.send(Message(data=b"\x01" + b"".join(received)))
    side.send(Message(data=b"\x03" + json.dumps({"status": "Success"}).encode()))
    side.send(CloseConnection(code=1000))


def test_attach_v4_session_never_sends_the_v5_close(make_peer: Callable[..., Peer],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    peer = make_peer(v4_cat, accept=lambda req: "v4.channel.k8s.io")
    with rest_for(peer) as rest, caplog.at_level("WARNING"):
        result = Pods(rest, "ns").attach("p", stdin=b"some input END", timeout=30)
    assert (result.stdout, result.exit_code) == (b"some input END", 0)
    (request,) = peer.requests
    assert request.target.startswith("/api/v1/namespaces/ns/pods/p/attach?")
    assert "command=" not in request.target
    assert "cannot close stdin" in caplog.text


@pytest.mark.parametrize("module", [
    "kubecodegen_runtime.websocket", "kubecodegen_runtime.websocket.handshake",
    "kubecodegen_runtime.streams", "kubecodegen_runtime.streams.exec",
    "kubecodegen_runtime.client._sync.streams",
])
def test_each_module_imports_first(module: str) -> None:
    """The clients import the websocket module and it names the clients' types: whichever
    a program imports first, there is no import cycle."""
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
