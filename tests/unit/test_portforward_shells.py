"""The port-forward shells (threads and asyncio) over an in-process kubelet stand-in.

The stand-in speaks the server side of the protocol exactly as the kubelet's WebSocket
port-forward does (a port-prefix frame on the data and the error channel, then the bytes of
a real TCP connection to a real local server, error text on the error channel when the dial
fails, the WebSocket closed when the pod side ends). It replaces only the WebSocket
transport, so these tests exercise the shells' own work: listeners, per-connection streams,
concurrency, local EOF, errors. The real path through kube-apiserver and the test kubelet is
tests/integration/test_portforward_cluster.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from kubecodegen_runtime.streams.portforward_asyncio import AsyncPortForward
from kubecodegen_runtime.streams.portforward_threads import PortForward


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _Hello(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(b"hello from the pod\n")


@contextlib.contextmanager
def tcp_server(handler: type[socketserver.BaseRequestHandler]) -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prefix(channel: int, port: int) -> bytes:
    return bytes((channel,)) + port.to_bytes(2, "little")


class KubeletSocket:
    """Blocking server side of one port-forward WebSocket: ``remote`` is dialled at
    127.0.0.1:``targets[remote]``."""

    def __init__(self, remote: int, target: int) -> None:
        self.subprotocol = "v4.channel.k8s.io"
        self.close_code: int | None = None
        self._out: queue.Queue[bytes | None] = queue.Queue()
        self._out.put(_prefix(0, remote))
        self._out.put(_prefix(1, remote))
        try:
            self._pod: socket.socket | None = socket.create_connection(("127.0.0.1", target))
        except OSError as exc:
            self._pod = None
            self._out.put(b"\x01" + f"error forwarding port {remote}: {exc}".encode())
            self._out.put(None)
            return
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self._pod is not None
        with contextlib.suppress(OSError):
            while data := self._pod.recv(65536):
                self._out.put(b"\x00" + data)
        self._out.put(None)

    def send(self, data: bytes) -> None:
        assert data[0] == 0, "the client writes on the data channel only"
        if self._pod is not None:
            self._pod.sendall(data[1:])

    def recv(self) -> bytes | None:
        return self._out.get()

    def close(self) -> None:
        if self._pod is not None:
            with contextlib.suppress(OSError):
                self._pod.shutdown(socket.SHUT_RDWR)
            self._pod.close()
        self._out.put(None)


class AsyncKubeletSocket:
    """The asyncio twin of :class:`KubeletSocket` (same frames)."""

    subprotocol = "v4.channel.k8s.io"

    def __init__(self) -> None:
        self.close_code: int | None = None
        self._out: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Future[None] | None = None

    @classmethod
    async def open(cls, remote: int, target: int) -> AsyncKubeletSocket:
        ws = cls()
        ws._out.put_nowait(_prefix(0, remote))
        ws._out.put_nowait(_prefix(1, remote))
        try:
            reader, ws._writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError as exc:
            ws._out.put_nowait(b"\x01" + f"error forwarding port {remote}: {exc}".encode())
            ws._out.put_nowait(None)
            return ws
        ws._task = asyncio.ensure_future(ws._pump(reader))
        return ws

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                await self._out.put(b"\x00" + data)
        await self._out.put(None)

    async def send(self, data: bytes) -> None:
        assert data[0] == 0
        if self._writer is not None:
            self._writer.write(data[1:])
            await self._writer.drain()

    async def recv(self) -> bytes | None:
        return await self._out.get()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._out.put_nowait(None)


def _roundtrip(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(payload)
        got = bytearray()
        while len(got) < len(payload):
            chunk = conn.recv(65536)
            assert chunk, "connection closed early"
            got += chunk
        return bytes(got)


def test_threads_echo_concurrent_and_large() -> None:
    with tcp_server(_Echo) as echo, PortForward(
        lambda remote: KubeletSocket(remote, echo), [(0, 80)]
    ) as pf:
        port = pf.local_port(80)
        assert port != 80
        big = os.urandom(3 * 1024 * 1024)
        assert _roundtrip(port, big) == big
        results: dict[int, bytes] = {}

        def one(i: int) -> None:
            results[i] = _roundtrip(port, f"connection {i} ".encode() * 1000)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert results == {i: f"connection {i} ".encode() * 1000 for i in range(8)}
        assert pf.errors == 0


def test_threads_pod_side_end_closes_connection_and_local_eof_keeps_reading() -> None:
    with tcp_server(_Hello) as hello, tcp_server(_Echo) as echo:
        targets = {1: hello, 2: echo}
        with PortForward(lambda r: KubeletSocket(r, targets[r]), [(0, 1), (0, 2)]) as pf:
            with socket.create_connection(("127.0.0.1", pf.local_port(1)), timeout=30) as c:
                data = b""
                while chunk := c.recv(100):  # ends: the pod closed its side
                    data += chunk
                assert data == b"hello from the pod\n"
            with socket.create_connection(("127.0.0.1", pf.local_port(2)), timeout=30) as c:
                c.sendall(b"ping")
                c.shutdown(socket.SHUT_WR)  # local EOF: what the pod sends still arrives
                got = b""
                while len(got) < 4:
                    chunk = c.recv(100)
                    assert chunk
                    got += chunk
                assert got == b"ping"


def test_threads_refused_remote_is_logged_and_closes(caplog: pytest.LogCaptureFixture) -> None:
    nothing = _free_port()
    with caplog.at_level(logging.WARNING, "kubecodegen_runtime.streams.portforward"), \
            PortForward(lambda r: KubeletSocket(r, nothing), [(0, 9)]) as pf:
        with socket.create_connection(("127.0.0.1", pf.local_port(9)), timeout=30) as c:
            assert c.recv(100) == b""  # closed, nothing delivered
        for _ in range(100):
            if pf.errors:
                break
            threading.Event().wait(0.05)
        assert pf.errors == 1
    assert "error forwarding port 9" in caplog.text and "refused" in caplog.text


def test_threads_close_ends_open_connections() -> None:
    with tcp_server(_Echo) as echo:
        pf = PortForward(lambda r: KubeletSocket(r, echo), [(0, 5)])
        pf.start()
        conn = socket.create_connection(("127.0.0.1", pf.local_port(5)), timeout=30)
        assert _roundtrip(pf.local_port(5), b"x") == b"x"
        conn.sendall(b"y")
        assert conn.recv(10) == b"y"
        pf.close()
        assert conn.recv(10) == b""
        conn.close()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", pf.local_port(5)), timeout=5)
        assert pf.errors == 0


async def _aroundtrip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    got = await reader.readexactly(len(payload))
    writer.close()
    return got


async def test_asyncio_echo_concurrent_large_and_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nothing = _free_port()
    with tcp_server(_Echo) as echo, tcp_server(_Hello) as hello:
        targets = {80: echo, 81: hello, 82: nothing}

        async def connect(remote: int) -> AsyncKubeletSocket:
            return await AsyncKubeletSocket.open(remote, targets[remote])

        with caplog.at_level(logging.WARNING, "kubecodegen_runtime.streams.portforward"):
            async with AsyncPortForward(connect, [(0, 80), (0, 81), (0, 82)]) as pf:
                port = pf.local_port(80)
                big = os.urandom(3 * 1024 * 1024)
                assert await _aroundtrip(port, big) == big
                payloads = [f"conn {i} ".encode() * 2000 for i in range(8)]
                got = await asyncio.gather(*(_aroundtrip(port, p) for p in payloads))
                assert got == payloads
                reader, writer = await asyncio.open_connection("127.0.0.1", pf.local_port(81))
                assert await reader.read() == b"hello from the pod\n"
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", pf.local_port(82))
                assert await reader.read() == b""
                writer.close()
                for _ in range(100):
                    if pf.errors:
                        break
                    await asyncio.sleep(0.05)
                assert pf.errors == 1
                # an open connection is closed by leaving the block
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"z")
                assert await reader.readexactly(1) == b"z"
            assert await reader.read() == b""
            writer.close()
        assert "error forwarding port 82" in caplog.text
