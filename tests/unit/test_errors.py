"""Status bodies and codes map to one exception class each; messages carry no secrets."""

from __future__ import annotations

import json

import pytest

from kubecodegen_runtime import errors
from kubecodegen_runtime.rest.response import error_from


def status_body(code: int, reason: str, message: str = "msg", **details: object) -> bytes:
    body: dict[str, object] = {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    }
    if details:
        body["details"] = details
    return json.dumps(body).encode()


CASES = [
    (400, "BadRequest", errors.BadRequest),
    (401, "Unauthorized", errors.Unauthorized),
    (403, "Forbidden", errors.Forbidden),
    (404, "NotFound", errors.NotFound),
    (405, "MethodNotAllowed", errors.MethodNotAllowed),
    (406, "NotAcceptable", errors.NotAcceptable),
    (409, "Conflict", errors.Conflict),
    (409, "AlreadyExists", errors.AlreadyExists),
    (410, "Gone", errors.ResourceExpired),
    (410, "Expired", errors.ResourceExpired),
    (413, "RequestEntityTooLarge", errors.RequestEntityTooLarge),
    (415, "UnsupportedMediaType", errors.UnsupportedMediaType),
    (422, "Invalid", errors.Invalid),
    (429, "TooManyRequests", errors.TooManyRequests),
    (500, "InternalError", errors.InternalError),
    (500, "ServerTimeout", errors.ServerTimeout),
    (503, "ServiceUnavailable", errors.ServiceUnavailable),
    (504, "Timeout", errors.Timeout),
]


@pytest.mark.parametrize(("code", "reason", "cls"), CASES)
def test_status_body_maps_by_reason(code: int, reason: str, cls: type[errors.ApiError]) -> None:
    err = error_from(code, (), status_body(code, reason, "it failed"), method="GET", path="/x")
    assert type(err) is cls
    assert (err.status, err.reason, err.message) == (code, reason, "it failed")
    assert err.body is not None and err.body.kind == "Status"
    assert str(err) == f"{code} {reason}: it failed (GET /x)"


def test_already_exists_is_not_a_conflict() -> None:
    err = error_from(409, (), status_body(409, "AlreadyExists"))
    assert isinstance(err, errors.AlreadyExists) and not isinstance(err, errors.Conflict)


def test_unknown_reason_falls_back_to_the_code() -> None:
    err = error_from(409, (), status_body(409, "SomethingNew"))
    assert type(err) is errors.Conflict and err.reason == "SomethingNew"
    err = error_from(418, (), status_body(418, "Teapot"))
    assert type(err) is errors.UnexpectedStatus and err.status == 418


def test_invalid_carries_field_causes() -> None:
    body = status_body(
        422, "Invalid", 'ConfigMap "Bad" is invalid', name="Bad", kind="ConfigMap",
        causes=[{"reason": "FieldValueInvalid", "message": "Invalid value", "field": "metadata.name"}],
    )
    err = error_from(422, (), body)
    assert isinstance(err, errors.Invalid)
    assert [(c.reason, c.field) for c in err.causes] == [("FieldValueInvalid", "metadata.name")]
    assert err.details is not None and err.details.name == "Bad"


def test_retry_after_from_header_or_details() -> None:
    err = error_from(429, (("retry-after", "3"),), status_body(429, "TooManyRequests"))
    assert err.retry_after == 3.0
    err = error_from(500, (), status_body(500, "ServerTimeout", retryAfterSeconds=2))
    assert err.retry_after == 2.0 and isinstance(err, errors.ServerTimeout)


@pytest.mark.parametrize(
    ("code", "headers", "body", "cls", "fragment"),
    [
        (502, (("content-type", "text/html"),), b"<html><body>Bad gateway</body></html>",
         errors.InternalError, "HTML page"),
        (503, (), b"", errors.ServiceUnavailable, "empty body"),
        (404, (("content-type", "text/plain"),), b"404 page not found\n", errors.NotFound,
         "404 page not found"),
        (500, (("content-type", "application/json"),), b'{"error": "nope"}', errors.InternalError,
         '{"error": "nope"}'),
        (400, (), b"{not json", errors.BadRequest, "{not json"),
    ],
)
def test_non_status_bodies(code: int, headers: tuple[tuple[str, str], ...], body: bytes,
                           cls: type[errors.ApiError], fragment: str) -> None:
    err = error_from(code, headers, body)
    assert type(err) is cls and err.status == code and err.body is None
    assert fragment in err.message


def test_long_bodies_are_cut() -> None:
    err = error_from(500, (), b"x" * 10_000)
    assert len(err.message) < 400


def test_watch_error_status_helper_builds_expired() -> None:
    status = errors.Status(kind="Status", code=410, reason="Expired", message="too old")
    err = errors.api_error_from_status(status)
    assert isinstance(err, errors.ResourceExpired) and errors.Gone is errors.ResourceExpired


def test_transport_error_names_the_request_not_its_credentials() -> None:
    err = errors.TransportError("ConnectError: refused", method="GET", url="https://h:1/api",
                                sent=False)
    assert str(err) == "GET https://h:1/api: ConnectError: refused" and not err.sent


def test_server_text_is_terminal_safe_in_messages() -> None:
    """A hostile server's Status message or body must not drive the terminal that prints
    the traceback; the attributes keep what it sent."""
    evil = "gone\x1b]0;owned\x07\x1b[2J"
    err = error_from(404, (), status_body(404, "NotFound", evil))
    assert "\x1b" not in str(err) and "U+001B" in str(err) and err.message == evil
    plain = error_from(502, (), evil.encode())
    assert "\x1b" not in str(plain) and "\x07" not in str(plain)
    malformed = errors.MalformedResponse(f"got {evil}", method="GET", path="/x")
    assert "\x1b" not in str(malformed) and malformed.detail.endswith(evil[-4:])
    transport = errors.TransportError(evil, method="GET", url="https://h/x")
    assert "\x1b" not in str(transport)
