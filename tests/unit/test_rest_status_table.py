"""Every HTTP status code an API answer can carry, without a Status body: its typed error
(as apimachinery's ``NewGenericServerResponse`` picks it) or its success value.

The table below is the one the README documents; each row is checked through the pure
response core (``check``/``error_from``) and, for success codes, the decoders of the
typed clients (``ops``).
"""

from __future__ import annotations

import msgspec
import pytest

from kubecodegen_runtime import errors
from kubecodegen_runtime.client import ops
from kubecodegen_runtime.rest.response import Response, check, decode_json, error_from, is_success
from tests.integration.rest_helpers import ConfigMap

#: (code, method, exception, reason) for bodies that are not a Status.
ERROR_TABLE: list[tuple[int, str, type[errors.ApiError], str]] = [
    (100, "GET", errors.UnexpectedStatus, "Unknown"),
    (207, "GET", errors.UnexpectedStatus, "Unknown"),
    (301, "GET", errors.UnexpectedRedirect, "Unknown"),
    (302, "GET", errors.UnexpectedRedirect, "Unknown"),
    (303, "POST", errors.UnexpectedRedirect, "Unknown"),
    (304, "GET", errors.UnexpectedRedirect, "Unknown"),
    (307, "GET", errors.UnexpectedRedirect, "Unknown"),
    (308, "PUT", errors.UnexpectedRedirect, "Unknown"),
    (400, "GET", errors.BadRequest, "BadRequest"),
    (401, "GET", errors.Unauthorized, "Unauthorized"),
    (403, "GET", errors.Forbidden, "Forbidden"),
    (404, "GET", errors.NotFound, "NotFound"),
    (405, "GET", errors.MethodNotAllowed, "MethodNotAllowed"),
    (406, "GET", errors.NotAcceptable, "NotAcceptable"),
    (409, "PUT", errors.Conflict, "Conflict"),
    (409, "POST", errors.AlreadyExists, "AlreadyExists"),
    (410, "GET", errors.ResourceExpired, "Gone"),
    (413, "POST", errors.RequestEntityTooLarge, "RequestEntityTooLarge"),
    (415, "PATCH", errors.UnsupportedMediaType, "UnsupportedMediaType"),
    (418, "GET", errors.UnexpectedStatus, "Unknown"),
    (422, "POST", errors.Invalid, "Invalid"),
    (429, "GET", errors.TooManyRequests, "TooManyRequests"),
    (500, "GET", errors.InternalError, "InternalError"),
    (501, "GET", errors.InternalError, "InternalError"),
    (502, "GET", errors.InternalError, "InternalError"),
    (503, "GET", errors.ServiceUnavailable, "ServiceUnavailable"),
    (504, "GET", errors.Timeout, "Timeout"),
    (505, "GET", errors.InternalError, "InternalError"),
    (599, "GET", errors.InternalError, "InternalError"),
]


@pytest.mark.parametrize(("code", "method", "cls", "reason"), ERROR_TABLE)
def test_bodiless_error_codes_map_like_client_go(
    code: int, method: str, cls: type[errors.ApiError], reason: str
) -> None:
    resp = Response(code, (("location", "https://elsewhere.example/x"),), b"", method, "/api/v1/x")
    assert not is_success(code)
    with pytest.raises(errors.ApiError) as caught:
        check(resp)
    err = caught.value
    assert type(err) is cls and err.status == code and err.reason == reason
    assert err.method == method and err.path == "/api/v1/x"
    assert f"({method} /api/v1/x)" in str(err)
    if cls is errors.UnexpectedRedirect:
        assert isinstance(err, errors.UnexpectedRedirect)
        assert err.location == "https://elsewhere.example/x"
        assert "not followed" in str(err) and "elsewhere.example" in str(err)


def test_a_status_reason_still_wins_over_the_code() -> None:
    body = (b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"ServerTimeout",'
            b'"code":502,"message":"slow"}')
    assert type(error_from(502, (), body)) is errors.ServerTimeout
    conflict = b'{"kind":"Status","status":"Failure","reason":"Conflict","code":409}'
    assert type(error_from(409, (), conflict, method="POST")) is errors.Conflict


@pytest.mark.parametrize("code", [200, 201, 202, 203, 204, 205, 206])
def test_success_codes(code: int) -> None:
    assert is_success(code)
    resp = Response(code, (), b"", "DELETE", "/api/v1/namespaces/a/configmaps/b")
    assert check(resp) is resp


@pytest.mark.parametrize("code", [204, 205])
def test_bodiless_success_values(code: int) -> None:
    """What each decoder makes of an empty success answer: deletes and subresource posts
    report a success Status, the untyped verbs ``None``; a typed read or write, which
    needs an object, raises MalformedResponse (client-go: "0-length response")."""
    resp = Response(code, (("content-type", "application/json"),), b"", "DELETE", "/p")
    status = ops.decode_or_status(resp, ConfigMap)
    assert isinstance(status, errors.Status)
    assert (status.status, status.code, status.kind) == ("Success", code, "Status")
    assert ops.decode_status_body(resp).status == "Success"
    assert decode_json(resp) is None
    with pytest.raises(errors.MalformedResponse, match=rf"DELETE /p: expected a ConfigMap.*empty body \(HTTP {code}\)"):
        ops.decode(resp, ConfigMap)


def test_typed_decode_of_a_redirect_never_returns_the_body() -> None:
    """The old behaviour: a 302 with an HTML body was a 'success' that then failed to
    decode (or, with a JSON body, was returned as the object)."""
    body = msgspec.json.encode({"kind": "ConfigMap", "apiVersion": "v1", "data": {"k": "v"}})
    resp = Response(302, (("location", "/login"),), body, "GET", "/api/v1/namespaces/a/configmaps/b")
    with pytest.raises(errors.UnexpectedRedirect):
        ops.decode(resp, ConfigMap)
