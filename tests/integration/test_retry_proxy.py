"""Retries and client-side rate limiting of the generated client, against the real server.

A :class:`~tests.harness.proxy.FaultProxy` sits between the generated ``kube_v1_20``
client and the session's kube-apiserver: every request really reaches the server unless
the test told the proxy to answer it with a fault first. The proxy counts what arrived,
so each test checks both what the caller saw (result, typed error, elapsed time) and how
many attempts were actually made -- the two things a scripted transport cannot prove
against real HTTP, TLS and keep-alive behaviour.

The retry rules under test are ``runtime/retry.py``'s: a 429/5xx with ``Retry-After`` is
repeated for any verb after that many seconds; reads also repeat plain 429/5xx and broken
connections with jittered exponential backoff; a write whose outcome is unknown is never
repeated.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.generated_packages import import_reference
from tests.harness.cluster import TestCluster
from tests.harness.proxy import Fault, FaultProxy, Seen

import_reference("kube_v1_20")
from kube_v1_20 import AsyncClientset, Clientset  # noqa: E402
from kube_v1_20.models import core_v1, meta_v1  # noqa: E402

from kubecodegen_runtime import errors  # noqa: E402
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient  # noqa: E402
from kubecodegen_runtime.config import load_config  # noqa: E402
from kubecodegen_runtime.rest.limits import Limits  # noqa: E402
from kubecodegen_runtime.retry import RetryPolicy  # noqa: E402

#: Fast, deterministic backoff for the give-up tests (3 tries, ~0.1 s of waiting).
QUICK = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, jitter=0.0)


@pytest.fixture
def proxy(cluster: TestCluster) -> Iterator[FaultProxy]:
    with FaultProxy(cluster.server, cluster.ca_file) as running:
        yield running


def _clientset(
    proxy: FaultProxy, cluster: TestCluster, *, retry: RetryPolicy | None = None,
    limits: Limits | None = None, **config: Any
) -> Clientset:
    """A typed Clientset that talks to the cluster through ``proxy``; ``config`` overrides
    ClientConfig fields (qps, burst, timeout)."""
    loaded = load_config(str(proxy.kubeconfig(cluster.admin_kubeconfig)))
    return Clientset(RESTClient(dataclasses.replace(loaded, **config), retry=retry,
                                limits=limits))


def _configmap(name: str) -> core_v1.ConfigMap:
    return core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name=name), data={"k": "v"})


def _meta(obj: core_v1.ConfigMap) -> meta_v1.ObjectMeta:
    assert obj.metadata is not None
    return obj.metadata


def _list_rv(items: core_v1.ConfigMapList) -> str | None:
    assert items.metadata is not None
    return items.metadata.resource_version


def _paths(namespace: str, name: str = "") -> str:
    collection = f"/api/v1/namespaces/{namespace}/configmaps"
    return f"{collection}/{name}" if name else collection


def _outcomes(seen: list[Seen]) -> list[str]:
    return [f"{s.outcome} {s.status}" if s.status is not None else s.outcome for s in seen]


def _gaps(seen: list[Seen]) -> list[float]:
    return [later.at - earlier.at for earlier, later in itertools.pairwise(seen)]


def _exists(cluster: TestCluster, namespace: str, name: str) -> bool:
    answer = cluster.admin_client().get(_paths(namespace, name))
    assert answer.status_code in (200, 404), answer.status_code
    return answer.status_code == 200


def test_proxy_forwards_reads_writes_and_watches(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """Without faults the proxy is transparent: credentials, bodies, queries and a
    streamed watch all pass, and every request is counted once."""
    with _clientset(proxy, cluster) as cs:
        cms = cs.core_v1.config_maps(namespace)
        created = cms.create(_configmap("plain"))
        assert _meta(cms.get("plain")).uid == _meta(created).uid
        rv = _list_rv(cms.list(label_selector="missing=label"))
        cms.patch("plain", {"data": {"k": "v2"}})
        with cms.watch(resource_version=rv, timeout_seconds=5) as events:
            event = next(iter(events))
        assert event.type == "MODIFIED" and event.object.data == {"k": "v2"}
    assert _outcomes(proxy.requests(path=_paths(namespace))) == [
        "forwarded 201",
        "forwarded 200",
        "forwarded 200",
    ]
    assert [s.method for s in proxy.requests(path=_paths(namespace, "plain"))] == ["GET", "PATCH"]


def test_get_retried_after_429_honouring_retry_after(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    path = _paths(namespace, "a")
    with _clientset(proxy, cluster) as cs:
        cms = cs.core_v1.config_maps(namespace)
        cms.create(_configmap("a"))
        proxy.inject(Fault.error(429, retry_after=1), times=2, method="GET", path=path)
        start = time.monotonic()
        got = cms.get("a")
        elapsed = time.monotonic() - start
    assert got.data == {"k": "v"}
    seen = proxy.requests("GET", path)
    assert _outcomes(seen) == ["injected 429", "injected 429", "forwarded 200"]
    assert elapsed >= 1.9, elapsed
    assert all(gap >= 0.95 for gap in _gaps(seen)), _gaps(seen)


def test_post_retried_on_429_with_retry_after(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """APF rejects with 429 + Retry-After before running a request, so a write repeats."""
    path = _paths(namespace)
    proxy.inject(Fault.error(429, retry_after=1), times=1, method="POST", path=path)
    with _clientset(proxy, cluster) as cs:
        start = time.monotonic()
        created = cs.core_v1.config_maps(namespace).create(_configmap("b"))
        elapsed = time.monotonic() - start
    assert _meta(created).name == "b"
    assert _outcomes(proxy.requests("POST", path)) == ["injected 429", "forwarded 201"]
    assert elapsed >= 0.95, elapsed


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.error(500), errors.InternalError),
        (Fault.error(503), errors.ServiceUnavailable),
        (Fault.error(429), errors.TooManyRequests),
    ],
    ids=["500", "503", "429-without-retry-after"],
)
def test_post_not_retried_without_retry_after(
    proxy: FaultProxy,
    cluster: TestCluster,
    namespace: str,
    fault: Fault,
    error: type[errors.ApiError],
) -> None:
    path = _paths(namespace)
    proxy.inject(fault, times=1, method="POST", path=path)
    with _clientset(proxy, cluster) as cs:
        cms = cs.core_v1.config_maps(namespace)
        with pytest.raises(error) as raised:
            cms.create(_configmap("c"))
        assert raised.value.status == fault.status
        assert _outcomes(proxy.requests("POST", path)) == [f"injected {fault.status}"]
        assert not _exists(cluster, namespace, "c")
        # The fault was a one-off: the same call now succeeds, so only the client's
        # decision kept it from retrying.
        assert _meta(cms.create(_configmap("c"))).name == "c"


def test_post_retried_on_500_with_retry_after(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """The server only sends Retry-After when a repeat is safe, whatever the code."""
    path = _paths(namespace)
    proxy.inject(Fault.error(500, retry_after=1), times=1, method="POST", path=path)
    with _clientset(proxy, cluster) as cs:
        cs.core_v1.config_maps(namespace).create(_configmap("d"))
    assert _outcomes(proxy.requests("POST", path)) == ["injected 500", "forwarded 201"]


def test_get_retried_on_503_then_connection_reset(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """Default policy: backoff 0.5 s then 1 s (+-20 %) between the three attempts."""
    path = _paths(namespace, "e")
    with _clientset(proxy, cluster) as cs:
        cms = cs.core_v1.config_maps(namespace)
        cms.create(_configmap("e"))
        proxy.inject(Fault.error(503), times=1, method="GET", path=path)
        proxy.inject(Fault.reset(), times=1, method="GET", path=path)
        start = time.monotonic()
        assert _meta(cms.get("e")).name == "e"
        elapsed = time.monotonic() - start
    seen = proxy.requests("GET", path)
    assert _outcomes(seen) == ["injected 503", "reset", "forwarded 200"]
    first, second = _gaps(seen)
    assert first >= 0.4 and second >= 0.8, (first, second)
    assert elapsed >= 1.2, elapsed


def test_post_not_retried_after_connection_reset(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    path = _paths(namespace)
    proxy.inject(Fault.reset(), times=1, method="POST", path=path)
    with _clientset(proxy, cluster) as cs, pytest.raises(errors.TransportError) as raised:
        cs.core_v1.config_maps(namespace).create(_configmap("f"))
    assert raised.value.sent
    assert _outcomes(proxy.requests("POST", path)) == ["reset"]
    assert not _exists(cluster, namespace, "f")


def test_get_gives_up_after_max_attempts(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    path = _paths(namespace, "g")
    proxy.inject(Fault.error(503), times=None, method="GET", path=path)
    with _clientset(proxy, cluster, retry=QUICK) as cs, pytest.raises(errors.ServiceUnavailable):
        cs.core_v1.config_maps(namespace).get("g")
    assert _outcomes(proxy.requests("GET", path)) == ["injected 503"] * QUICK.max_attempts


def test_default_policy_gives_up_after_five_attempts(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """``Retry-After: 0`` keeps the default policy's waits at zero, so only its attempt
    limit ends the loop."""
    path = _paths(namespace, "h")
    proxy.inject(Fault.error(429, retry_after=0), times=None, method="GET", path=path)
    with _clientset(proxy, cluster) as cs, pytest.raises(errors.TooManyRequests) as raised:
        cs.core_v1.config_maps(namespace).get("h")
    assert raised.value.retry_after == 0
    assert len(proxy.requests("GET", path)) == RetryPolicy().max_attempts == 5


def test_get_gives_up_after_repeated_resets(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    path = _paths(namespace, "i")
    proxy.inject(Fault.reset(), times=None, method="GET", path=path)
    with _clientset(proxy, cluster, retry=QUICK) as cs, pytest.raises(errors.TransportError):
        cs.core_v1.config_maps(namespace).get("i")
    assert _outcomes(proxy.requests("GET", path)) == ["reset"] * QUICK.max_attempts


def test_read_timeout_retried_for_get_but_not_for_post(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """A POST that timed out may still have happened -- here it does, after the client
    gave up -- which is exactly why it must not be sent again. A GET whose read timed out
    before its total deadline is repeated."""
    collection, item = _paths(namespace), _paths(namespace, "j")
    with _clientset(proxy, cluster, timeout=0.5, limits=Limits(deadline=10.0)) as cs:
        cms = cs.core_v1.config_maps(namespace)
        proxy.inject(Fault.slow(1.5), times=1, method="POST", path=collection)
        with pytest.raises(errors.TransportError):
            cms.create(_configmap("j"))
        deadline = time.monotonic() + 10
        while not _exists(cluster, namespace, "j"):
            assert time.monotonic() < deadline, "the delayed POST never reached the server"
            time.sleep(0.1)
        assert len(proxy.requests("POST", collection)) == 1
        proxy.inject(Fault.slow(1.5), times=1, method="GET", path=item)
        assert _meta(cms.get("j")).name == "j"
        # The held-back first GET is recorded once the proxy forwards it, after the retry.
        deadline = time.monotonic() + 10
        while len(proxy.requests("GET", item)) < 2:
            assert time.monotonic() < deadline, proxy.requests("GET", item)
            time.sleep(0.1)
    seen = proxy.requests("GET", item)
    assert len(seen) == 2
    assert seen[1].at - seen[0].at >= 0.5, _gaps(seen)  # the client timed out first


def test_a_get_that_spends_its_whole_deadline_is_not_repeated(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """By default the deadline is the config timeout, as client-go's is: a GET held past
    it fails with DeadlineExceeded after one attempt (repeating would double the time
    the caller allowed)."""
    item = _paths(namespace, "d")
    with _clientset(proxy, cluster, timeout=0.5) as cs:
        cms = cs.core_v1.config_maps(namespace)
        cms.create(_configmap("d"))
        proxy.inject(Fault.slow(1.5), times=2, method="GET", path=item)
        start = time.monotonic()
        with pytest.raises(errors.DeadlineExceeded):
            cms.get("d")
        assert time.monotonic() - start < 1.4
        # the held request is logged once the proxy forwards it; a retry would be a second
        deadline = time.monotonic() + 10
        while not proxy.requests("GET", item):
            assert time.monotonic() < deadline, "the held GET was never forwarded"
            time.sleep(0.1)
        time.sleep(2.0)
    assert len(proxy.requests("GET", item)) == 1


def test_watch_open_retried_on_503(proxy: FaultProxy, cluster: TestCluster, namespace: str) -> None:
    collection = _paths(namespace)
    with _clientset(proxy, cluster, retry=QUICK) as cs:
        cms = cs.core_v1.config_maps(namespace)
        rv = _list_rv(cms.list())
        cms.create(_configmap("k"))
        proxy.clear()
        proxy.inject(Fault.error(503), times=1, method="GET", path=collection)
        with cms.watch(resource_version=rv, timeout_seconds=5) as events:
            event = next(iter(events))
    assert event.type == "ADDED" and isinstance(event.object, core_v1.ConfigMap)
    assert _meta(event.object).name == "k"
    assert _outcomes(proxy.requests("GET", collection)) == ["injected 503", "forwarded 200"]


def test_rate_limiter_spaces_requests(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """qps=5, burst=1: one request at once, then one every 0.2 s; with burst=6 the same six
    requests are not held back at all (the comparison shows the limiter made the gap)."""
    path = _paths(namespace, "missing")

    def six_gets(**config: Any) -> tuple[float, list[Seen]]:
        proxy.clear()
        with _clientset(proxy, cluster, **config) as cs:
            cms = cs.core_v1.config_maps(namespace)
            start = time.monotonic()
            for _ in range(6):
                with pytest.raises(errors.NotFound):
                    cms.get("missing")
            return time.monotonic() - start, proxy.requests("GET", path)

    limited, seen = six_gets(qps=5.0, burst=1)
    assert len(seen) == 6
    assert limited >= 0.95, limited
    assert all(gap >= 0.15 for gap in _gaps(seen)), _gaps(seen)
    unlimited, seen = six_gets(qps=5.0, burst=6)
    assert len(seen) == 6
    assert unlimited < limited - 0.5, (unlimited, limited)


async def test_async_client_retries_like_the_sync_one(
    proxy: FaultProxy, cluster: TestCluster, namespace: str
) -> None:
    """``_async/rest.py`` is the hand-written original of the sync loop: check it directly."""
    collection, item = _paths(namespace), _paths(namespace, "m")
    config = load_config(str(proxy.kubeconfig(cluster.admin_kubeconfig)))
    async with AsyncClientset(AsyncRESTClient(config)) as cs:
        cms = cs.core_v1.config_maps(namespace)
        proxy.inject(Fault.error(500), times=1, method="POST", path=collection)
        with pytest.raises(errors.InternalError):
            await cms.create(_configmap("m"))
        await cms.create(_configmap("m"))
        proxy.inject(Fault.error(429, retry_after=1), times=1, method="GET", path=item)
        proxy.inject(Fault.reset(), times=1, method="GET", path=item)
        start = time.monotonic()
        assert _meta(await cms.get("m")).name == "m"
        elapsed = time.monotonic() - start
    assert _outcomes(proxy.requests("POST", collection)) == ["injected 500", "forwarded 201"]
    assert _outcomes(proxy.requests("GET", item)) == ["injected 429", "reset", "forwarded 200"]
    assert elapsed >= 0.95 + 0.8, elapsed  # Retry-After 1 s, then backoff 1 s -20 %


def test_fault_rejects_contradictions(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="status or drop"):
        Fault(status=500, drop=True)
    with pytest.raises(ValueError, match="300-599"):
        Fault(status=200)
    with pytest.raises(ValueError, match="location"):
        Fault(status=302)
    with pytest.raises(ValueError, match="retry_after"):
        Fault(retry_after=1)
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy("https://example.com", tmp_path / "ca.crt")
