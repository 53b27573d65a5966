"""Request options and their one mapping to query parameters.

Every option a client method accepts as a keyword argument (``label_selector``,
``dry_run`` ...) is turned into a query parameter here and nowhere else, through the
table :data:`QUERY_NAMES`. An option left at ``None`` is not sent at all, so the
server's default applies (this matters for ``fieldValidation``: servers before 1.25
do not know it, and it is only sent when the caller sets it).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Literal

# Delete only if the object still has this UID and/or resourceVersion: the meta/v1 type
# itself, so a generated package's ``models.meta_v1.Preconditions`` is accepted as it is.
from ..apis.meta_v1 import Preconditions as Preconditions

#: Python keyword -> query parameter name. The single source of truth.
QUERY_NAMES: dict[str, str] = {
    "dry_run": "dryRun",
    "field_manager": "fieldManager",
    "field_validation": "fieldValidation",
    "force": "force",
    "label_selector": "labelSelector",
    "field_selector": "fieldSelector",
    "limit": "limit",
    "continue_": "continue",
    "resource_version": "resourceVersion",
    "resource_version_match": "resourceVersionMatch",
    "timeout_seconds": "timeoutSeconds",
    "allow_watch_bookmarks": "allowWatchBookmarks",
    "send_initial_events": "sendInitialEvents",
    "watch": "watch",
    # pods/log
    "container": "container",
    "follow": "follow",
    "previous": "previous",
    "since_seconds": "sinceSeconds",
    "since_time": "sinceTime",
    "timestamps": "timestamps",
    "tail_lines": "tailLines",
    "limit_bytes": "limitBytes",
    "insecure_skip_tls_verify_backend": "insecureSkipTLSVerifyBackend",
}

FieldValidation = Literal["Strict", "Warn", "Ignore"]
ResourceVersionMatch = Literal["NotOlderThan", "Exact"]
PropagationPolicy = Literal["Orphan", "Background", "Foreground"]
OptionValue = str | int | bool | None


class PatchType(str, enum.Enum):
    """The four patch flavours; each value is the Content-Type the server expects."""

    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    APPLY = "application/apply-patch+yaml"


#: Short names users may pass instead of the enum.
PatchTypeName = Literal["json", "merge", "strategic", "apply"]

_PATCH_NAMES: dict[str, PatchType] = {
    "json": PatchType.JSON,
    "merge": PatchType.MERGE,
    "strategic": PatchType.STRATEGIC,
    "apply": PatchType.APPLY,
}


def patch_type(value: PatchType | PatchTypeName | str) -> PatchType:
    """Normalise a patch type given as enum, short name or content type."""
    if isinstance(value, PatchType):
        return value
    if value in _PATCH_NAMES:
        return _PATCH_NAMES[value]
    try:
        return PatchType(value)
    except ValueError:
        choices = ", ".join(sorted(_PATCH_NAMES))
        raise ValueError(f"unknown patch type {value!r}; expected one of {choices}") from None




_COUNTS = frozenset({"limit", "timeout_seconds", "since_seconds", "tail_lines", "limit_bytes"})


def _encode(key: str, value: str | int | bool) -> str:
    if key == "dry_run":
        return "All"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def query(items: Iterable[tuple[str, OptionValue]]) -> tuple[tuple[str, str], ...]:
    """Map ``(python_name, value)`` pairs to ordered ``(queryName, text)`` pairs.

    ``None`` values and ``dry_run=False`` are dropped; an unknown name is a programming
    error and raises ``KeyError`` naming it.
    """
    out: list[tuple[str, str]] = []
    for key, value in items:
        if value is None or (key == "dry_run" and value is False):
            continue
        try:
            name = QUERY_NAMES[key]
        except KeyError:
            raise KeyError(f"unknown request option {key!r}") from None
        if key in _COUNTS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"option {key} must be a non-negative integer, got {value!r}")
        out.append((name, _encode(key, value)))
    return tuple(out)


def options(**values: OptionValue) -> tuple[tuple[str, str], ...]:
    """Keyword form of :func:`query` (keyword order is kept)."""
    return query(values.items())
