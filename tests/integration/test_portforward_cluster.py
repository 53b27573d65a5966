"""pods/portforward through kube-apiserver 1.20 to the test kubelet, sync and async.

The API server authenticates us, upgrades the WebSocket and proxies it to the test kubelet
(tests/harness/kubelet.py), which dials the pod's port: a real TCP server the test starts on
the pod's address (`KubeletPod.listen`). So every byte here crossed a real listener of ours,
the API server, the kubelet and the pod's server, both ways.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.generated_packages import import_reference
from tests.harness.cluster import TestCluster
from tests.harness.kubelet import TestKubelet
from tests.harness.kubelet_pods import KubeletPod

kube = import_reference("kube_v1_20")
from kube_v1_20 import AsyncClientset, Clientset  # noqa: E402

pytestmark = pytest.mark.cluster

TIMEOUT = 60.0  # generous upper bound for one socket operation
LOGGER = "kubecodegen_runtime.streams.portforward"


@pytest.fixture
def cs(cluster: TestCluster) -> Iterator[Any]:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as clientset:
        yield clientset


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _roundtrip(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
        sender = threading.Thread(target=conn.sendall, args=(payload,))
        sender.start()  # echo: send and receive at once, as a large transfer needs
        got = bytearray()
        while len(got) < len(payload):
            chunk = conn.recv(65536)
            assert chunk, f"closed after {len(got)} of {len(payload)} bytes"
            got += chunk
        sender.join(TIMEOUT)
        return bytes(got)


def _wait_errors(pf: Any, count: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while pf.errors < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_sync_echo_concurrent_large(cs: Any, kubelet_pod: KubeletPod) -> None:
    server = kubelet_pod.listen()
    pods = cs.core_v1.pods(kubelet_pod.namespace)
    with pods.port_forward(kubelet_pod.name, [(0, server.port)]) as pf:
        port = pf.local_port(server.port)
        assert _roundtrip(port, b"hello pod") == b"hello pod"
        big = os.urandom(4 * 1024 * 1024)
        assert _roundtrip(port, big) == big
        results: dict[int, bytes] = {}

        def one(i: int) -> None:
            results[i] = _roundtrip(port, f"connection {i};".encode() * 3000)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert results == {i: f"connection {i};".encode() * 3000 for i in range(6)}
        assert pf.errors == 0


def test_sync_pod_closing_ends_the_local_connection(cs: Any, kubelet_pod: KubeletPod) -> None:
    def greet(conn: socket.socket) -> None:
        conn.sendall(b"greetings\n")

    server = kubelet_pod.listen(greet)
    with cs.core_v1.pods(kubelet_pod.namespace).port_forward(
            kubelet_pod.name, [(0, server.port)]) as pf, \
            socket.create_connection(("127.0.0.1", pf.local_port(server.port)),
                                     timeout=TIMEOUT) as conn:
        data = b""
        while chunk := conn.recv(1024):
            data += chunk
        assert data == b"greetings\n"


def test_sync_nothing_listening_is_a_logged_error(
    cs: Any, kubelet_pod: KubeletPod, caplog: pytest.LogCaptureFixture
) -> None:
    closed = _free_port(kubelet_pod.ip)
    with caplog.at_level(logging.WARNING, LOGGER), cs.core_v1.pods(
            kubelet_pod.namespace).port_forward(kubelet_pod.name, [(0, closed)]) as pf:
        with socket.create_connection(("127.0.0.1", pf.local_port(closed)),
                                      timeout=TIMEOUT) as conn:
            assert conn.recv(1024) == b""  # closed without data
        _wait_errors(pf, 1)
        assert pf.errors == 1
    # the kubelet's own words from the error channel, naming the port and the pod
    assert f"error forwarding port {closed} to pod {kubelet_pod.name}" in caplog.text


def test_sync_missing_pod_is_a_logged_error(
    cs: Any, kubelet_pod: KubeletPod, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, LOGGER), cs.core_v1.pods(
            kubelet_pod.namespace).port_forward("no-such-pod", [(0, 80)]) as pf:
        with socket.create_connection(("127.0.0.1", pf.local_port(80)),
                                      timeout=TIMEOUT) as conn:
            assert conn.recv(1024) == b""
        _wait_errors(pf, 1)
        assert pf.errors == 1
    assert "no-such-pod" in caplog.text and "not found" in caplog.text.lower()


async def _aroundtrip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    got = await asyncio.wait_for(reader.readexactly(len(payload)), TIMEOUT)
    writer.close()
    return got


async def test_async_echo_concurrent_large_and_refused(
    cluster: TestCluster, kubelet_pod: KubeletPod, caplog: pytest.LogCaptureFixture
) -> None:
    server = kubelet_pod.listen()
    closed = _free_port(kubelet_pod.ip)
    async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
        pods = acs.core_v1.pods(kubelet_pod.namespace)
        with caplog.at_level(logging.WARNING, LOGGER):
            async with pods.port_forward(kubelet_pod.name, [(0, server.port), (0, closed)]) as pf:
                port = pf.local_port(server.port)
                big = os.urandom(4 * 1024 * 1024)
                assert await _aroundtrip(port, big) == big
                payloads = [f"conn {i};".encode() * 5000 for i in range(6)]
                assert await asyncio.gather(*(_aroundtrip(port, p) for p in payloads)) == payloads
                reader, writer = await asyncio.open_connection("127.0.0.1", pf.local_port(closed))
                assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
                writer.close()
                for _ in range(int(TIMEOUT / 0.05)):
                    if pf.errors:
                        break
                    await asyncio.sleep(0.05)
                assert pf.errors == 1
    assert f"error forwarding port {closed}" in caplog.text


def test_sync_leaving_closes_open_connections_and_listener(
    cs: Any, kubelet_pod: KubeletPod
) -> None:
    server = kubelet_pod.listen()
    pf = cs.core_v1.pods(kubelet_pod.namespace).port_forward(kubelet_pod.name, [server.port])
    with pf:
        assert pf.local_port(server.port) == server.port  # a bare port: the same number locally
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        conn.sendall(b"still open")
        assert conn.recv(1024) == b"still open"
    try:
        assert conn.recv(1024) == b""  # leaving the block closed it
    finally:
        conn.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT).close()
    assert pf.errors == 0


def test_sync_refused_upgrade_and_cut_stream_are_logged_errors(
    cs: Any, kubelet: TestKubelet, kubelet_pod: KubeletPod, caplog: pytest.LogCaptureFixture
) -> None:
    server = kubelet_pod.listen()
    pods = cs.core_v1.pods(kubelet_pod.namespace)
    with caplog.at_level(logging.WARNING, LOGGER), \
            pods.port_forward(kubelet_pod.name, [(0, server.port)]) as pf:
        port = pf.local_port(server.port)
        kubelet.fail_upgrades(403, "port-forward refused by the test")
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
            assert conn.recv(1024) == b""
        _wait_errors(pf, 1)
        assert pf.errors == 1
        assert "port-forward refused by the test" in caplog.text
        kubelet.clear_faults()
        kubelet.cut_streams_after(1000)
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as conn:
            conn.sendall(b"x" * 5000)
            got = b""
            while chunk := conn.recv(65536):
                got += chunk
            assert 0 < len(got) < 5000  # cut mid-way: what came before the cut, then closed
        _wait_errors(pf, 2)
        assert pf.errors == 2
        assert "lost the connection" in caplog.text


async def test_async_leaving_closes_open_connections(
    cluster: TestCluster, kubelet_pod: KubeletPod
) -> None:
    server = kubelet_pod.listen()
    async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
        pf = acs.core_v1.pods(kubelet_pod.namespace).port_forward(
            kubelet_pod.name, [(0, server.port)])
        async with pf:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", pf.local_port(server.port))
            writer.write(b"open")
            got = await asyncio.wait_for(reader.readexactly(4), TIMEOUT)
        rest = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
    assert (got, rest, pf.errors) == (b"open", b"", 0)
