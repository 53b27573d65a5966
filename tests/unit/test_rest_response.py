"""Response decoding, Retry-After parsing and API Warning headers."""

from __future__ import annotations

import logging
import warnings

import msgspec
import pytest

from kubecodegen_runtime.errors import KubernetesWarning, NotFound
from kubecodegen_runtime.rest.response import (
    Response,
    WarningHandler,
    decode,
    decode_json,
    is_status,
    parse_retry_after,
    parse_warning_header,
    warning_texts,
)


class Thing(msgspec.Struct):
    name: str


def test_decode_success_and_error() -> None:
    ok = Response(200, (("content-type", "application/json"),), b'{"name": "x"}')
    assert decode(ok, msgspec.json.Decoder(Thing).decode) == Thing("x")
    missing = Response(404, (), b'{"kind":"Status","code":404,"reason":"NotFound","message":"no"}')
    with pytest.raises(NotFound, match="no"):
        decode(missing, msgspec.json.Decoder(Thing).decode)


def test_decode_json_returns_bytes_for_other_content() -> None:
    assert decode_json(Response(200, (("content-type", "application/json"),), b"[1]")) == [1]
    assert decode_json(Response(200, (("content-type", "text/plain"),), b"ok")) == b"ok"


def test_is_status() -> None:
    assert is_status(b'{"kind":"Status","status":"Success"}')
    assert not is_status(b'{"kind":"ConfigMap"}')
    assert not is_status(b"not json")


def test_header_lookup_is_case_insensitive_and_multi_valued() -> None:
    resp = Response(200, (("warning", "a"), ("x", "1"), ("warning", "b")), b"")
    assert resp.header("Warning") == "a" and resp.header_values("WARNING") == ["a", "b"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5", 5.0), (" 12 ", 12.0), ("soon", None), (None, None), ("-1", None)],
)
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_parse_warning_header_forms() -> None:
    assert parse_warning_header('299 - "extensions/v1beta1 Ingress is deprecated"') == [
        (299, "-", "extensions/v1beta1 Ingress is deprecated")
    ]
    two = '299 - "first, with comma", 299 - "second \\"quoted\\"" "Sat, 01 Jan 2000 00:00:00 GMT"'
    assert [t for _, _, t in parse_warning_header(two)] == ["first, with comma", 'second "quoted"']
    assert parse_warning_header("garbage") == []
    assert parse_warning_header('2990 - "x", 199 agent "misc"') == [(199, "agent", "misc")]


def test_only_299_warnings_are_surfaced() -> None:
    headers = (("warning", '199 - "ignored"'), ("warning", '299 - "shown"'))
    assert warning_texts(headers) == ["shown"]


def test_warning_handler_deduplicates_per_handler(caplog: pytest.LogCaptureFixture) -> None:
    headers = (("warning", '299 - "deprecated thing"'),)
    handler = WarningHandler()
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        assert handler.handle(headers) == ["deprecated thing"]
        assert handler.handle(headers) == []
        assert WarningHandler().handle(headers) == ["deprecated thing"]
    assert [w.category for w in caught] == [KubernetesWarning, KubernetesWarning]
    assert str(caught[0].message) == "deprecated thing"
    assert caplog.text.count("deprecated thing") == 2


def test_warning_handler_options() -> None:
    headers = (("warning", '299 - "again"'),)
    handler = WarningHandler(deduplicate=False, emit=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert handler.handle(headers) == ["again"]
        assert handler.handle(headers) == ["again"]
    assert caught == []
