"""What the fake server saw: :class:`Action` records, and the reactors that may answer them.

The vocabulary is client-go's ``k8s.io/client-go/testing``: every request the fake
server handles becomes one :class:`Action` (verb ``get``, ``list``, ``watch``,
``create``, ``update``, ``patch``, ``delete``, ``delete-collection``, or ``discovery``
for the server's own paths), recorded in order. Before the tracker answers, the
reactors registered for the action's verb and resource run, newest first; the first
one that answers wins. This is how a test injects failures ("the third update
conflicts") or canned answers without a real server.

A reactor is ``fn(action) -> answer | None``: ``None`` passes the action on; a dict or
typed object is the response body (status 200, or 201 for a create); raising an
:class:`~..errors.ApiError` sends its Status, exactly as a real server would. The
helpers :func:`not_found`, :func:`conflict`, ... build the common errors with the
server's reasons, codes and messages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..apis.meta_v1 import StatusCause, StatusDetails
from ..errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Forbidden,
    InternalError,
    Invalid,
    NotFound,
    ServerTimeout,
    TooManyRequests,
)
from ..meta import GroupVersionResource

__all__ = [
    "Action",
    "Reactor",
    "ReactorChain",
    "WatchReactor",
    "already_exists",
    "bad_request",
    "conflict",
    "forbidden",
    "internal_error",
    "invalid",
    "not_found",
    "server_timeout",
    "too_many_requests",
]


@dataclass(frozen=True)
class Action:
    """One request as the fake server understood it.

    ``object`` is the decoded request body of a create or update (a dict);
    ``patch`` the raw patch body and ``patch_type`` its content type; ``params`` the
    query as sent. ``label_selector`` / ``field_selector`` are the raw selector
    strings of a list, watch or delete-collection. ``path`` names the request for
    reactors that care about paths the resource fields cannot express
    (``verb == "discovery"``).
    """

    verb: str
    resource: GroupVersionResource
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    object: dict[str, Any] | None = None
    patch_type: str | None = None
    patch: bytes | None = None
    field_manager: str | None = None
    dry_run: bool = False
    force: bool = False
    label_selector: str | None = None
    field_selector: str | None = None
    resource_version: str | None = None
    delete_options: dict[str, Any] | None = None
    params: tuple[tuple[str, str], ...] = ()
    path: str = ""
    kind: str = field(default="", compare=False)

    def matches(self, verb: str, resource: str) -> bool:
        """Whether this action is ``verb`` on ``resource``, as client-go matches: ``"*"``
        matches anything; ``pods`` matches pods and every subresource of them,
        ``pods/status`` only the status subresource."""
        if verb != "*" and verb != self.verb:
            return False
        if resource == "*":
            return True
        top, slash, sub = resource.partition("/")
        if not slash:
            return top == self.resource.resource
        return top == self.resource.resource and sub == (self.subresource or "")

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        for key, value in self.params:
            if key == name:
                return value
        return None


#: ``fn(action)``: ``None`` passes on; a dict / typed object answers; an ApiError fails.
Reactor = Callable[[Action], object]
#: ``fn(action)``: ``None`` passes on; an iterable of watch events (``{"type": ...,
#: "object": ...}`` dicts, or typed objects' dicts) is streamed instead of the
#: tracker's watch, then the stream ends; an ApiError fails the watch request.
WatchReactor = Callable[[Action], "Iterable[Mapping[str, Any]] | None"]


class ReactorChain:
    """Reactors by (verb, resource), tried newest first; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reactors: list[tuple[str, str, Reactor]] = []
        self._watch: list[tuple[str, WatchReactor]] = []

    def prepend(self, verb: str, resource: str, fn: Reactor) -> None:
        with self._lock:
            self._reactors.insert(0, (verb, resource, fn))

    def prepend_watch(self, resource: str, fn: WatchReactor) -> None:
        with self._lock:
            self._watch.insert(0, (resource, fn))

    def any(self) -> bool:
        """Whether any reactor is registered: a fake without reactors (the common case)
        skips building their snapshot. (A list's truth is read atomically; a reactor
        added concurrently with a request may or may not see it either way.)"""
        return bool(self._reactors)

    def react(self, action: Action) -> object | None:
        """The first answer of a matching reactor, or ``None`` (no reactor answered).
        An ApiError raised by a reactor propagates."""
        with self._lock:
            reactors = list(self._reactors)
        for verb, resource, fn in reactors:
            if action.matches(verb, resource):
                answer = fn(action)
                if answer is not None:
                    return answer
        return None

    def react_watch(self, action: Action) -> Iterable[Mapping[str, Any]] | None:
        if not self._watch:
            return None  # no watch reactor: nothing to snapshot
        with self._lock:
            reactors = list(self._watch)
        for resource, fn in reactors:
            if action.matches("watch", resource):
                answer = fn(action)
                if answer is not None:
                    return answer
        return None


# --- errors, as the server words them ----------------------------------------------


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def _details(name: str | None, group: str, kind: str,
             causes: list[StatusCause] | None = None) -> StatusDetails:
    return StatusDetails(name=name or None, group=group or None, kind=kind or None,
                         causes=causes)


def not_found(resource: str, name: str, group: str = "") -> NotFound:
    """404 NotFound: ``pods "x" not found``."""
    message = f'{_qualified(resource, group)} "{name}" not found'
    return NotFound(404, "NotFound", message, details=_details(name, group, resource))


def already_exists(resource: str, name: str, group: str = "") -> AlreadyExists:
    """409 AlreadyExists: ``pods "x" already exists``."""
    message = f'{_qualified(resource, group)} "{name}" already exists'
    return AlreadyExists(409, "AlreadyExists", message, details=_details(name, group, resource))


def conflict(resource: str, name: str, group: str = "",
             why: str = "the object has been modified; please apply your changes to the "
                        "latest version and try again") -> Conflict:
    """409 Conflict: ``Operation cannot be fulfilled on pods "x": <why>``."""
    message = f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}'
    return Conflict(409, "Conflict", message, details=_details(name, group, resource))


def forbidden(resource: str, name: str, why: str, group: str = "") -> Forbidden:
    """403 Forbidden: ``pods "x" is forbidden: <why>``."""
    target = f'{_qualified(resource, group)} "{name}"' if name else _qualified(resource, group)
    message = f"{target} is forbidden: {why}"
    return Forbidden(403, "Forbidden", message, details=_details(name, group, resource))


def invalid(kind: str, name: str, causes: list[tuple[str, str, str]],
            group: str = "") -> Invalid:
    """422 Invalid with one cause per ``(type, field, message)``
    (``FieldValueInvalid``, ``metadata.name``, ``Invalid value: ...``)."""
    parts = [f"{fld}: {msg}" if fld else msg for _t, fld, msg in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    message = f'{kind}{"." + group if group else ""} "{name}" is invalid: {summary}'
    details = _details(name, group, kind, [
        StatusCause(reason=typ, message=msg, field=fld or None) for typ, fld, msg in causes
    ])
    return Invalid(422, "Invalid", message, details=details)


def bad_request(message: str) -> BadRequest:
    """400 BadRequest with the given message."""
    return BadRequest(400, "BadRequest", message)


def internal_error(message: str = "an error on the server has prevented the request "
                                  "from succeeding") -> InternalError:
    """500 InternalError: ``Internal error occurred: <message>``."""
    return InternalError(500, "InternalError", f"Internal error occurred: {message}",
                         details=StatusDetails(causes=[StatusCause(message=message)]))


def server_timeout(resource: str, operation: str = "get", retry_after: int = 1,
                   group: str = "") -> ServerTimeout:
    """500 ServerTimeout (retryable)."""
    message = (f"The {operation} operation against {_qualified(resource, group)} could not "
               "be completed at this time, please try again.")
    return ServerTimeout(500, "ServerTimeout", message, retry_after=float(retry_after),
                         details=StatusDetails(kind=resource, group=group or None,
                                               retry_after_seconds=retry_after))


def too_many_requests(message: str = "Too many requests, please try again later.",
                      retry_after: int = 1) -> TooManyRequests:
    """429 TooManyRequests (retryable)."""
    return TooManyRequests(429, "TooManyRequests", message, retry_after=float(retry_after),
                           details=StatusDetails(retry_after_seconds=retry_after))

