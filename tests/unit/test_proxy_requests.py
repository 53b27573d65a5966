"""The proxy subresource's request building (escaping, validation) and answer reading."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.client.proxying import ProxyResponse, outcome
from kubecodegen_runtime.errors import ApiError, Forbidden, NotFound, ServiceUnavailable
from kubecodegen_runtime.meta import ResourceInfo
from kubecodegen_runtime.rest import request as rq
from kubecodegen_runtime.rest.response import Response

PODS = ResourceInfo(group="", version="v1", resource="pods", kind="Pod", namespaced=True)
SERVICES = ResourceInfo(group="", version="v1", resource="services", kind="Service",
                        namespaced=True)
NODES = ResourceInfo(group="", version="v1", resource="nodes", kind="Node", namespaced=False)


def test_pod_proxy_path_with_port_and_scheme() -> None:
    req = rq.proxy(PODS, "web", "healthz", namespace="ns", port=8080)
    assert req.method == "GET"
    assert req.path == "/api/v1/namespaces/ns/pods/web:8080/proxy/healthz"
    req = rq.proxy(PODS, "web", "/a/b/", namespace="ns", port="http-alt", scheme="https")
    assert req.path == "/api/v1/namespaces/ns/pods/https:web:http-alt/proxy/a/b/"
    req = rq.proxy(SERVICES, "svc", namespace="ns", scheme="https")
    assert req.path == "/api/v1/namespaces/ns/services/https:svc:/proxy/"
    req = rq.proxy(NODES, "node-1", "stats/summary", port=10250)
    assert req.path == "/api/v1/nodes/node-1:10250/proxy/stats/summary"


def test_method_params_body_and_headers_go_through() -> None:
    req = rq.proxy(PODS, "web", "submit", namespace="ns", method="post",
                   params=[("q", "a b"), ("q", "c")], body=b"\x00\x01",
                   headers=[("X-Trace", "1"), ("Accept", "text/plain")])
    assert req.method == "POST"
    assert req.params == (("q", "a b"), ("q", "c"))
    assert req.body == b"\x00\x01"
    assert req.content_type == "application/octet-stream"
    assert req.accept == "text/plain"
    assert req.headers == (("X-Trace", "1"),)
    req = rq.proxy(PODS, "web", namespace="ns", method="PUT", body=b"{}",
                   headers=[("content-type", "application/json")])
    assert req.content_type == "application/json"
    assert req.headers == ()


@pytest.mark.parametrize("header", ["Authorization", "host", "Content-Length", "Impersonate-User"])
def test_headers_the_transport_owns_are_refused(header: str) -> None:
    with pytest.raises(ValueError, match="set by the client"):
        rq.proxy(PODS, "web", namespace="ns", headers=[(header, "x")])


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        rq.proxy(PODS, "web", namespace="ns", headers=[("X-A", "1\r\nAuthorization: b")])


@pytest.mark.parametrize("path", ["..", "../secrets", "a/../../..", "a/./b", "a//b", "/..", "./"])
def test_dot_and_empty_segments_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        rq.proxy(PODS, "web", path, namespace="ns")


def test_query_fragment_and_escapes_in_the_path_are_data() -> None:
    req = rq.proxy(PODS, "web", "a?b=c#d/%2e%2e/x y", namespace="ns")
    assert req.path == "/api/v1/namespaces/ns/pods/web/proxy/a%3Fb%3Dc%23d/%252e%252e/x%20y"
    assert req.params == ()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"port": 0}, "1-65535"), ({"port": 65536}, "1-65535"), ({"port": "70000"}, "1-65535"),
    ({"port": "Bad_Name"}, "port name"), ({"port": "²"}, "port name"),
    ({"port": True}, "port must be"),
    ({"scheme": "ftp"}, "http"), ({"method": "CONNECT"}, "method"),
])
def test_bad_options_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        rq.proxy(PODS, "web", namespace="ns", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["a:b", "..", "a/b", ""])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        rq.proxy(PODS, name, namespace="ns")


def test_scope_is_checked() -> None:
    with pytest.raises(ValueError, match="namespace is required"):
        rq.proxy(PODS, "web")
    with pytest.raises(ValueError, match="cluster-scoped"):
        rq.proxy(NODES, "n", namespace="ns")


_segment = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12) \
    .filter(lambda s: "/" not in s and s not in (".", ".."))


@given(st.lists(_segment, min_size=1, max_size=5), st.booleans())
def test_escaped_path_stays_under_the_prefix_and_round_trips(
        segments: list[str], trailing: bool) -> None:
    """Whatever text the caller gives, the URL httpx sends (after its own normalisation)
    is under ``.../proxy/`` and decodes back to exactly the segments given."""
    path = "/".join(segments) + ("/" if trailing else "")
    req = rq.proxy(PODS, "web", path, namespace="ns", port=80)
    prefix = "/api/v1/namespaces/ns/pods/web:80/proxy/"
    sent = httpx.URL("https://server:6443" + req.path)
    assert sent.raw_path.decode().startswith(prefix)
    assert sent.query == b""
    tail = sent.raw_path.decode()[len(prefix):]
    if trailing:
        assert tail.endswith("/")
        tail = tail[:-1]
    assert [unquote(part) for part in tail.split("/")] == segments


# --- answers ---------------------------------------------------------------------------


def _status(code: int, reason: str, message: str) -> bytes:
    return msgspec.json.encode({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": message, "reason": reason,
                                "code": code})


def test_the_targets_errors_are_its_answer() -> None:
    resp = Response(404, (("content-type", "text/plain; charset=utf-8"),), b"no page\n",
                    "GET", "/api/v1/namespaces/ns/pods/web/proxy/x")
    got = outcome(resp)
    assert got == ProxyResponse(404, resp.headers, b"no page\n")
    assert not got.ok
    assert got.text == "no page\n"
    assert got.header("Content-Type") == "text/plain; charset=utf-8"


@pytest.mark.parametrize(("code", "reason", "cls"), [
    (403, "Forbidden", Forbidden), (404, "NotFound", NotFound),
    (503, "ServiceUnavailable", ServiceUnavailable),
])
def test_the_apiservers_refusals_are_typed_errors(code: int, reason: str,
                                                  cls: type[ApiError]) -> None:
    resp = Response(code, (("content-type", "application/json"),),
                    _status(code, reason, "address not allowed"), "GET", "/p")
    with pytest.raises(cls, match="address not allowed"):
        outcome(resp)


def test_a_success_is_returned_whatever_its_body() -> None:
    body = msgspec.json.encode({"kind": "Status", "status": "Success"})
    got = outcome(Response(200, (("content-type", "application/json"),), body))
    assert got.ok
    assert got.json() == {"kind": "Status", "status": "Success"}
    assert "bytes" in repr(got) and "Success" not in repr(got)


def test_text_honours_the_charset() -> None:
    got = ProxyResponse(200, (("content-type", "text/plain; charset=latin-1"),), "é".encode("latin-1"))
    assert got.text == "é"
    assert ProxyResponse(200, (("content-type", "text/plain; charset=nope"),), b"ok").text == "ok"
