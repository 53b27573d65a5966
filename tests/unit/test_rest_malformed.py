"""Malformed success answers become typed errors of ours, naming request and JSON path.

Pure: the bodies go through the same decoders the typed clients use (``ops.decode``,
``ops.decode_or_status``, the watch decoder); the hostile-server tests in
``test_rest_hostile_server.py`` send the same bodies over real HTTP.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from kubecodegen_runtime import discovery, errors
from kubecodegen_runtime.client import ops
from kubecodegen_runtime.errors import KubernetesError, MalformedResponse, UnexpectedKind
from kubecodegen_runtime.rest.response import Response
from kubecodegen_runtime.watch import WatchDecodeError
from tests.integration.rest_helpers import ConfigMap, ConfigMapList

PATH = "/api/v1/namespaces/ns/configmaps/cm"
JSON = (("content-type", "application/json"),)


def answer(body: bytes, headers: tuple[tuple[str, str], ...] = JSON) -> Response:
    return Response(200, headers, body, "GET", PATH)


@pytest.mark.parametrize(
    ("body", "headers", "fragment", "json_path"),
    [
        (b"{not json", JSON, "not a valid ConfigMap", None),
        (b"", JSON, "empty body (HTTP 200)", None),
        (b"   \n", JSON, "empty body (HTTP 200)", None),
        (b"<!doctype html><html><body>Sign in</body></html>", (("content-type", "text/html"),),
         "an HTML page", None),
        (b"[1, 2]", JSON, "Expected `object`, got `array`", None),
        (b'"a string"', JSON, "got a body starting", None),
        (b"42", JSON, "got a body starting '42'", None),
        (b'{"kind": "ConfigMap", "data": {"k": 1}}', JSON, "Expected `str`, got `int`",
         "$.data[...]"),
        (b'{"kind": "ConfigMap", "metadata": {"name": ["x"]}}', JSON, "Expected `str | null`",
         "$.metadata.name"),
        (b'{"kind": "ConfigMap", "data": {"k": "v"}', JSON, "not a valid ConfigMap", None),
    ],
)
def test_malformed_objects(body: bytes, headers: tuple[tuple[str, str], ...], fragment: str,
                           json_path: str | None) -> None:
    with pytest.raises(MalformedResponse) as caught:
        ops.decode(answer(body, headers), ConfigMap)
    err = caught.value
    assert isinstance(err, KubernetesError) and isinstance(err, ValueError)
    assert str(err).startswith(f"GET {PATH}: ")
    assert fragment in str(err)
    assert err.json_path == json_path and err.status == 200 and err.expected == "ConfigMap"
    assert not isinstance(err, msgspec.DecodeError)


@pytest.mark.parametrize(
    ("body", "json_path"),
    [
        (b'{"kind": "ConfigMapList", "items": {"a": 1}}', "$.items"),
        (b'{"kind": "ConfigMapList", "items": [{"data": []}]}', "$.items[0].data"),
        (b'{"kind": "ConfigMapList", "items": [1]}', "$.items[0]"),
        (b'{"kind": "ConfigMapList", "items": [], "metadata": {"continue": 5}}',
         "$.metadata.continue"),
    ],
)
def test_malformed_lists_and_pages(body: bytes, json_path: str) -> None:
    for tp in (ConfigMapList, ops.page_type(ConfigMap)):
        with pytest.raises(MalformedResponse) as caught:
            ops.decode(answer(body), tp)
        assert caught.value.json_path == json_path, tp


@pytest.mark.parametrize(
    ("body", "got"),
    [
        (b'{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "cm"}}', "v1 Pod"),
        (b'{"kind": "ConfigMap", "apiVersion": "apps/v1"}', "apps/v1 ConfigMap"),
        (b'{"kind": "Status", "apiVersion": "v1", "status": "Success"}', "v1 Status"),
    ],
)
def test_another_kind_is_refused(body: bytes, got: str) -> None:
    with pytest.raises(UnexpectedKind, match=f"expected v1 ConfigMap .*sent {got}") as caught:
        ops.decode(answer(body), ConfigMap)
    assert caught.value.kind == got.split()[1]


def test_a_page_of_another_kind_is_refused() -> None:
    page = b'{"kind": "PodList", "apiVersion": "v1", "items": []}'
    with pytest.raises(UnexpectedKind, match="expected v1 ConfigMapList"):
        ops.decode(answer(page), ops.page_type(ConfigMap))


def test_type_meta_is_only_checked_when_present() -> None:
    """Custom resources and some subresources omit apiVersion/kind: nothing to check."""
    assert ops.decode(answer(b'{"data": {"k": "v"}}'), ConfigMap).data == {"k": "v"}
    good = b'{"kind": "ConfigMap", "apiVersion": "v1", "data": {"k": "v"}}'
    assert ops.decode(answer(good), ConfigMap).data == {"k": "v"}


def test_a_failure_status_in_a_success_answer_is_its_typed_error() -> None:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
              "code": 404, "message": "configmaps \"cm\" not found"}
    with pytest.raises(errors.NotFound, match="not found"):
        ops.decode(answer(json.dumps(status).encode()), ConfigMap)
    with pytest.raises(errors.NotFound):
        ops.decode(answer(json.dumps(status).encode()), ConfigMapList)


def test_decode_or_status_refuses_garbage_too() -> None:
    with pytest.raises(MalformedResponse, match="expected a ConfigMap"):
        ops.decode_or_status(answer(b"<html>"), ConfigMap)
    with pytest.raises(MalformedResponse, match="not a valid Status"):
        ops.decode_status_body(answer(b'{"kind": "Status", "code": "x"}'))
    with pytest.raises(UnexpectedKind):
        ops.decode_status_body(answer(b'{"kind": "Pod"}'))


@pytest.mark.parametrize(
    ("stream", "cls", "fragment"),
    [
        (b"garbage\n", WatchDecodeError, "bad watch event"),
        (b'{"type": "ADDED", "object": {"kind": "ConfigMap", "data": {"k": 1}}}\n',
         WatchDecodeError, "$.object.data[...]"),
        (b'{"type": "EXPLODED", "object": {}}\n', WatchDecodeError, "Invalid value 'EXPLODED'"),
        (b'[1]\n', WatchDecodeError, "bad watch event"),
        (b'{"type": "ADDED", "object": {"kind": "ConfigMap"', WatchDecodeError, "truncated"),
        (b'{"type": "ERROR", "object": {"kind": "Status", "code": 200}}\n',
         errors.InternalError, "500"),
        (b'{"type": "ERROR", "object": {"kind": "Status", "message": "odd"}}\n',
         errors.InternalError, "odd"),
        (b'{"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}}\n',
         errors.ResourceExpired, "410"),
        (b'{"type": "ERROR", "object": "not a status"}\n', WatchDecodeError, "$.object"),
    ],
)
def test_bad_watch_streams_are_typed(stream: bytes, cls: type[Exception], fragment: str) -> None:
    decoder = ops.watch_decoder(ConfigMap)
    with pytest.raises(cls) as caught:
        decoder.feed(stream)
        decoder.close()
    assert isinstance(caught.value, KubernetesError)
    message = str(caught.value)
    assert "typing.Union" not in message  # msgspec's words, not a page of type repr
    assert fragment in message or fragment == getattr(caught.value, "json_path", None), message


@pytest.mark.parametrize(
    ("parse", "path"),
    [
        (lambda body: discovery.parse_version(body), "/version"),
        (lambda body: discovery.parse_groups(body, None), "/api"),
        (lambda body: discovery.parse_groups(None, body), "/apis"),
        (lambda body: discovery.parse_resources("apps/v1", body), "/apis/apps/v1"),
    ],
)
def test_malformed_discovery_documents_are_typed(parse: Any, path: str) -> None:
    """Discovery answers (or their disk cache) that are not the document expected."""
    for body in (b"<html>", b'{"versions": 3, "groups": 3, "resources": 3, "major": 1}'):
        with pytest.raises(MalformedResponse) as caught:
            parse(body)
        assert str(caught.value).startswith(f"GET {path}: ")


def test_a_watch_of_another_kind_is_refused() -> None:
    decoder = ops.watch_decoder(ConfigMap)
    ok = b'{"type": "ADDED", "object": {"kind": "ConfigMap", "apiVersion": "v1"}}\n'
    assert [event.type for event in decoder.feed(ok)] == ["ADDED"]
    bare = b'{"type": "MODIFIED", "object": {"data": {"k": "v"}}}\n'  # states no kind
    assert [event.type for event in decoder.feed(bare)] == ["MODIFIED"]
    with pytest.raises(UnexpectedKind, match=r"expected v1 ConfigMap objects.*sent v1 Pod"):
        decoder.feed(b'{"type": "ADDED", "object": {"kind": "Pod", "apiVersion": "v1"}}\n')
