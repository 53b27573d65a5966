"""How the transport configures httpx, and the REST client's retry loop (scripted transport:
these tests are about our loop's decisions and sleeps, not about any server's behaviour)."""

from __future__ import annotations

import ssl

import httpx
import pytest

from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.errors import ServiceUnavailable, TooManyRequests, TransportError
from kubecodegen_runtime.ratelimit import RateLimiter
from kubecodegen_runtime.rest import request as rq
from kubecodegen_runtime.rest.response import Response
from kubecodegen_runtime.retry import RetryPolicy
from kubecodegen_runtime.transport import DEFAULT_USER_AGENT, _build, _client_kwargs, build_client


def config(**overrides: object) -> ClientConfig:
    return ClientConfig(server="https://127.0.0.1:6443", verify=ssl.create_default_context(),
                        **overrides)  # type: ignore[arg-type]


def test_default_and_custom_user_agent() -> None:
    with build_client(config()) as client:
        assert client.headers["User-Agent"] == DEFAULT_USER_AGENT
        assert DEFAULT_USER_AGENT.startswith("kubecodegen/") and "(python)" in DEFAULT_USER_AGENT
    with build_client(config(user_agent="mine/1")) as client:
        assert client.headers["User-Agent"] == "mine/1"


def test_proxy_comes_from_go_rules_not_httpx_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", "10.0.0.0/8")
    assert _client_kwargs(config())["trust_env"] is False
    assert "proxy" not in _client_kwargs(config())  # loopback: never proxied
    remote = ClientConfig(server="https://k8s.example.com", verify=ssl.create_default_context())
    kwargs = _client_kwargs(remote)
    assert kwargs["trust_env"] is False and kwargs["proxy"] == "http://proxy.example.com:3128"
    inside = ClientConfig(server="https://10.1.2.3:6443", verify=ssl.create_default_context())
    assert "proxy" not in _client_kwargs(inside)
    pinned = ClientConfig(server="https://127.0.0.1:6443", verify=ssl.create_default_context(),
                          proxy="http://127.0.0.1:9")
    assert _client_kwargs(pinned)["proxy"] == "http://127.0.0.1:9"  # proxy-url: always


def test_built_requests_carry_sni_content_type_and_stream_timeout() -> None:
    cfg = config(tls_server_name="kubernetes.default.svc", timeout=7.0)
    with build_client(cfg) as client:
        req = _build(client, cfg, rq.raw("POST", "/api/v1/namespaces/a%20b/configmaps",
                                         params=[("dryRun", "All")], body=b"{}"))
        assert req.extensions["sni_hostname"] == "kubernetes.default.svc"
        assert req.headers["Content-Type"] == "application/json"
        assert req.headers["Accept"] == "application/json"
        assert str(req.url) == "https://127.0.0.1:6443/api/v1/namespaces/a%20b/configmaps?dryRun=All"
        assert req.extensions["timeout"]["read"] == 7.0
        watch = _build(client, cfg, rq.raw("GET", "/api/v1/pods", stream=True))
        assert watch.extensions["timeout"]["read"] is None


class ScriptedTransport:
    """Answers from a script; records what was sent."""

    def __init__(self, script: list[Response | TransportError]) -> None:
        self.script = script
        self.sent: list[rq.Request] = []

    def send(self, req: rq.Request) -> Response:
        self.sent.append(req)
        item = self.script.pop(0)
        if isinstance(item, TransportError):
            raise item
        return item

    def close(self) -> None:
        pass


STATUS_429 = b'{"kind":"Status","code":429,"reason":"TooManyRequests","message":"slow down"}'
OK = Response(200, (("content-type", "application/json"),), b'{"ok": true}')


def client(script: list[Response | TransportError], monkeypatch: pytest.MonkeyPatch,
           slept: list[float]) -> tuple[RESTClient, ScriptedTransport]:
    monkeypatch.setattr("kubecodegen_runtime.client._sync.rest.sleep", slept.append)
    transport = ScriptedTransport(script)
    rest = RESTClient(config(), transport=transport,  # type: ignore[arg-type]
                      retry=RetryPolicy(base_delay=0.5, jitter=0.0),
                      rate_limiter=RateLimiter(0, 1))
    return rest, transport


def test_retry_after_is_slept_then_the_answer_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    rest, transport = client([Response(429, (("retry-after", "2"),), STATUS_429), OK],
                             monkeypatch, slept)
    assert rest.post("/api/v1/namespaces", b"{}") == {"ok": True}
    assert slept == [2.0] and len(transport.sent) == 2


def test_writes_without_retry_after_fail_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    rest, transport = client([Response(429, (), STATUS_429), OK], monkeypatch, slept)
    with pytest.raises(TooManyRequests):
        rest.post("/api/v1/namespaces", b"{}")
    assert slept == [] and len(transport.sent) == 1


def test_reads_back_off_exponentially_until_attempts_run_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    unavailable = Response(503, (), b"")
    rest, transport = client([unavailable] * 5, monkeypatch, slept)
    with pytest.raises(ServiceUnavailable):
        rest.get("/version")
    assert slept == [0.5, 1.0, 2.0, 4.0] and len(transport.sent) == 5


def test_connection_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    refused = TransportError("ConnectError", method="POST", url="u", sent=False)
    reset = TransportError("ReadError", method="POST", url="u", sent=True)
    rest, transport = client([refused, OK, reset], monkeypatch, slept)
    assert rest.post("/x", b"{}") == {"ok": True}  # never sent: safe to repeat
    with pytest.raises(TransportError, match="ReadError"):
        rest.post("/x", b"{}")  # maybe applied: a write is not repeated
    assert slept == [0.5] and len(transport.sent) == 3


def test_httpx_errors_are_translated_in_one_place() -> None:
    from kubecodegen_runtime.transport import _translate

    request = httpx.Request("GET", "https://user:pw@h:1/api/v1/secrets?x=1")
    err = _translate(httpx.ConnectError("refused"), request)
    assert not err.sent and err.url == "https://h:1/api/v1/secrets"
    assert "pw" not in str(err) and "x=1" not in str(err)
    assert _translate(httpx.ReadTimeout("slow"), request).sent
