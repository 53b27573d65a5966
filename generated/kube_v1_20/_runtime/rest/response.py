"""Pure response handling: status + headers + body -> typed object or typed error.

Also the API ``Warning`` header: the server attaches ``299 - "text"`` warnings (RFC 7234
warn-code format) for deprecated APIs, unknown fields and the like.
:class:`WarningHandler` parses them and surfaces each distinct text once per client
through :func:`warnings.warn` (category :class:`~..errors.KubernetesWarning`) and the
``kubecodegen_runtime`` logger.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from ..errors import (
    ApiError,
    KubernetesWarning,
    MalformedResponse,
    Status,
    UnexpectedKind,
    UnexpectedRedirect,
    api_error_from_status,
    default_reason,
    error_class,
)

T = TypeVar("T")

logger = logging.getLogger("kubecodegen_runtime")

_status_decoder = msgspec.json.Decoder(Status)


class _KindPeek(msgspec.Struct):
    kind: str | None = None


_kind_decoder = msgspec.json.Decoder(_KindPeek)

#: How much of a non-Status error body is quoted in the message.
_BODY_EXCERPT = 300


#: The success codes, as client-go's ``transformResponse`` counts them: anything else
#: (a 1xx, a redirect that was not followed, 207-299) is an error.
SUCCESS_CODES = range(200, 207)


def is_success(status_code: int) -> bool:
    """Whether an HTTP code is a success answer of the API."""
    return status_code in SUCCESS_CODES


@dataclass(frozen=True, slots=True)
class Response:
    """A complete HTTP answer. Header names are lower-case; a name may repeat.

    ``method`` and ``path`` name the request it answers (the transport fills them in),
    so that every error about the answer can say which request it was.
    """

    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    method: str = ""
    path: str = ""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]


# --- errors -------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return ""
    text = " ".join(text.split())
    if len(text) > _BODY_EXCERPT:
        text = text[:_BODY_EXCERPT] + "..."
    return text


def error_from(
    status_code: int,
    headers: tuple[tuple[str, str], ...],
    body: bytes,
    *,
    method: str | None = None,
    path: str | None = None,
) -> ApiError:
    """The typed error for a failed response, Status body or not."""
    resp = Response(status_code, headers, body)
    retry_after = parse_retry_after(resp.header("retry-after"))
    status: Status | None = None
    if body.lstrip()[:1] == b"{":
        try:
            status = _status_decoder.decode(body)
        except msgspec.DecodeError:
            status = None
        if status is not None and status.kind != "Status":
            status = None
    if status is not None:
        return api_error_from_status(
            status, code=status_code, retry_after=retry_after, method=method, path=path
        )
    reason = default_reason(status_code, method)
    text = _excerpt(body)
    content_type = resp.header("content-type") or ""
    location = resp.header("location")
    if 300 <= status_code < 400:
        target = f" to {_excerpt(location.encode())}" if location else ""
        message = f"the server answered {status_code}, a redirect{target}, which is not followed"
    elif "html" in content_type or text.lower().startswith(("<!doctype", "<html")):
        message = f"the server answered {status_code} with an HTML page (a proxy in between?)"
    elif text:
        message = f"the server answered {status_code}: {text}"
    else:
        message = f"the server answered {status_code} with an empty body"
    cls = error_class(status_code, None, method)
    error = cls(status_code, reason, message, retry_after=retry_after, method=method, path=path)
    if isinstance(error, UnexpectedRedirect):
        error.location = location
    return error


def check(resp: Response, *, method: str | None = None, path: str | None = None) -> Response:
    """Return ``resp`` if it is a success (200-206), else raise its typed :class:`ApiError`."""
    if not is_success(resp.status_code):
        raise error_from(resp.status_code, resp.headers, resp.body,
                         method=method or resp.method or None, path=path or resp.path or None)
    return resp


def _where(resp: Response) -> dict[str, Any]:
    return {"method": resp.method or None, "path": resp.path or None, "status": resp.status_code}


def _body_description(resp: Response) -> str:
    """What a body that did not decode looks like, in a few words (never its full text)."""
    body = resp.body.lstrip()
    content_type = resp.header("content-type") or ""
    if not body:
        return f"an empty body (HTTP {resp.status_code})"
    if "html" in content_type or body[:14].lower().startswith((b"<!doctype", b"<html")):
        return "an HTML page (a proxy or login portal in between?)"
    return f"a body starting {_excerpt(body[:80])!r}"


def decode_detail(exc: msgspec.DecodeError) -> str:
    """msgspec's own words for a decode failure (``Expected `str`, got `int` - at `$.x```),
    without the type name the codec's wrapper prefixes (an event union's is a page long)."""
    inner = exc.__context__
    return str(inner if isinstance(inner, msgspec.DecodeError) else exc)


def malformed(resp: Response, exc: msgspec.DecodeError, expected: str) -> ApiError | MalformedResponse:
    """The typed error for a success body that failed to decode as ``expected``.

    A failure ``Status`` in a success answer is the server's error and is raised as
    such; anything else becomes :class:`MalformedResponse` with the JSON path the
    decoder reported (``exc.path`` of the codec's errors).
    """
    status = failure_status(resp.body)
    if status is not None:
        return api_error_from_status(status, method=resp.method or None, path=resp.path or None)
    json_path = getattr(exc, "path", None)
    if resp.body.lstrip()[:1] not in (b"{", b"["):
        message = f"expected a {expected} as JSON, got {_body_description(resp)}"
    else:
        message = f"the body is not a valid {expected}: {decode_detail(exc)}"
    return MalformedResponse(message, json_path=json_path, expected=expected, **_where(resp))


def require_body(resp: Response, expected: str) -> None:
    """Refuse an empty success body where an object is expected (a 204 to a get)."""
    if not resp.body.strip():
        raise MalformedResponse(f"expected a {expected}, got {_body_description(resp)}",
                                expected=expected, **_where(resp))


def type_meta_differs(api_version: str | None, kind: str | None,
                      want_api_version: str | None, want_kind: str | None) -> bool:
    """Whether stated type meta contradicts the expected one (unstated never does)."""
    kind_differs = bool(kind and want_kind and kind != want_kind)
    version_differs = bool(api_version and want_api_version and api_version != want_api_version)
    return kind_differs or version_differs


def check_kind(resp: Response, api_version: str | None, kind: str | None,
               want_api_version: str | None, want_kind: str | None, expected: str) -> None:
    """Refuse a decoded body whose ``apiVersion``/``kind`` contradict the requested type.

    Only what the body states is checked (custom resources and some subresources omit
    type meta). A failure ``Status`` decoded into an object type raises its own error.
    """
    if not type_meta_differs(api_version, kind, want_api_version, want_kind):
        return
    if kind == "Status":
        status = failure_status(resp.body)
        if status is not None:
            raise api_error_from_status(status, method=resp.method or None,
                                        path=resp.path or None)
    got = f"{api_version or '?'} {kind or '?'}"
    want = f"{want_api_version or '?'} {want_kind or '?'}"
    raise UnexpectedKind(f"expected {want} ({expected}), the server sent {got}",
                         kind=kind, api_version=api_version, expected=expected, **_where(resp))


def failure_status(body: bytes) -> Status | None:
    """The ``Status`` in ``body`` if it is a ``status: Failure`` Status, else None."""
    if body.lstrip()[:1] != b"{":
        return None
    try:
        status = _status_decoder.decode(body)
    except msgspec.DecodeError:
        return None
    return status if status.kind == "Status" and status.status == "Failure" else None


def decode(resp: Response, decoder: Callable[[bytes], T], expected: str = "object") -> T:
    """Decode a successful body with a typed decoder; every failure is a typed error."""
    check(resp)
    require_body(resp, expected)
    try:
        return decoder(resp.body)
    except msgspec.DecodeError as exc:
        raise malformed(resp, exc, expected) from None


def is_status(body: bytes) -> bool:
    """Whether a success body is a ``Status`` rather than an object (some deletes)."""
    try:
        return _kind_decoder.decode(body).kind == "Status"
    except msgspec.DecodeError:
        return False


def decode_status(body: bytes) -> Status:
    return _status_decoder.decode(body)


def success_status(resp: Response) -> Status:
    """The Status a bodiless success (a 204 to a delete) stands for."""
    return Status(kind="Status", api_version="v1", status="Success", code=resp.status_code)


def decode_status_response(resp: Response) -> Status:
    """The Status a success answer carries (evictions, bindings); an empty body is a
    plain success, anything else that is not a Status is a typed error."""
    check(resp)
    if not resp.body.strip():
        return success_status(resp)
    try:
        status = _status_decoder.decode(resp.body)
    except msgspec.DecodeError as exc:
        raise malformed(resp, exc, "Status") from None
    check_kind(resp, status.api_version, status.kind, None, "Status", "Status")
    return status


def decode_json(resp: Response) -> Any:
    """Untyped decoding for the RESTClient's path verbs: JSON if it is JSON, else bytes.

    An empty body (a 204) is ``None``; a JSON content type whose body is not JSON is a
    :class:`MalformedResponse`.
    """
    check(resp)
    content_type = resp.header("content-type") or ""
    if "json" in content_type or (not content_type and resp.body[:1] in (b"{", b"[")):
        if not resp.body.strip():
            return None
        try:
            return msgspec.json.decode(resp.body)
        except msgspec.DecodeError as exc:
            raise malformed(resp, exc, "JSON value") from None
    return resp.body


# --- warnings -----------------------------------------------------------------------


def _parse_quoted(text: str, start: int) -> tuple[str, int] | None:
    """Parse an HTTP quoted-string starting at ``text[start] == '"'``."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    return None


def parse_warning_header(value: str) -> list[tuple[int, str, str]]:
    """Parse one ``Warning`` header value into ``(code, agent, text)`` triples.

    A value may hold several comma-separated warnings; each is ``code SP agent SP
    quoted-text [SP quoted-date]``. Malformed parts are skipped, not fatal: warnings
    must never break a request.
    """
    result: list[tuple[int, str, str]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " ,\t":
            i += 1
        if i >= n:
            break
        j = value.find(" ", i)
        if j < 0:
            break
        code_text = value[i:j]
        k = value.find(" ", j + 1)
        if k < 0:
            break
        agent = value[j + 1:k]
        if k + 1 >= n or value[k + 1] != '"' or not code_text.isdigit() or len(code_text) != 3:
            nxt = value.find(",", k)
            i = n if nxt < 0 else nxt + 1
            continue
        parsed = _parse_quoted(value, k + 1)
        if parsed is None:
            break
        text, i = parsed
        # an optional quoted warn-date follows
        while i < n and value[i] == " ":
            i += 1
        if i < n and value[i] == '"':
            date = _parse_quoted(value, i)
            i = n if date is None else date[1]
        result.append((int(code_text), agent, text))
    return result


def warning_texts(resp_headers: tuple[tuple[str, str], ...]) -> list[str]:
    """The texts of the ``299`` (miscellaneous persistent) warnings in a response."""
    texts: list[str] = []
    for key, value in resp_headers:
        if key != "warning":
            continue
        texts.extend(text for code, _agent, text in parse_warning_header(value) if code == 299)
    return texts


class WarningHandler:
    """Surfaces API warnings; by default each distinct text once per handler (client).

    ``deduplicate=False`` reports every occurrence; ``emit=False`` only logs.
    ``seen`` is bounded so a long-running client does not grow without end.
    """

    def __init__(self, *, deduplicate: bool = True, emit: bool = True, max_seen: int = 4096) -> None:
        self.deduplicate = deduplicate
        self.emit = emit
        self._max_seen = max_seen
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def handle(self, headers: tuple[tuple[str, str], ...]) -> list[str]:
        """Report the warnings in ``headers``; return the texts that were reported."""
        reported: list[str] = []
        for text in warning_texts(headers):
            if self.deduplicate:
                with self._lock:
                    if text in self._seen:
                        continue
                    if len(self._seen) >= self._max_seen:
                        self._seen.clear()
                    self._seen.add(text)
            reported.append(text)
            logger.warning("API server warning: %s", text)
            if self.emit:
                warnings.warn(text, KubernetesWarning, stacklevel=4)
        return reported
