"""RESTClient and transport against the real kube-apiserver: TLS, auth failures, warnings,
rate limiting, streaming, transport errors."""

from __future__ import annotations

import json
import socket
import ssl
import time
import warnings

import pytest

from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.config import ClientConfig, load_kubeconfig
from kubecodegen_runtime.errors import (
    Forbidden,
    KubernetesWarning,
    NotFound,
    TransportError,
    Unauthorized,
)
from kubecodegen_runtime.rest import request as rq
from kubecodegen_runtime.retry import RetryPolicy
from tests.harness.cluster import TestCluster

from .rest_helpers import admin_config, token_config


def test_version_and_untyped_verbs(cluster: TestCluster, namespace: str) -> None:
    with RESTClient(admin_config(cluster)) as rest:
        version = rest.get("/version")
        assert version["gitVersion"].startswith("v1.")
        path = f"/api/v1/namespaces/{namespace}/configmaps"
        body = json.dumps({"metadata": {"name": "raw"}, "data": {"a": "1"}}).encode()
        created = rest.post(path, body)
        assert created["metadata"]["name"] == "raw"
        patched = rest.patch(f"{path}/raw", b'{"data":{"b":"2"}}',
                             content_type="application/merge-patch+json")
        assert patched["data"] == {"a": "1", "b": "2"}
        assert rest.get(path, params=[("labelSelector", "none=here")])["items"] == []
        deleted = rest.delete(f"{path}/raw")
        assert deleted["kind"] in ("Status", "ConfigMap")
        with pytest.raises(NotFound):
            rest.get(f"{path}/raw")


def test_bad_token_is_unauthorized_and_never_echoed(cluster: TestCluster) -> None:
    secret = "not-a-valid-token-s3cr3t"
    rest = RESTClient(token_config(cluster, secret))
    with rest, pytest.raises(Unauthorized) as info:
        rest.get("/api/v1/namespaces")
    err = info.value
    assert err.status == 401
    for text in (str(err), repr(err), repr(err.body), err.message):
        assert secret not in text


def test_restricted_user_is_forbidden(cluster: TestCluster, namespace: str) -> None:
    config = load_kubeconfig(cluster.restricted_kubeconfig)
    with RESTClient(config) as rest:
        allowed = rest.get(f"/api/v1/namespaces/{cluster.restricted_namespace}/configmaps")
        assert allowed["kind"] == "ConfigMapList"
        with pytest.raises(Forbidden) as info:
            rest.get(f"/api/v1/namespaces/{namespace}/secrets")
    assert info.value.status == 403 and info.value.details is not None
    assert info.value.details.kind == "secrets"


def test_deprecation_warnings_surface_once_per_client(cluster: TestCluster) -> None:
    path = "/apis/rbac.authorization.k8s.io/v1beta1/clusterroles"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with RESTClient(admin_config(cluster)) as rest:
            rest.get(path, params=[("limit", "1")])
            rest.get(path, params=[("limit", "1")])
        with RESTClient(admin_config(cluster)) as other:
            other.get(path, params=[("limit", "1")])
    texts = [str(w.message) for w in caught if w.category is KubernetesWarning]
    assert len(texts) == 2 and texts[0] == texts[1]
    assert "deprecated" in texts[0] and "ClusterRole" in texts[0]


def test_client_side_rate_limit(cluster: TestCluster) -> None:
    with RESTClient(admin_config(cluster, qps=4.0, burst=1)) as rest:
        start = time.monotonic()
        for _ in range(5):
            rest.get("/version")
        elapsed = time.monotonic() - start
    assert elapsed >= 0.9  # four paced requests at 4/s after the burst of one


def test_untrusted_server_certificate_is_a_transport_error(cluster: TestCluster) -> None:
    config = ClientConfig(server=cluster.server, verify=ssl.create_default_context(), qps=0)
    rest = RESTClient(config, retry=RetryPolicy(max_attempts=1))
    with rest, pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED") as info:
        rest.get("/version")
    assert not info.value.sent


def test_connection_refused_is_retried_then_reported(cluster: TestCluster) -> None:
    with socket.socket() as sock:  # a loopback port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = ClientConfig(server=f"https://127.0.0.1:{port}",
                          verify=ssl.create_default_context(cafile=str(cluster.ca_file)), qps=0)
    policy = RetryPolicy(max_attempts=3, base_delay=0.05, jitter=0.0)
    with RESTClient(config, retry=policy) as rest:
        start = time.monotonic()
        with pytest.raises(TransportError, match="ConnectError") as info:
            rest.post("/api/v1/namespaces", b"{}")
        assert time.monotonic() - start >= 0.15  # waited 0.05 + 0.1 between three attempts
    assert info.value.url == f"https://127.0.0.1:{port}/api/v1/namespaces"


def test_streaming_answer_can_be_closed_early(cluster: TestCluster, namespace: str) -> None:
    with RESTClient(admin_config(cluster)) as rest:
        req = rq.raw("GET", f"/api/v1/namespaces/{namespace}/configmaps",
                     params=[("watch", "true"), ("timeoutSeconds", "30")], stream=True)
        rest.post(f"/api/v1/namespaces/{namespace}/configmaps",
                  b'{"metadata":{"name":"s1"}}')
        start = time.monotonic()
        stream = rest.open(req)
        try:
            first = next(iter(stream.iter_chunks()))
        finally:
            stream.close()
        assert b'"ADDED"' in first and time.monotonic() - start < 10


async def test_async_rest_client(cluster: TestCluster) -> None:
    async with AsyncRESTClient(admin_config(cluster)) as rest:
        version = await rest.get("/version")
        assert version["major"] == "1"
        with pytest.raises(NotFound):
            await rest.get("/api/v1/namespaces/does-not-exist-here")
