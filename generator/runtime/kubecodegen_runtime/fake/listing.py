"""Lists as kube-apiserver serves them: selectors, field labels, pages and continue tokens.

A continue token is opaque to clients; here (as in the real server's etcd3 store) it is
base64 JSON of the list's resourceVersion and the key to start after. A token from
before the last compaction answers 410 Expired with the server's message. Later pages
are read at the first page's revision, as etcd serves them: the first page keeps the
selected objects (references to immutable stored entries, so it costs a list of
pointers) for the :data:`SNAPSHOTS` most recent paged lists; a token whose snapshot was
dropped is served from the current state. A list at ``resourceVersion=0`` is served
"from the watch cache", which ignores ``limit``, as kube-apiserver 1.20 does.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..apis.meta_v1 import StatusCause, StatusDetails
from ..errors import BadRequest, ResourceExpired, Timeout
from ..fields import FieldSelector, FieldSelectorError, field_value
from ..labels import LabelSelectorError, Selector
from ..meta import ResourceInfo
from . import quirks
from .actions import invalid
from .store import Stored, meta_of, sort_key

if TYPE_CHECKING:
    from .tracker import ObjectTracker

EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You "
    "can start a new list without the continue parameter, or use the continue token in "
    "this response to retrieve the remainder of the results. Continuing with the provided "
    "token results in an inconsistent list - objects that were created, modified, or "
    "deleted between the time the first chunk was returned and now may show up in the "
    "list."
)


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed label and field selector for one resource."""

    labels: Selector
    fields: FieldSelector
    field_paths: Mapping[str, str]

    @property
    def everything(self) -> bool:
        return self.labels.is_everything() and self.fields.is_everything()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        meta = obj.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        if not self.labels.is_everything():
            labels = meta.get("labels")
            if not self.labels.matches(labels if isinstance(labels, dict) else {}):
                return False
        if not self.fields.is_everything():
            values = {label: field_value(obj, path) for label, path in self.field_paths.items()}
            if not self.fields.matches_fields(values):
                return False
        return True


def parse_filter(info: ResourceInfo, custom: bool, label_selector: str | None,
                 field_selector: str | None) -> Filter:
    """Parse both selectors; 400 BadRequest for a malformed one or an unsupported field
    label (the resource's labels are in :mod:`.quirks`)."""
    try:
        labels = Selector.parse(label_selector) if label_selector else Selector.everything()
    except LabelSelectorError as exc:
        raise BadRequest(400, "BadRequest", f"unable to parse requirement: {exc}") from None
    try:
        fields = FieldSelector.parse(field_selector) if field_selector \
            else FieldSelector.everything()
    except FieldSelectorError as exc:
        raise BadRequest(400, "BadRequest", f"invalid field selector: {exc.reason}") from None
    supported = quirks.field_labels(info.group, info.resource, custom)
    paths: dict[str, str] = {}
    for requirement in fields.requirements:
        if requirement.field not in supported:
            raise BadRequest(400, "BadRequest", quirks.unsupported_field_label(
                info.group, info.resource, custom, requirement.field))
        paths[requirement.field] = quirks.field_path(info.group, info.resource,
                                                     requirement.field)
    return Filter(labels, fields, paths)


def encode_continue(rv: int, start: str, snapshot: int = 0) -> str:
    data = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start, "snap": snapshot},
                      separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str, int]:
    """``(resourceVersion, key to start at)``; 400 BadRequest for a token that is not one."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        rv, start, snap = data["rv"], data["start"], data.get("snap", 0)
        if data.get("v") != "meta.k8s.io/v1" or not isinstance(rv, int) \
                or not isinstance(start, str) or not isinstance(snap, int):
            raise ValueError("not a continue token")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BadRequest(400, "BadRequest",
                         "continue key is not valid: incorrect encoded start resourceVersion "
                         "(version meta.k8s.io/v1)") from None
    return rv, start, snap


@dataclass(frozen=True, slots=True)
class ListQuery:
    namespace: str | None
    filter: Filter
    limit: int | None = None
    continue_: str | None = None
    resource_version: str | None = None
    resource_version_match: str | None = None


def select(tracker: ObjectTracker, info: ResourceInfo, namespace: str | None,
           flt: Filter) -> list[Stored]:
    """The stored objects a filter selects, in etcd order."""
    items = tracker.items(info, namespace)
    if flt.everything:
        return items
    return [s for s in items if flt.matches(s.obj)]


def list_page(tracker: ObjectTracker, info: ResourceInfo,
              query: ListQuery) -> tuple[list[Stored], dict[str, Any]]:
    """One page of a list: the items and the list's ``metadata``."""
    rv_param = query.resource_version or ""
    match = query.resource_version_match or ""
    check_match(rv_param, match, bool(query.continue_))
    with tracker.lock:
        current = tracker.current_rv
        limit = query.limit if query.limit and query.limit > 0 else None
        start = ""
        list_rv = current
        snapshot: list[Stored] | None = None
        kept = False  # the snapshot is already stored for continue tokens
        snap = 0
        if query.continue_:
            if rv_param and rv_param != "0":
                raise BadRequest(400, "BadRequest", "specifying resource version is not "
                                 "allowed when using continue")
            list_rv, start, snap = decode_continue(query.continue_)
            if list_rv < tracker.compacted_rv:
                raise ResourceExpired(410, "Expired", EXPIRED_MESSAGE)
            snapshot = tracker.snapshots.get(snap) if snap else None
            kept = snapshot is not None
        elif rv_param and rv_param != "0":
            check_not_newer(rv_param, current)
        if rv_param == "0" and not query.continue_:
            limit = None  # the watch cache serves the whole list
        if snapshot is None and match == "Exact" and not query.continue_:
            list_rv = int(rv_param)
            past = tracker.items_at(info, query.namespace, list_rv)
            if past is None:
                raise ResourceExpired(410, "Gone",
                                      "The resourceVersion for the provided list is too old.")
            snapshot = [s for s in past if query.filter.matches(s.obj)]
        everything = snapshot if snapshot is not None else \
            select(tracker, info, query.namespace, query.filter)
        items = [s for s in everything if _key(s) >= start] if start else everything
        if limit is not None and len(items) > limit and not kept:
            snap = tracker.snapshots.keep(everything)
    meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
    if limit is not None and len(items) > limit:
        rest = len(items) - limit
        items = items[:limit]
        meta["continue"] = encode_continue(list_rv, _key(items[-1]) + "\x00", snap)
        if query.filter.everything:
            meta["remainingItemCount"] = rest
    return items, meta


def check_match(rv_param: str, match: str, continuing: bool) -> None:
    """``ValidateListOptions``: when ``resourceVersionMatch`` may be given."""
    problem = ""
    if match and continuing:
        problem = "resourceVersionMatch is forbidden when continue is provided"
    elif match and not rv_param:
        problem = "resourceVersionMatch is forbidden unless resourceVersion is provided"
    elif match == "Exact" and rv_param == "0":
        problem = 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
    elif match and match not in ("Exact", "NotOlderThan"):
        problem = f'resourceVersionMatch "{match}" is not supported'
    if problem:
        raise invalid("ListOptions", "", [("FieldValueForbidden", "resourceVersionMatch",
                                           f"Forbidden: {problem}")], "meta.k8s.io")


def _key(stored: Stored) -> str:
    meta = meta_of(stored.obj)
    return sort_key((str(meta.get("namespace") or ""), str(meta.get("name") or "")))


def check_not_newer(rv_param: str, current: int) -> None:
    """A read at a resourceVersion the server has not reached yet: the watch cache waits
    for it (3 s), then answers 504 "Too large resource version"."""
    try:
        wanted = int(rv_param)
    except ValueError:
        raise BadRequest(400, "BadRequest",
                         f"invalid resource version: {rv_param}") from None
    if wanted > current:
        raise Timeout(504, "Timeout", f"Timeout: Too large resource version: {wanted}, "
                      f"current: {current}", retry_after=1.0,
                      details=StatusDetails(retry_after_seconds=1, causes=[StatusCause(
                          reason="ResourceVersionTooLarge",
                          message="Too large resource version")]))


def list_body(info: ResourceInfo, items: list[Stored], meta: Mapping[str, Any],
              item_bytes: Callable[[Stored], bytes]) -> bytes:
    """The list's JSON, assembled from the stored bytes of its items."""
    head = json.dumps({"kind": f"{info.kind}List", "apiVersion": info.api_version,
                       "metadata": dict(meta)}, separators=(",", ":"))
    return b"".join([head[:-1].encode(), b',"items":[',
                     b",".join(item_bytes(s) for s in items), b"]}"])
