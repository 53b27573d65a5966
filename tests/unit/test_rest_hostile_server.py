"""The real clients (sync and async, over real HTTP) against a hostile local server.

Everything the server sends here is something a proxy, login portal or broken server in
front of an API server can send; the client must answer each with a typed error of its
own (naming the request), within its size and time limits -- never a raw
``msgspec.DecodeError``, never a silent success, never an unbounded wait or buffer.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import ssl
import time
import weakref
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kubecodegen_runtime import deadline, errors
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.config.errors import ConfigError
from kubecodegen_runtime.rest import request as rq
from kubecodegen_runtime.rest.limits import Limits
from kubecodegen_runtime.retry import NO_RETRY
from kubecodegen_runtime.transport import Transport, build_client
from tests.harness.hostile import HostileServer, answer, chunked, trickle
from tests.integration.rest_helpers import AsyncConfigMaps, ConfigMaps, Pods

NS = "ns"
ONE = f"/api/v1/namespaces/{NS}/configmaps/cm"
ALL = f"/api/v1/namespaces/{NS}/configmaps"
LOG = f"/api/v1/namespaces/{NS}/pods/p/log"
JSON = (("Content-Type", "application/json"),)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


def config(server: HostileServer, **overrides: Any) -> ClientConfig:
    return ClientConfig(server=server.url, verify=ssl.create_default_context(), qps=0.0,
                        **overrides)


def client(server: HostileServer, limits: Limits | None = None, **overrides: Any) -> RESTClient:
    return RESTClient(config(server, **overrides), retry=NO_RETRY, limits=limits)


def configmap(**fields: Any) -> bytes:
    return json.dumps({"kind": "ConfigMap", "apiVersion": "v1",
                       "metadata": {"name": "cm", "namespace": NS}, **fields}).encode()


# --- status codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "cls"),
    [
        (answer("302 Found", b"<html>login</html>", (("Location", "https://sso.example/"),)),
         errors.UnexpectedRedirect),
        (answer("307 Temporary Redirect", configmap(), (("Location", "/elsewhere"),)),
         errors.UnexpectedRedirect),
        (answer("502 Bad Gateway", b"<html>bad gateway</html>", (("Content-Type", "text/html"),)),
         errors.InternalError),
        (answer("504 Gateway Timeout"), errors.Timeout),
        (answer("204 No Content", length=False), errors.MalformedResponse),
    ],
)
def test_status_codes_through_the_real_client(server: HostileServer, route: Any,
                                              cls: type[Exception]) -> None:
    server.route("GET", ONE, route)
    with client(server) as rest, pytest.raises(cls) as caught:
        ConfigMaps(rest, NS).get("cm")
    assert f"GET {ONE}" in str(caught.value)
    assert server.seen == [("GET", ONE)]  # no redirect was followed, nothing retried


def test_a_204_delete_is_a_success_status(server: HostileServer) -> None:
    server.route("DELETE", ONE, answer("204 No Content", length=False))
    with client(server) as rest:
        status = ConfigMaps(rest, NS).delete("cm")
    assert isinstance(status, errors.Status) and status.status == "Success"


# --- malformed success bodies ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "fragment"),
    [
        (b"<!DOCTYPE html><title>Sign in</title>", (("Content-Type", "text/html"),),
         "an HTML page"),
        (b"", JSON, "empty body"),
        (b'{"kind": "ConfigMap", "data": ', JSON, "not a valid ConfigMap"),
        (b'["a"]', JSON, "Expected `object`, got `array`"),
        (b'"text"', JSON, "got a body starting"),
        (configmap(data={"k": 7}), JSON, "$.data[...]"),
        (configmap(kind="Pod"), JSON, "sent v1 Pod"),
    ],
)
def test_malformed_answers_are_typed(server: HostileServer, body: bytes,
                                     headers: tuple[tuple[str, str], ...], fragment: str) -> None:
    server.route("GET", ONE, answer("200 OK", body, headers))
    with client(server) as rest, pytest.raises(errors.MalformedResponse) as caught:
        ConfigMaps(rest, NS).get("cm")
    assert str(caught.value).startswith(f"GET {ONE}: ") and fragment in str(caught.value)


def test_malformed_list_and_list_all(server: HostileServer) -> None:
    body = json.dumps({"kind": "ConfigMapList", "apiVersion": "v1", "items": "nope"}).encode()
    server.route("GET", ALL, answer("200 OK", body, JSON))
    with client(server) as rest:
        with pytest.raises(errors.MalformedResponse) as caught:
            ConfigMaps(rest, NS).list()
        assert caught.value.json_path == "$.items"
        with pytest.raises(errors.MalformedResponse, match=r"ConfigMap list page"):
            list(ConfigMaps(rest, NS).list_all())


async def test_malformed_answer_async(server: HostileServer) -> None:
    server.route("GET", ONE, answer("200 OK", configmap(kind="Secret"), JSON))
    async with AsyncRESTClient(config(server), retry=NO_RETRY) as rest:
        with pytest.raises(errors.UnexpectedKind, match=f"GET {ONE}: expected v1 ConfigMap"):
            await AsyncConfigMaps(rest, NS).get("cm")


# --- watch streams ----------------------------------------------------------------------


def event(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode() + b"\n"


@pytest.mark.parametrize(
    ("chunks", "cls", "fragment"),
    [
        ([b"<html>oops</html>\n"], errors.MalformedResponse, "bad watch event"),
        ([event("ADDED", {"kind": "ConfigMap", "data": {"k": 1}})], errors.MalformedResponse,
         "Expected `str`"),
        ([b'{"type": "ADDED", "object": {"kind": "Conf'], errors.MalformedResponse,
         "bad watch event"),
        ([event("ERROR", {"kind": "Status", "code": 200, "message": "odd"})],
         errors.InternalError, "odd"),
        ([b'{"type": "ADDED", "object": {"data": {"k": "' + b"x" * 3000], errors.LineTooLong,
         "grew past 2048 bytes"),
    ],
)
def test_bad_watch_streams(server: HostileServer, chunks: list[bytes], cls: type[Exception],
                           fragment: str) -> None:
    first = event("ADDED", {"kind": "ConfigMap", "metadata": {"name": "ok"}})
    server.route("GET", ALL, chunked("200 OK", [first, *chunks], JSON))
    with client(server, Limits(max_line_bytes=2048)) as rest:
        seen: list[str] = []
        with pytest.raises(cls) as caught, ConfigMaps(rest, NS).watch() as events:
            for ev in events:
                assert ev.object.metadata is not None and ev.object.metadata.name is not None
                seen.append(ev.object.metadata.name)
    assert seen == ["ok"]
    assert isinstance(caught.value, errors.KubernetesError) and fragment in str(caught.value)
    if isinstance(caught.value, errors.ResponseError):
        assert str(caught.value).startswith(f"GET {ALL}: ")


def test_a_watch_stream_cut_mid_chunk_is_a_transport_error(server: HostileServer) -> None:
    server.route("GET", ALL, chunked("200 OK", [b'{"type": "ADD'], JSON, finish=False))
    with client(server) as rest, pytest.raises(errors.KubernetesError), \
            ConfigMaps(rest, NS).watch() as events:
        list(events)


# --- logs -------------------------------------------------------------------------------


def test_log_line_without_newline_is_bounded(server: HostileServer) -> None:
    server.route("GET", LOG, chunked("200 OK", [b"y" * 4096] * 64, (("Content-Type", "text/plain"),)))
    limits = Limits(max_line_bytes=100_000)
    expected = f"GET {LOG}: a log line grew past 100000"
    with client(server, limits) as rest, pytest.raises(errors.LineTooLong, match=expected):
        list(Pods(rest, NS).stream_log("p"))


def test_long_log_lines_within_the_limit_arrive_whole(server: HostileServer) -> None:
    line = b"z" * 300_000
    pieces = [line[i:i + 1000] for i in range(0, len(line), 1000)] + [b"\nend\n"]
    server.route("GET", LOG, chunked("200 OK", pieces, (("Content-Type", "text/plain"),)))
    with client(server) as rest:
        assert list(Pods(rest, NS).stream_log("p")) == [line.decode(), "end"]


# --- size limits and the deadline -----------------------------------------------------------


def test_declared_length_over_the_limit_is_refused_unread(server: HostileServer) -> None:
    body = configmap(data={"k": "v" * 200_000})
    server.route("GET", ONE, answer("200 OK", body, JSON))
    limits = Limits(max_response_bytes=100_000)
    expected = r"larger than the limit of 100000"
    with client(server, limits) as rest, pytest.raises(errors.ResponseTooLarge, match=expected) as e:
        ConfigMaps(rest, NS).get("cm")
    assert e.value.limit == 100_000 and e.value.status == 200


def test_undeclared_length_over_the_limit_stops_reading(server: HostileServer) -> None:
    server.route("GET", ONE, chunked("200 OK", [b"x" * 65536] * 64, JSON))
    limits = Limits(max_response_bytes=200_000)
    with client(server, limits) as rest, pytest.raises(errors.ResponseTooLarge) as caught:
        rest.get(ONE)
    assert str(caught.value).startswith(f"GET {ONE}: ")


def test_error_bodies_are_bounded_too(server: HostileServer) -> None:
    server.route("GET", ONE, chunked("500 Internal Server Error", [b"e" * 65536] * 64))
    limits = Limits(max_response_bytes=100_000)
    with client(server, limits) as rest, pytest.raises(errors.ResponseTooLarge):
        ConfigMaps(rest, NS).get("cm")


RAW_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def test_trickled_body_hits_the_total_deadline(server: HostileServer) -> None:
    """Each byte arrives well within the read timeout; the request must still end when
    its total deadline has passed."""
    server.route("GET", ONE, chunked("200 OK", [b" "] * 100 + [configmap()], JSON, pause=0.1))
    with client(server, Limits(deadline=1.0)) as rest:
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceeded, match="deadline of 1 s"):
            ConfigMaps(rest, NS).get("cm")
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3.0, elapsed


def test_trickled_headers_hit_the_deadline(server: HostileServer) -> None:
    """The blocking client cannot be cancelled: each socket read gets what is left of the
    deadline as its timeout, so a header trickle ends on time too."""
    server.route("GET", ONE, trickle(RAW_OK, 0.1))
    with client(server, Limits(deadline=1.0)) as rest:
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceeded):
            ConfigMaps(rest, NS).get("cm")
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 2.0, elapsed


def test_every_connection_pool_obeys_the_deadline(server: HostileServer) -> None:
    """The deadline hooks into httpx's pools (private attributes): fail loudly if an
    httpx upgrade moves them, for direct and for proxied clients alike."""
    direct = build_client(config(server))
    proxied = build_client(config(server, proxy="http://127.0.0.1:9"))
    try:
        assert deadline.install(direct) and deadline.install(proxied)
    finally:
        direct.close()
        proxied.close()


async def test_trickled_headers_hit_the_deadline_async(server: HostileServer) -> None:
    server.route("GET", ONE, trickle(RAW_OK, 0.1))
    async with AsyncRESTClient(config(server), retry=NO_RETRY,
                               limits=Limits(deadline=1.0)) as rest:
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceeded):
            await AsyncConfigMaps(rest, NS).get("cm")
        elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 2.5, elapsed


def test_deadline_defaults_to_the_config_timeout_and_is_not_retried(
    server: HostileServer,
) -> None:
    """A GET is normally retried after a dropped connection; a spent deadline is the
    caller's whole time budget, so it ends the call after one attempt."""
    server.route("GET", ONE, chunked("200 OK", [b" "] * 100, JSON, pause=0.1))
    rest = RESTClient(config(server, timeout=1.0))  # default retry policy
    with rest, pytest.raises(errors.DeadlineExceeded):
        rest.get(ONE)
    assert server.seen == [("GET", ONE)]


# --- memory: no reference cycle keeps an answer alive -------------------------------------


def test_answers_are_freed_without_the_garbage_collector(server: HostileServer) -> None:
    """httpx's response and its bound stream point at each other; without breaking that
    cycle every page of a ``list_all`` stays in memory until a collection runs."""
    server.route("GET", ONE, answer("200 OK", configmap(data={"k": "v" * 100_000}), JSON))
    seen: list[weakref.ref[httpx.Response]] = []
    cfg = config(server)
    hooked = build_client(cfg)
    hooked.event_hooks["response"] = [lambda response: seen.append(weakref.ref(response))]
    transport = Transport(cfg, client=hooked)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        resp = transport.send(rq.raw("GET", ONE))
        body = resp.body
        assert len(body) > 100_000
        holders = [r for r in gc.get_referrers(body) if r is not resp and not _is_frame(r)]
        assert holders == []  # only our Response value holds the body
        del resp, body
        assert len(seen) == 1 and seen[0]() is None  # freed by reference counting alone
    finally:
        if was_enabled:
            gc.enable()
        hooked.close()


def _is_frame(obj: object) -> bool:
    return type(obj).__name__ == "frame"


# --- SOCKS without the extra ------------------------------------------------------------------


def test_socks_proxy_without_the_extra_is_a_config_error(server: HostileServer) -> None:
    if importlib.util.find_spec("socksio") is not None:
        pytest.skip("httpx[socks] is installed here")
    cfg = config(server, proxy="socks5://user:secret@127.0.0.1:1080")
    with pytest.raises(ConfigError, match=r"httpx\[socks\]") as caught:
        build_client(cfg)
    assert "secret" not in str(caught.value)
    with pytest.raises(ConfigError):
        AsyncRESTClient(cfg)


def test_transport_trace_sees_each_connection(server: HostileServer) -> None:
    server.route("GET", ONE, answer("200 OK", configmap(), JSON))
    events: list[str] = []
    transport = Transport(config(server), trace=lambda name, info: events.append(name))
    try:
        assert transport.send(rq.raw("GET", ONE)).status_code == 200
    finally:
        transport.close()
    assert "connection.connect_tcp.complete" in events
    assert "http11.receive_response_headers.complete" in events
