"""Typed errors for everything that can go wrong talking to an API server.

Two families, kept apart because callers react to them differently:

* :class:`ApiError` -- the server answered, and said no. Built from the ``Status`` body
  the API server sends with every failure (or, when something in between answered
  with HTML or nothing, from the status code alone). One subclass per case of the
  status-code table; the class is chosen by the Status ``reason`` first and the HTTP
  code second, through the single table :data:`_BY_REASON` / :data:`_BY_CODE`.
* :class:`TransportError` -- no usable answer arrived: connection refused, TLS failure,
  timeout, the peer hung up. ``transport.py`` is the only place that creates it.

Nothing here ever holds request headers or credentials: an error carries what the
server said, the method and the URL *path*, never the request itself.
"""

from __future__ import annotations

# The API's meta/v1 Status (the body of every failure and of many deletes) and its parts
# are the runtime's one meta/v1 classes, which every generated package re-exports: an
# ApiError's ``body``, a delete's result and ``scheme.decode`` of a Status are one class.
# Re-exported here, where error-handling code looks for them.
from .apis.meta_v1 import Status as Status
from .apis.meta_v1 import StatusCause as StatusCause
from .apis.meta_v1 import StatusDetails as StatusDetails
from .config.text import terminal_safe


class KubernetesWarning(UserWarning):
    """Category of the warnings the API server sends in ``Warning`` headers.

    A dedicated category lets users silence or escalate them with the ``warnings``
    filters (``warnings.simplefilter("error", KubernetesWarning)``) without touching
    Python's own warnings.
    """


# --- exceptions ---------------------------------------------------------------------


class KubernetesError(Exception):
    """Base of every error the runtime raises about a request."""


class TransportError(KubernetesError):
    """The request got no HTTP answer (connect, TLS, timeout, protocol failure).

    ``method`` and ``url`` identify the request (the URL has no user-info and no
    query); ``__cause__`` is the underlying httpx exception. ``sent`` is ``False`` only
    when the request certainly never reached the server (connection not established),
    which makes even a non-idempotent request safe to repeat.
    """

    def __init__(self, message: str, *, method: str, url: str, sent: bool = True) -> None:
        super().__init__(terminal_safe(f"{method} {url}: {message}"))
        self.method = method
        self.url = url
        self.sent = sent


class DeadlineExceeded(TransportError):
    """The whole request (connect, send, every read of the body) took longer than the
    configured deadline, e.g. a server trickling one byte at a time; per-read timeouts
    alone would never end such a request."""


class ResponseError(KubernetesError):
    """The server answered with a success status, but the answer cannot be used.

    ``method`` and ``path`` name the request; ``status`` is the HTTP code. Subclasses
    say why: the body is too large, not what the request expects, or malformed.
    """

    def __init__(
        self, message: str, *, method: str | None = None, path: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.detail = message
        self.method = method
        self.path = path
        self.status = status

    def locate(self, method: str, path: str) -> None:
        """Name the request, when the error was raised by a decoder that did not know it."""
        if self.method is None:
            self.method, self.path = method, path

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        return terminal_safe(f"{where}{self.detail}")


class ResponseTooLarge(ResponseError):
    """A body (or one line of a stream) exceeded the configured size limit.

    ``limit`` is that limit in bytes. Reading stops at the limit, so a hostile or broken
    server cannot make the client hold more than ``limit`` bytes of it.
    """

    def __init__(
        self, message: str, *, limit: int, method: str | None = None, path: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.limit = limit


class LineTooLong(ResponseTooLarge):
    """One line of a watch or log stream grew past the line limit without a newline."""


class MalformedResponse(ResponseError, ValueError):
    """A success body that is not what the request expects: not JSON, empty, HTML, a
    JSON value of the wrong shape, or a field of the wrong type.

    ``json_path`` is where the decoder found the problem (``$.items[3].metadata``), or
    ``None`` when the body is not even JSON; ``expected`` names the type asked for. Also a
    ``ValueError``, the category Python gives bad data.
    """

    def __init__(
        self, message: str, *, method: str | None = None, path: str | None = None,
        status: int | None = None, json_path: str | None = None, expected: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status)
        self.json_path = json_path
        self.expected = expected


class UnexpectedKind(MalformedResponse):
    """The body is a well-formed object of another kind or apiVersion than the typed
    request asked for (``kind: Pod`` answering a ConfigMap get). ``kind`` and
    ``api_version`` are what the body said."""

    def __init__(
        self, message: str, *, kind: str | None, api_version: str | None,
        method: str | None = None, path: str | None = None, status: int | None = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, status=status, expected=expected)
        self.kind = kind
        self.api_version = api_version


class ApiError(KubernetesError):
    """The API server (or something in front of it) answered with an error status.

    ``status`` is the HTTP code; ``reason``, ``message`` and ``details`` come from the
    Status body when there is one; ``causes`` lists field-level causes; ``retry_after``
    is the delay in seconds the server asked for (``Retry-After`` header or
    ``details.retryAfterSeconds``), if any. ``body`` is the parsed Status, or ``None``
    when the server sent something else.
    """

    #: Code used when this class is raised by hand or chosen by reason alone.
    code: int = 0
    #: The Status reason that selects this class (``""`` when chosen by code only).
    status_reason: str = ""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        details: StatusDetails | None = None,
        retry_after: float | None = None,
        body: Status | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        where = f" ({method} {path})" if method and path else ""
        # server text reaches terminals through tracebacks: escape it there, keep the
        # attributes as the server sent them
        super().__init__(terminal_safe(f"{status} {reason}: {message}{where}"))
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details
        self.causes: list[StatusCause] = list(details.causes or []) if details else []
        self.retry_after = retry_after
        self.body = body
        self.method = method
        self.path = path


class BadRequest(ApiError):
    """400: the request itself is malformed (bad selector, bad patch, bad body)."""

    code, status_reason = 400, "BadRequest"


class Unauthorized(ApiError):
    """401: no valid credentials were presented."""

    code, status_reason = 401, "Unauthorized"


class Forbidden(ApiError):
    """403: the credentials are valid but RBAC (or admission) refused the action."""

    code, status_reason = 403, "Forbidden"


class NotFound(ApiError):
    """404: the object, namespace or resource type does not exist."""

    code, status_reason = 404, "NotFound"


class MethodNotAllowed(ApiError):
    """405: the resource does not support this verb."""

    code, status_reason = 405, "MethodNotAllowed"


class NotAcceptable(ApiError):
    """406: the server cannot produce the requested content type."""

    code, status_reason = 406, "NotAcceptable"


class Conflict(ApiError):
    """409 Conflict: a write lost a race (stale resourceVersion, apply field conflict).

    Distinct from :class:`AlreadyExists` (also 409): retrying after a fresh read makes
    sense here and never there.
    """

    code, status_reason = 409, "Conflict"


class AlreadyExists(ApiError):
    """409 AlreadyExists: a create named an object that exists already."""

    code, status_reason = 409, "AlreadyExists"


class ResourceExpired(ApiError):
    """410 Gone/Expired: the resourceVersion (or continue token) is too old.

    Also raised for watch ``ERROR`` events with code 410; the cure is a fresh list.
    """

    code, status_reason = 410, "Expired"


#: The HTTP name of the same condition.
Gone = ResourceExpired


class RequestEntityTooLarge(ApiError):
    """413: the request body is larger than the server accepts."""

    code, status_reason = 413, "RequestEntityTooLarge"


class UnsupportedMediaType(ApiError):
    """415: the body's content type is not accepted for this request (e.g. a patch type)."""

    code, status_reason = 415, "UnsupportedMediaType"


class Invalid(ApiError):
    """422: the object failed validation; ``causes`` names each offending field."""

    code, status_reason = 422, "Invalid"


class TooManyRequests(ApiError):
    """429: throttled (API Priority and Fairness, or an eviction blocked by a budget)."""

    code, status_reason = 429, "TooManyRequests"


class InternalError(ApiError):
    """500: the server failed while handling the request."""

    code, status_reason = 500, "InternalError"


class ServerTimeout(ApiError):
    """Reason ServerTimeout (usually 500): the server could not finish in time; retryable."""

    code, status_reason = 500, "ServerTimeout"


class ServiceUnavailable(ApiError):
    """503: the server (or an aggregated API behind it) is not available right now."""

    code, status_reason = 503, "ServiceUnavailable"


class Timeout(ApiError):
    """504: the request (or a watch) timed out before completing."""

    code, status_reason = 504, "Timeout"


class UnexpectedRedirect(ApiError):
    """3xx: something answered with a redirect, which the API never sends.

    Redirects are not followed (a redirect must not silently carry credentials or a
    request body elsewhere, nor turn a write into a read); ``location`` is the target
    the answer named, if any.
    """

    code, status_reason = 302, "Redirect"

    #: The ``Location`` header of the answer (set by the response core).
    location: str | None = None


class UnexpectedStatus(ApiError):
    """An HTTP code outside the API's vocabulary (1xx, 207-299, an unknown 4xx) without a
    Status body saying more: client-go's ``StatusReasonUnknown``."""

    code, status_reason = 0, "Unknown"


#: Status reason -> class. Consulted first: the reason is more specific than the code
#: (409 is either Conflict or AlreadyExists; 500 may be ServerTimeout).
_BY_REASON: dict[str, type[ApiError]] = {
    cls.status_reason: cls
    for cls in (
        BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, NotAcceptable,
        Conflict, AlreadyExists, ResourceExpired, RequestEntityTooLarge,
        UnsupportedMediaType, Invalid, TooManyRequests, InternalError, ServerTimeout,
        ServiceUnavailable, Timeout,
    )
}
_BY_REASON["Gone"] = ResourceExpired

#: HTTP code -> class, for bodies without a known reason (proxies, empty bodies).
_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
    405: MethodNotAllowed, 406: NotAcceptable, 409: Conflict, 410: ResourceExpired,
    413: RequestEntityTooLarge, 415: UnsupportedMediaType, 422: Invalid,
    429: TooManyRequests, 500: InternalError, 503: ServiceUnavailable, 504: Timeout,
}

#: Reason names for codes, used when the body does not say.
_CODE_REASONS: dict[int, str] = {cls.code: cls.status_reason for cls in _BY_CODE.values()}
_CODE_REASONS.update({410: "Gone", 409: "Conflict", 500: "InternalError"})


def error_class(code: int, reason: str | None, method: str | None = None) -> type[ApiError]:
    """The exception class for a status code and Status reason (reason wins).

    Without a known reason the code decides, as apimachinery's
    ``NewGenericServerResponse`` does: a 409 answering a POST is ``AlreadyExists``
    (a create can only conflict with an existing name), any other 5xx is an
    ``InternalError``, a 3xx an :class:`UnexpectedRedirect`, anything else
    :class:`UnexpectedStatus`.
    """
    if reason and reason in _BY_REASON:
        return _BY_REASON[reason]
    if code == 409 and method is not None and method.upper() == "POST":
        return AlreadyExists
    if code in _BY_CODE:
        return _BY_CODE[code]
    if 300 <= code < 400:
        return UnexpectedRedirect
    if code >= 500:
        return InternalError
    return UnexpectedStatus


def default_reason(code: int, method: str | None = None) -> str:
    """A reason name for a code when the server gave none (``"Unknown"`` if unmapped)."""
    if code in _CODE_REASONS and code != 409:
        return _CODE_REASONS[code]
    cls = error_class(code, None, method)
    return cls.status_reason if cls is not UnexpectedRedirect else "Unknown"


def api_error_from_status(
    status: Status,
    *,
    code: int | None = None,
    retry_after: float | None = None,
    method: str | None = None,
    path: str | None = None,
) -> ApiError:
    """Build the typed error for a decoded Status (HTTP code overrides ``status.code``)."""
    http_code = code if code is not None else (status.code or 0)
    reason = status.reason or default_reason(http_code, method)
    if retry_after is None and status.details and status.details.retry_after_seconds:
        retry_after = float(status.details.retry_after_seconds)
    cls = error_class(http_code, status.reason, method)
    return cls(
        http_code,
        reason,
        status.message or reason,
        details=status.details,
        retry_after=retry_after,
        body=status,
        method=method,
        path=path,
    )
