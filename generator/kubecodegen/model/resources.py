"""Swagger paths → resources, by the shape of the path and the ``x-kubernetes-*`` extensions.

The plural comes from the path, never from pluralising a kind. A resource is namespaced
when the server serves it under ``namespaces/{namespace}/``; the all-namespaces list
path of a namespaced resource adds nothing but the list verb. Deprecated ``/watch/``
paths create no resources; they only confirm the ``watch`` verb.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..spec.paths import ResourcePath, parse_resource_path, split_path
from ..spec.records import Operation, PathItem
from .types import GroupVersionKind

__all__ = ["ResourcePath", "collect_resources", "ordered_verbs", "parse_resource_path", "split_path"]

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})

# (path shape, x-kubernetes-action) -> verb. Shapes: collection, item, subresource.
_VERBS = {
    ("collection", "list"): "list",
    ("collection", "post"): "create",
    ("collection", "deletecollection"): "deletecollection",
    ("collection", "watchlist"): "watch",
    ("item", "get"): "get",
    ("item", "put"): "update",
    ("item", "patch"): "patch",
    ("item", "delete"): "delete",
    ("item", "watch"): "watch",
    ("subresource", "get"): "get",
    ("subresource", "put"): "update",
    ("subresource", "patch"): "patch",
    ("subresource", "post"): "create",
    ("subresource", "delete"): "delete",
}
VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "apply", "delete",
              "deletecollection", "head", "options")


@dataclass
class SubresourceAccumulator:
    name: str
    verbs: set[str] = field(default_factory=set)
    connect: bool = False
    request_ref: str | None = None
    response_ref: str | None = None
    gvk: GroupVersionKind | None = None


@dataclass
class ResourceAccumulator:
    group: str
    version: str
    plural: str
    namespaced: bool = False
    verbs: set[str] = field(default_factory=set)
    kinds: list[GroupVersionKind] = field(default_factory=list)
    item_ref: str | None = None
    list_ref: str | None = None
    has_list_watch_param: bool = False
    subresources: dict[str, SubresourceAccumulator] = field(default_factory=dict)


def _response_ref(op: Operation) -> str | None:
    """What a successful call returns: the first of the 200, 201 and 202 responses' types."""
    return next((op.response_refs[code] for code in ("200", "201", "202") if code in op.response_refs), None)


def collect_resources(paths: Mapping[str, PathItem]) -> list[ResourceAccumulator]:
    """Group every operation of every resource path by (group, version, plural)."""
    found: dict[tuple[str, str, str], ResourceAccumulator] = {}
    watch_paths: list[tuple[str, str, str]] = []
    for path in sorted(paths):
        parsed = parse_resource_path(path)
        if parsed is None:
            continue
        group, version, plural, shape = parsed.group, parsed.version, parsed.plural, parsed.shape
        if parsed.watch:
            watch_paths.append((group, version, plural))
            continue
        acc = found.setdefault((group, version, plural), ResourceAccumulator(group, version, plural))
        if parsed.namespaced:
            acc.namespaced = True
        item = paths[path]
        for method, op in item.operations.items():
            if parsed.subresource is not None:
                _add_subresource_op(acc, parsed.subresource, method, op)
                continue
            verb = _VERBS.get((shape, op.action or ""))
            if verb is None:
                continue
            acc.verbs.add(verb)
            gvk = op.gvk
            if gvk is not None and gvk not in acc.kinds:
                acc.kinds.append(gvk)
            if verb == "patch" and APPLY_CONTENT_TYPE in op.consumes:
                acc.verbs.add("apply")
            if verb == "list":
                acc.list_ref = acc.list_ref or _response_ref(op)
                if "watch" in op.parameter_names or "watch" in item.parameter_names:
                    acc.has_list_watch_param = True
            if verb in ("get", "create", "update") and acc.item_ref is None:
                acc.item_ref = _response_ref(op) or op.body_ref
    infer_watch_verbs(found, watch_paths)
    return [found[key] for key in sorted(found)]


def infer_watch_verbs(found: dict[tuple[str, str, str], ResourceAccumulator],
                      watch_paths: list[tuple[str, str, str]]) -> None:
    """Spec quirk: which resources can be watched.

    Every list operation declares a ``watch`` query parameter, even for resources the
    server cannot watch (``componentstatuses``), so the parameter alone is no evidence.
    Built-in group-versions publish deprecated ``/watch/`` paths exactly for watchable
    resources; CRD group-versions publish none at all (kube-apiserver 1.20), yet all CRs
    are watchable. So: where a group-version has any ``/watch/`` path, those paths
    decide; elsewhere the list operation's ``watch`` parameter does.
    """
    with_watch_paths = {(group, version) for group, version, _ in watch_paths}
    for key in watch_paths:
        if key in found:
            found[key].verbs.add("watch")
    for (group, version, _), acc in found.items():
        if (group, version) not in with_watch_paths and acc.has_list_watch_param and "list" in acc.verbs:
            acc.verbs.add("watch")


def _add_subresource_op(acc: ResourceAccumulator, name: str, method: str, op: Operation) -> None:
    sub = acc.subresources.setdefault(name, SubresourceAccumulator(name))
    if op.action == "connect" or name in CONNECT_SUBRESOURCES:
        sub.connect = True
        sub.verbs.add(method)
        return
    verb = _VERBS.get(("subresource", op.action or ""))
    if verb is None:
        return
    sub.verbs.add(verb)
    if verb == "patch" and APPLY_CONTENT_TYPE in op.consumes:
        sub.verbs.add("apply")
    sub.gvk = sub.gvk or op.gvk
    sub.request_ref = sub.request_ref or op.body_ref
    sub.response_ref = sub.response_ref or _response_ref(op)


def ordered_verbs(verbs: Iterable[str]) -> tuple[str, ...]:
    verbs = set(verbs)
    return tuple(v for v in VERB_ORDER if v in verbs) + tuple(sorted(verbs - set(VERB_ORDER)))
