"""What the patch engines share: the server's errors, its version gates, and how Go words
the values in its messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import gofmt
from ..release import at_least


class PatchError(Exception):
    """A patch the server refuses; carries the HTTP status and Status reason the real
    kube-apiserver answers.

    ``details`` is the Status' ``details`` object where the server sends one (``{}`` for
    the generic 422 of a failed JSON patch), ``None`` where it sends none.
    """

    def __init__(self, status: int, reason: str, message: str, *,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status} {reason or 'Failure'}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details


#: What kube-apiserver answers for every JSON patch that does not apply (and for the
#: strategic-merge errors it classes as invalid): a generic 422 without causes.
GENERIC_INVALID = "the server rejected our request due to an error in our request"


def invalid() -> PatchError:
    return PatchError(422, "Invalid", GENERIC_INVALID, details={})


def bad_request(message: str) -> PatchError:
    return PatchError(400, "BadRequest", message)


def internal(message: str) -> PatchError:
    return PatchError(500, "", message)


def version_at_least(version: str, minor: int) -> bool:
    """Whether a ``v1.N.x`` version string is 1.``minor`` or later, by the fake's one
    reading of versions (:func:`..release.at_least`: unreadable is the newest)."""
    return at_least(version, (1, minor))


# --- how Go prints values in the messages the server sends ----------------------------


def go_type(value: Any) -> str:
    """``%s`` of ``reflect.TypeOf(v)`` for a value decoded by ``encoding/json`` (a nil type
    prints as ``%!s(<nil>)``)."""
    return "%!s(<nil>)" if value is None else gofmt.go_type(value)


def go_json_kind(value: Any) -> str:
    """The JSON kind ``encoding/json`` names in an UnmarshalTypeError."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def go_fmt(value: Any) -> str:
    """``fmt.Sprintf("%v", v)`` of a decoded JSON value (maps print with sorted keys)."""
    return gofmt.go_plain(value)


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, and ``1`` is not ``1.0`` (the libraries
    compare numbers by their text)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(v, right[k]) for k, v in left.items())
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and left == right


def decodes_first(kubernetes_version: str, field_validation: str) -> bool:
    """Whether the server decodes a JSON or merge patch body on its own first, to report
    unknown and duplicate fields: with ``fieldValidation`` ``Warn`` (the default from
    1.25, when server-side field validation went beta) or ``Strict``."""
    if field_validation:
        return field_validation in ("Warn", "Strict")
    return version_at_least(kubernetes_version, 25)


# --- strategic merge patch: directives and the errors Go words -------------------------

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_PREFIX = "$deleteFromPrimitiveList"
ORDER_PREFIX = "$setElementOrder"

BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
BAD_ORDER_LIST = "invalid patch format of setElementOrder list"


def no_merge_key(item: Any, merge_key: str) -> PatchError:
    return internal(f"map: {go_fmt(item)} does not contain declared merge key: {merge_key}")


def bad_arg_type(expected: str, actual: Any) -> PatchError:
    return internal(f"expected a {expected}, but received a {go_type(actual)}")
