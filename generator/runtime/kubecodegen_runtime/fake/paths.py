"""Request paths as kube-apiserver reads them (its ``RequestInfoFactory``).

``/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}`` and the cluster-scoped and
all-namespaces forms; ``/api``, ``/apis``, ``/apis/{group}``, ``/api/v1``,
``/apis/{group}/{version}`` and ``/version`` are discovery. ``namespaces/{name}/status``
and ``namespaces/{name}/finalize`` are subresources of a namespace, not resources
inside it (the server's own special case).
"""

from __future__ import annotations

import functools
from typing import NamedTuple
from urllib.parse import unquote

#: Words after ``namespaces/{name}`` that are the namespace's subresources.
NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


class ResourcePath(NamedTuple):
    """A path that addresses a resource: a collection, an object or a subresource.

    ``namespace`` is ``None`` for cluster-scoped and all-namespaces paths. (A named tuple,
    not a frozen dataclass: as immutable, and made, hashed and compared in C; a request
    for a new name parses its path, and a frozen dataclass's ``__init__`` was most of
    that.)
    """

    group: str
    version: str
    resource: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    #: Path segments beyond the subresource (``pods/x/proxy/a/b``): never served here.
    extra: tuple[str, ...] = ()


class DiscoveryPath(NamedTuple):
    """``/version`` (``what="version"``), ``/api``, ``/apis``, or a group (``/apis/g``)
    or group version (``/api/v1``, ``/apis/g/v``). (A named tuple, as ResourcePath.)"""

    what: str
    group: str = ""
    version: str = ""


Parsed = ResourcePath | DiscoveryPath | None


@functools.lru_cache(maxsize=4096)
def parse(path: str) -> Parsed:
    """What ``path`` addresses, or ``None`` for a path the API does not have. (Cached:
    the answers are immutable, and a test addresses the same few paths again and again.)"""
    plain = path.split("?", 1)[0].strip("/")
    # unquote() leaves a segment without "%" as it is: split only, when no "%" is there
    parts = [unquote(p) for p in plain.split("/")] if "%" in plain else plain.split("/")
    if parts == ["version"]:
        return DiscoveryPath("version")
    if not parts or parts[0] not in ("api", "apis"):
        return None
    if parts[0] == "api":
        if len(parts) == 1:
            return DiscoveryPath("api")
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) == 1:
            return DiscoveryPath("apis")
        if len(parts) == 2:
            return DiscoveryPath("group", parts[1])
        group, version, rest = parts[1], parts[2], parts[3:]
    if not rest:
        return DiscoveryPath("groupversion", group, version)
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if not namespace:
            return None
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
        else:
            namespace = None
    if any(not p for p in rest):
        return None
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return ResourcePath(group, version, resource, namespace, name, sub, tuple(rest[3:]))
