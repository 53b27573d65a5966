"""Discovery documents of the fake server, from the package's resource table.

``/api``, ``/apis``, ``/apis/{group}``, ``/api/v1``, ``/apis/{group}/{version}`` in
their legacy (unaggregated) form, which every client accepts, and ``/version`` from the
package's Kubernetes version. Groups are listed in the order the package has them. A
group's preferred version is its highest by Kubernetes' version priority (``v1`` before
``v1beta2`` before ``v1alpha1``) and is listed first, the others follow in alphabetical
order (kube-apiserver 1.20 lists ``autoscaling`` as ``v1, v2beta1, v2beta2``: its
registration order, not the priority order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from ..meta import ResourceInfo, version_priority
from . import quirks
from .paths import DiscoveryPath


def _groups(resources: Sequence[ResourceInfo]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for info in resources:
        versions = groups.setdefault(info.group, [])
        if info.version not in versions:
            versions.append(info.version)
    for versions in groups.values():
        preferred = min(versions, key=version_priority)
        versions[:] = [preferred, *sorted(v for v in versions if v != preferred)]
    return groups


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def _resource_list(resources: Sequence[ResourceInfo], group: str,
                   version: str) -> dict[str, Any] | None:
    infos = [i for i in resources if i.group == group and i.version == version]
    if not infos:
        return None
    listed: list[dict[str, Any]] = []
    for info in infos:
        entry: dict[str, Any]
        entry = {"name": info.resource, "singularName": "", "namespaced": info.namespaced,
                 "kind": info.kind, "verbs": _verbs(info.verbs)}
        short = quirks.SHORT_NAMES.get((info.group, info.resource))
        if short:
            entry["shortNames"] = list(short)
        listed.append(entry)
        for sub, verbs in sorted(info.subresources.items()):
            kind = "Scale" if sub == "scale" else info.kind
            entry = {"name": f"{info.resource}/{sub}", "singularName": "",
                                     "namespaced": info.namespaced, "kind": kind,
                                     "verbs": _verbs(verbs)}
            if sub == "scale":
                entry["group"], entry["version"] = "autoscaling", "v1"
            listed.append(entry)
    doc: dict[str, Any] = {"kind": "APIResourceList"}
    if group:
        doc["apiVersion"] = "v1"  # the core group's list has none
    doc["groupVersion"] = f"{group}/{version}" if group else version
    doc["resources"] = listed
    return doc


def _verbs(verbs: frozenset[str]) -> list[str]:
    """The verbs discovery lists: ``apply`` is a client's name for a patch, not a verb."""
    return sorted(v for v in verbs if v != "apply")


def version_info(kubernetes_version: str) -> dict[str, Any]:
    parts = kubernetes_version.lstrip("v").split(".")
    major = parts[0] if parts and parts[0] else "1"
    minor = parts[1] if len(parts) > 1 else ""
    return {"major": major, "minor": minor, "gitVersion": kubernetes_version or "v0.0.0-fake",
            "gitCommit": "", "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z",
            "goVersion": "", "compiler": "gc", "platform": "linux/amd64"}


#: Encoded documents by (id of the package's resource tuple, its Kubernetes version,
#: path); the tuple is kept alive with them so that an id is never reused. A package's
#: API never changes. (The version is part of the key: two PackageApis may share one
#: resource tuple, as ``dataclasses.replace(api, kubernetes_version=...)`` makes them,
#: and ``/version`` differs.)
_ENCODED: dict[tuple[int, str, DiscoveryPath], tuple[Sequence[ResourceInfo], bytes | None]] = {}


def encoded(resources: Sequence[ResourceInfo], kubernetes_version: str,
            path: DiscoveryPath) -> bytes | None:
    """:func:`document` as JSON, made once per package, version and path."""
    key = (id(resources), kubernetes_version, path)
    known = _ENCODED.get(key)
    if known is not None and known[0] is resources:
        return known[1]
    doc = document(resources, kubernetes_version, path)
    body = None if doc is None else msgspec.json.encode(doc)
    if len(_ENCODED) < 4096:
        _ENCODED[key] = (resources, body)
    return body


def document(resources: Sequence[ResourceInfo], kubernetes_version: str,
             path: DiscoveryPath) -> dict[str, Any] | None:
    """The discovery document at ``path`` (``None``: the server has no such path)."""
    groups = _groups(resources)
    if path.what == "version":
        return version_info(kubernetes_version)
    if path.what == "api":
        if "" not in groups:
            return None
        return {"kind": "APIVersions", "versions": groups[""],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                "serverAddress": "fake.invalid:443"}]}
    if path.what == "apis":
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [_group(g, v) for g, v in groups.items() if g]}
    if path.what == "group":
        if not path.group or path.group not in groups:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", **_group(path.group, groups[path.group])}
    return _resource_list(resources, path.group, path.version)
