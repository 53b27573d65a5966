"""Swagger paths → resources, by the shape of the path and the ``x-kubernetes-*`` extensions.

The plural comes from the path, never from pluralising a kind. A resource is namespaced
when the server serves it under ``namespaces/{namespace}/``; the all-namespaces list
path of a namespaced resource adds nothing but the list verb. Deprecated ``/watch/``
paths create no resources; they only confirm the ``watch`` verb.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .types import GroupVersionKind

_CORE = re.compile(r"^/api/(?P<version>[^/{}]+)(?P<rest>/.*)?$")
_NAMED = re.compile(r"^/apis/(?P<group>[^/{}]+)/(?P<version>[^/{}]+)(?P<rest>/.*)?$")
_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
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
class OperationInfo:
    verb: str
    gvk: GroupVersionKind | None
    body_ref: str | None
    response_ref: str | None


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


def _ref_target(schema: object) -> str | None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            return ref[len("#/definitions/"):]
    return None


def _gvk(op: dict[str, Any]) -> GroupVersionKind | None:
    ext = op.get("x-kubernetes-group-version-kind")
    if isinstance(ext, dict):
        return GroupVersionKind(str(ext.get("group", "")), str(ext.get("version", "")), str(ext.get("kind", "")))
    return None


def _body_ref(op: dict[str, Any]) -> str | None:
    for param in op.get("parameters", []) or []:
        if isinstance(param, dict) and param.get("in") == "body":
            return _ref_target(param.get("schema"))
    return None


def _response_ref(op: dict[str, Any]) -> str | None:
    responses = op.get("responses") or {}
    for code in ("200", "201", "202"):
        target = _ref_target((responses.get(code) or {}).get("schema"))
        if target:
            return target
    return None


def _param_names(op: dict[str, Any], parameters: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for param in op.get("parameters", []) or []:
        if isinstance(param, dict):
            ref = param.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/parameters/"):
                param = parameters.get(ref[len("#/parameters/"):], {})
            if isinstance(param, dict) and isinstance(param.get("name"), str):
                names.add(param["name"])
    return names


def split_path(path: str) -> tuple[str, str, list[str]] | None:
    """``/apis/apps/v1/namespaces/{namespace}/deployments`` → ("apps", "v1", [segments])."""
    match = _CORE.match(path)
    group = ""
    if match is None:
        match = _NAMED.match(path)
        if match is None:
            return None
        group = match.group("group")
    rest = (match.group("rest") or "").strip("/")
    return group, match.group("version"), [s for s in rest.split("/") if s] if rest else []


@dataclass(frozen=True)
class ResourcePath:
    """What a resource path names: ``/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale``
    → apps, v1, deployments, namespaced, shape ``subresource``, subresource ``scale``.

    ``watch`` marks the deprecated ``/watch/`` paths, which only confirm the verb.
    """

    group: str
    version: str
    plural: str
    namespaced: bool
    shape: str  # collection, item or subresource
    subresource: str | None = None
    watch: bool = False


def parse_resource_path(path: str) -> ResourcePath | None:
    """The one reading of the path grammar (the model and the spec validator share it);
    ``None`` for paths that name no resource (discovery, ``/version``, templated plurals)."""
    parsed = split_path(path)
    if parsed is None:
        return None
    group, version, segments = parsed
    if not segments:
        return None  # discovery document of the group-version
    watch = segments[0] == "watch"
    if watch:
        segments = segments[1:]
    namespaced = False
    if segments[:1] == ["namespaces"] and len(segments) >= 3 and segments[1] == "{namespace}":
        namespaced = True
        segments = segments[2:]
    if not segments or "{" in segments[0]:
        return None
    shape = {1: "collection", 2: "item"}.get(len(segments), "subresource")
    subresource = segments[2] if shape == "subresource" else None
    return ResourcePath(group, version, segments[0], namespaced, shape, subresource, watch)


def collect_resources(paths: dict[str, Any], parameters: dict[str, Any]) -> list[ResourceAccumulator]:
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
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            action = op.get("x-kubernetes-action")
            if parsed.subresource is not None:
                _add_subresource_op(acc, parsed.subresource, method, action, op)
                continue
            verb = _VERBS.get((shape, str(action)))
            if verb is None:
                continue
            acc.verbs.add(verb)
            gvk = _gvk(op)
            if gvk is not None and gvk not in acc.kinds:
                acc.kinds.append(gvk)
            if verb == "patch" and APPLY_CONTENT_TYPE in (op.get("consumes") or []):
                acc.verbs.add("apply")
            if verb == "list":
                acc.list_ref = acc.list_ref or _response_ref(op)
                if "watch" in _param_names(op, parameters) or "watch" in _param_names(item, parameters):
                    acc.has_list_watch_param = True
            if verb in ("get", "create", "update") and acc.item_ref is None:
                acc.item_ref = _response_ref(op) or _body_ref(op)
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


def _add_subresource_op(acc: ResourceAccumulator, name: str, method: str, action: object,
                        op: dict[str, Any]) -> None:
    sub = acc.subresources.setdefault(name, SubresourceAccumulator(name))
    if action == "connect" or name in CONNECT_SUBRESOURCES:
        sub.connect = True
        sub.verbs.add(method)
        return
    verb = _VERBS.get(("subresource", str(action)))
    if verb is None:
        return
    sub.verbs.add(verb)
    if verb == "patch" and APPLY_CONTENT_TYPE in (op.get("consumes") or []):
        sub.verbs.add("apply")
    sub.gvk = sub.gvk or _gvk(op)
    sub.request_ref = sub.request_ref or _body_ref(op)
    sub.response_ref = sub.response_ref or _response_ref(op)


def ordered_verbs(verbs: Iterable[str]) -> tuple[str, ...]:
    verbs = set(verbs)
    return tuple(v for v in VERB_ORDER if v in verbs) + tuple(sorted(verbs - set(VERB_ORDER)))
