"""The thread and asyncio shells of kubecodegen_runtime.events against a server that is not
there (a closed local port: connections are refused at once): eventf never waits, the queue
bound holds, retries give up after max_tries, and shutdown stops within its timeout."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from kubecodegen_runtime.backoff import ExponentialBackoff
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.events import AsyncEventBroadcaster, EventBroadcaster
from kubecodegen_runtime.retry import RetryPolicy

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}}


@pytest.fixture
def refused_config() -> Iterator[ClientConfig]:
    """A server address that refuses every connection for the whole test: a port bound and
    never listened on (a released port could be taken by another process meanwhile)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        yield ClientConfig(server=f"https://127.0.0.1:{port}",
                           verify=ssl.create_default_context(), qps=0.0, timeout=5.0)


@pytest.fixture
def rest(refused_config: ClientConfig) -> Iterator[RESTClient]:
    with RESTClient(refused_config, retry=RetryPolicy(max_attempts=1)) as client:
        yield client


def quick() -> ExponentialBackoff:
    return ExponentialBackoff(initial=0.01, max_delay=0.05)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_eventf_queues_without_waiting_and_counts_what_does_not_fit(rest: RESTClient) -> None:
    broadcaster = EventBroadcaster(rest, api="events.k8s.io/v1", queue_size=3, backoff=quick,
                                   max_tries=10**6, spam_burst=1000)
    recorder = broadcaster.new_recorder("example.com/ctrl", "i")
    started = time.monotonic()
    for i in range(50):
        recorder.eventf(POD, None, "Normal", f"R{i}", "A", "n")
    assert time.monotonic() - started < 5.0  # generous: no I/O happens in eventf
    assert broadcaster.pending <= 3
    assert broadcaster.queue_full >= 50 - 3 - 1 and broadcaster.dropped == broadcaster.queue_full
    wait_until(lambda: broadcaster.retries > 0)
    started = time.monotonic()
    assert broadcaster.shutdown(0.2) is False  # the server never answers: nothing flushed
    assert time.monotonic() - started < 5.0
    assert broadcaster.failed == 50 - broadcaster.queue_full  # everything queued is abandoned
    recorder.eventf(POD, None, "Normal", "Late", "A", "n")  # after shutdown: dropped, no error
    assert broadcaster.queue_full == 50 - broadcaster.failed + 1


def test_writer_gives_up_after_max_tries(rest: RESTClient) -> None:
    with EventBroadcaster(rest, api="v1", backoff=quick, max_tries=3) as broadcaster:
        broadcaster.new_recorder("example.com/ctrl", "i").eventf(POD, None, "Warning", "R", "A", "n")
        wait_until(lambda: broadcaster.failed == 1)
        assert broadcaster.retries == 2 and broadcaster.written == 0
        assert broadcaster.shutdown(5.0) is True  # nothing left to write


def test_auto_waits_for_discovery_and_abandons_at_shutdown(rest: RESTClient) -> None:
    broadcaster = EventBroadcaster(rest, backoff=quick)
    broadcaster.new_recorder("example.com/ctrl", "i").eventf(POD, None, "Normal", "R", "A", "n")
    time.sleep(0.05)
    assert broadcaster.api is None and broadcaster.pending == 1
    assert broadcaster.shutdown(0.1) is False
    assert broadcaster.failed == 1 and broadcaster.pending == 0


async def test_async_shell_takes_events_from_any_thread(refused_config: ClientConfig) -> None:
    async with AsyncRESTClient(refused_config, retry=RetryPolicy(max_attempts=1)) as arest:
        broadcaster = AsyncEventBroadcaster(arest, api="events.k8s.io/v1", queue_size=4,
                                            backoff=quick, max_tries=10**6, spam_burst=1000)
        recorder = broadcaster.new_recorder("example.com/ctrl", "i")
        recorder.eventf(POD, None, "Normal", "OnLoop", "A", "n")

        def elsewhere() -> None:
            for i in range(20):
                recorder.eventf(POD, None, "Normal", f"T{i}", "A", "n")

        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
        assert broadcaster.queue_full >= 21 - 4 - 1
        deadline = time.monotonic() + 30
        while broadcaster.retries == 0:
            assert time.monotonic() < deadline, "the writer never retried"
            await asyncio.sleep(0.01)
        assert await broadcaster.shutdown(0.2) is False
        assert broadcaster.failed == 21 - broadcaster.queue_full and broadcaster.pending == 0


async def test_async_writer_gives_up_after_max_tries(refused_config: ClientConfig) -> None:
    async with (AsyncRESTClient(refused_config, retry=RetryPolicy(max_attempts=1)) as arest,
                AsyncEventBroadcaster(arest, api="v1", backoff=quick, max_tries=2) as b):
        b.new_recorder("example.com/ctrl", "i").eventf(POD, None, "Normal", "R", "A", "n")
        deadline = time.monotonic() + 30
        while b.failed == 0:
            assert time.monotonic() < deadline, "the writer never gave up"
            await asyncio.sleep(0.01)
        assert b.retries == 1


def test_async_broadcaster_needs_a_running_loop(refused_config: ClientConfig) -> None:
    arest = AsyncRESTClient(refused_config)
    with pytest.raises(RuntimeError):
        AsyncEventBroadcaster(arest)
    asyncio.run(arest.aclose())
