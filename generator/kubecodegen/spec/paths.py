"""What a swagger path names: API group, version, resource, scope and subresource.

Shared by validation (which checks path templates) and the model (which groups
operations into resources), so both read a path the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CORE = re.compile(r"^/api/(?P<version>[^/{}]+)(?P<rest>/.*)?$")
_NAMED = re.compile(r"^/apis/(?P<group>[^/{}]+)/(?P<version>[^/{}]+)(?P<rest>/.*)?$")


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
