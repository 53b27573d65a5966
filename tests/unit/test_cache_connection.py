"""The sync reflector's interruptible connections (runtime/cache/connection.py).

A local TCP server started by each test plays a hung server: it accepts, reads the request
and never answers (or answers and then never sends the rest). The real-server tests with
the fault-injecting proxy are in tests/integration/test_informer_faults.py.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from kubecodegen_runtime.cache.connection import InterruptibleClient, StopAwareRetry
from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.errors import TransportError
from kubecodegen_runtime.rest import request as rq
from kubecodegen_runtime.retry import Failure, RetryPolicy


class HungServer:
    """Accepts connections on loopback; each gets ``prefix`` (maybe nothing), then silence."""

    def __init__(self, prefix: bytes = b"") -> None:
        self.prefix = prefix
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.accepted += 1
            self._conns.append(conn)
            with contextlib.suppress(OSError):
                conn.settimeout(5)
                conn.recv(65536)
                if self.prefix:
                    conn.sendall(self.prefix)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self._conns:
            conn.close()
        self.listener.close()


@pytest.fixture
def hung() -> Iterator[HungServer]:
    server = HungServer()
    yield server
    server.close()


def rest_for(url: str, retry: RetryPolicy | None = None) -> RESTClient:
    config = ClientConfig(server=url, verify=ssl.create_default_context(), timeout=60.0, qps=0.0)
    return RESTClient(config, retry=retry)


def cut_after(client: InterruptibleClient, delay: float) -> threading.Thread:
    thread = threading.Timer(delay, client.cut)
    thread.start()
    return thread


def test_cut_interrupts_a_request_waiting_for_its_answer(hung: HungServer) -> None:
    client = InterruptibleClient(rest_for(hung.url))
    cutter = cut_after(client, 0.3)
    started = time.monotonic()
    with pytest.raises(TransportError):
        client.rest.send(rq.Request("GET", "/api/v1/pods"))
    took = time.monotonic() - started
    cutter.join()
    client.close()
    assert took < 2.0, f"the cut request lasted {took:.1f}s (the read timeout is 60s)"
    assert hung.accepted == 1, "a cut request must not be retried"


def test_cut_interrupts_a_stream_whose_body_never_comes() -> None:
    server = HungServer(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")
    try:
        client = InterruptibleClient(rest_for(server.url))
        stream = client.rest.open(rq.Request("GET", "/api/v1/pods", stream=True))
        cutter = cut_after(client, 0.3)
        started = time.monotonic()
        with pytest.raises(TransportError):
            for _ in stream.iter_chunks():
                pass
        stream.close()
        cutter.join()
        client.close()
        assert time.monotonic() - started < 2.0
    finally:
        server.close()


def test_after_a_cut_no_request_reaches_the_network(hung: HungServer) -> None:
    client = InterruptibleClient(rest_for(hung.url))
    client.cut()
    assert client.is_cut
    with pytest.raises(TransportError, match="stopping"):
        client.rest.send(rq.Request("GET", "/api/v1/pods"))
    client.close()
    time.sleep(0.3)
    assert hung.accepted == 0


def test_the_callers_client_is_left_alone(hung: HungServer) -> None:
    rest = rest_for(hung.url)
    client = InterruptibleClient(rest)
    assert client.rest is not rest
    assert client.rest.config is rest.config and client.rest.warnings is rest.warnings
    assert client.rest.rate_limiter is rest.rate_limiter  # one limiter per program, as before
    client.cut()
    client.close()
    rest.close()


def test_stop_aware_retry_defers_to_its_policy_until_cut() -> None:
    cut = threading.Event()
    inner = RetryPolicy(max_attempts=3, base_delay=0.05, max_total=0.2, jitter=0.0)
    retry = StopAwareRetry(inner, cut)
    # the REST client is told 0 s: the wait happened inside, on the event
    started = time.monotonic()
    assert retry.delay(attempt=1, method="GET", failure=Failure.OTHER) == 0.0
    assert time.monotonic() - started >= 0.04
    assert retry.delay(attempt=2, method="GET", failure=Failure.OTHER) == 0.0
    # the inner policy still sees the time really waited (0.15 + 0.1 > max_total 0.2)
    assert retry.delay(attempt=2, method="GET", failure=Failure.OTHER) is None
    # a new request (attempt 1) starts counting again; never more than max_attempts
    assert retry.delay(attempt=1, method="GET", failure=Failure.OTHER) == 0.0
    assert retry.delay(attempt=3, method="GET", failure=Failure.OTHER) is None
    assert retry.delay(attempt=1, method="POST", status=500) is None  # a write is not retried


def test_stop_aware_retry_gives_up_when_cut_even_mid_wait() -> None:
    cut = threading.Event()
    retry = StopAwareRetry(RetryPolicy(base_delay=20.0, jitter=0.0), cut)
    threading.Timer(0.2, cut.set).start()
    started = time.monotonic()
    assert retry.delay(attempt=1, method="GET", status=503) is None
    assert time.monotonic() - started < 2.0
    assert retry.delay(attempt=1, method="GET", status=503) is None
