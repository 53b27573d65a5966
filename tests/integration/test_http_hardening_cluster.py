"""The runtime's HTTP layer against the real kube-apiserver: type checks on real answers,
typed errors for the codes a proxy in front of it injects, and ``tls-server-name``
through a CONNECT proxy (kubeconfig ``proxy-url`` and ``HTTPS_PROXY``)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from kubecodegen_runtime import errors
from kubecodegen_runtime.client import AsyncRESTClient, NamespacedResource, RESTClient
from kubecodegen_runtime.config import BearerTokenAuth, ClientConfig, load_kubeconfig
from kubecodegen_runtime.meta import ResourceInfo
from kubecodegen_runtime.retry import NO_RETRY
from tests.harness.cluster import TestCluster
from tests.harness.connect_proxy import ConnectProxy
from tests.harness.proxy import Fault, FaultProxy

from .rest_helpers import ConfigMap, ConfigMapList, ConfigMaps, ObjectMeta, admin_config


class SecretsReadAsConfigMaps(NamespacedResource[ConfigMap, ConfigMapList]):
    """A typed client whose path and types disagree: the server answers Secrets."""

    info = ResourceInfo("", "v1", "secrets", "Secret", True)
    type = ConfigMap
    list_type = ConfigMapList


def test_a_typed_get_refuses_another_kind_from_the_server(
    cluster: TestCluster, namespace: str
) -> None:
    with RESTClient(admin_config(cluster)) as rest:
        rest.post(f"/api/v1/namespaces/{namespace}/secrets",
                  json.dumps({"metadata": {"name": "s"}, "stringData": {"k": "v"}}).encode())
        wrong = SecretsReadAsConfigMaps(rest, namespace)
        with pytest.raises(errors.UnexpectedKind,
                           match=r"expected v1 ConfigMap .*the server sent v1 Secret") as one:
            wrong.get("s")
        assert one.value.path == f"/api/v1/namespaces/{namespace}/secrets/s"
        with pytest.raises(errors.UnexpectedKind, match="sent v1 SecretList"):
            wrong.list()
        with pytest.raises(errors.UnexpectedKind, match="expected v1 ConfigMapList"):
            list(wrong.list_all())
        with pytest.raises(errors.UnexpectedKind, match="sent v1 Secret") as watched, \
                wrong.watch(timeout_seconds=5) as events:
            next(iter(events))
        assert str(watched.value).startswith(f"GET /api/v1/namespaces/{namespace}/secrets: ")
        # the right type passes the same check on every verb it uses
        cms = ConfigMaps(rest, namespace)
        cms.create(_configmap("ok"))
        assert cms.get("ok").kind == "ConfigMap"
        assert [c.metadata.name for c in cms.list_all() if c.metadata] == ["ok"]
        assert isinstance(cms.delete("ok"), (ConfigMap, errors.Status))


def _configmap(name: str) -> ConfigMap:
    return ConfigMap(metadata=ObjectMeta(name=name), data={"k": "v"})


@pytest.fixture
def fault_proxy(cluster: TestCluster) -> Iterator[FaultProxy]:
    with FaultProxy(cluster.server, cluster.ca_file) as running:
        yield running


@pytest.mark.parametrize(
    ("code", "method", "cls"),
    [
        (502, "GET", errors.InternalError),
        (503, "GET", errors.ServiceUnavailable),
        (504, "GET", errors.Timeout),
        (501, "POST", errors.InternalError),
        (409, "POST", errors.AlreadyExists),  # a Status without reason: a create's 409
        (413, "POST", errors.RequestEntityTooLarge),
    ],
)
def test_injected_error_codes_are_typed(
    fault_proxy: FaultProxy, cluster: TestCluster, namespace: str, code: int, method: str,
    cls: type[errors.ApiError],
) -> None:
    config = load_kubeconfig(fault_proxy.kubeconfig(cluster.admin_kubeconfig))
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    fault_proxy.inject(Fault.error(code), times=1, method=method, path=path)
    with RESTClient(config, retry=NO_RETRY) as rest:
        cms = ConfigMaps(rest, namespace)
        with pytest.raises(cls) as caught:
            if method == "GET":
                cms.list()
            else:
                cms.create(_configmap("x"))
        assert caught.value.status == code and caught.value.method == method
        assert len(cms.list().items) == 0  # the fault was the proxy's, the server is fine


@pytest.mark.parametrize(("code", "method"), [(302, "GET"), (307, "POST"), (308, "PUT")])
def test_redirects_are_errors_and_never_followed(
    fault_proxy: FaultProxy, cluster: TestCluster, namespace: str, code: int, method: str
) -> None:
    """A redirect in front of the API server (a login portal) is never a silent success
    and never followed -- least of all with the body and credentials of a write."""
    config = load_kubeconfig(fault_proxy.kubeconfig(cluster.admin_kubeconfig))
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    with RESTClient(config, retry=NO_RETRY) as rest:
        cms = ConfigMaps(rest, namespace)
        created = cms.create(_configmap("r"))
        target = f"{path}/r" if method == "PUT" else path
        fault_proxy.inject(Fault.redirect(code, f"{path}/elsewhere"), times=1, method=method,
                           path=target)
        with pytest.raises(errors.UnexpectedRedirect) as caught:
            if method == "GET":
                cms.list()
            elif method == "POST":
                cms.create(_configmap("s"))
            else:
                cms.update(created)
        assert caught.value.status == code
        assert caught.value.location == f"{path}/elsewhere"
    assert [s.path for s in fault_proxy.requests(path=f"{path}/elsewhere")] == []


# --- tls-server-name through a CONNECT tunnel ------------------------------------------------


def _tunnel_config(cluster: TestCluster, host: str, **overrides: object) -> ClientConfig:
    """A config naming the API server by a host only the proxy can reach."""
    port = urlsplit(cluster.server).port
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    return ClientConfig(server=f"https://{host}:{port}", verify=context,
                        auth=BearerTokenAuth(cluster.admin_token), qps=0.0,
                        **overrides)  # type: ignore[arg-type]


@pytest.fixture
def tunnel(cluster: TestCluster) -> Iterator[ConnectProxy]:
    port = urlsplit(cluster.server).port
    assert port is not None
    with ConnectProxy(("127.0.0.1", port)) as running:
        yield running


def test_tls_server_name_is_used_inside_the_tunnel(
    cluster: TestCluster, tunnel: ConnectProxy
) -> None:
    """The server certificate names kubernetes.default.svc, not kube-api.invalid; the
    handshake through the tunnel succeeds only if tls-server-name is what it checks."""
    named = _tunnel_config(cluster, "kube-api.invalid", proxy=tunnel.url,
                           tls_server_name="kubernetes.default.svc")
    with RESTClient(named, retry=NO_RETRY) as rest:
        assert rest.get("/version")["major"] == "1"
    port = urlsplit(cluster.server).port
    assert tunnel.targets == [f"kube-api.invalid:{port}"]
    unnamed = _tunnel_config(cluster, "kube-api.invalid", proxy=tunnel.url)
    with RESTClient(unnamed, retry=NO_RETRY) as rest, \
            pytest.raises(errors.TransportError, match=r"CERTIFICATE_VERIFY_FAILED|hostname"):
        rest.get("/version")


async def test_tls_server_name_inside_the_tunnel_async(
    cluster: TestCluster, tunnel: ConnectProxy
) -> None:
    named = _tunnel_config(cluster, "kube-api.invalid", proxy=tunnel.url,
                           tls_server_name="kubernetes.default.svc")
    async with AsyncRESTClient(named, retry=NO_RETRY) as rest:
        assert (await rest.get("/version"))["major"] == "1"
    assert len(tunnel.targets) == 1


def test_https_proxy_environment_and_no_proxy(
    cluster: TestCluster, tunnel: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS_PROXY is honoured for a non-loopback server name (and tls-server-name with
    it); NO_PROXY naming the host sends the request direct, where the name resolves
    nowhere."""
    monkeypatch.setenv("HTTPS_PROXY", tunnel.url)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8,.example.com")
    named = _tunnel_config(cluster, "kube-api.invalid", tls_server_name="kubernetes.default.svc")
    with RESTClient(named, retry=NO_RETRY) as rest:
        assert rest.get("/version")["major"] == "1"
    assert len(tunnel.targets) == 1
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8,kube-api.invalid")
    with RESTClient(named, retry=NO_RETRY) as rest, \
            pytest.raises(errors.TransportError, match="ConnectError"):
        rest.get("/version")
    assert len(tunnel.targets) == 1  # not proxied
