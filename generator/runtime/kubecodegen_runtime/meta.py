"""Identity records shared by every layer of the runtime: GVK, GVR and resource metadata.

Vocabulary (as in apimachinery):

* *group* -- the API group, ``""`` for the core ("legacy") group.
* *version* -- the API version inside a group (``v1``, ``v1beta2``).
* *kind* -- the CamelCase type name an object carries in its ``kind`` field.
* *resource* -- the lowercase plural used in URL paths (``pods``), taken from the
  server's paths, never derived from a kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KUBE_VERSION = re.compile(r"v([0-9]+)(?:(alpha|beta)([0-9]+))?")
_STABILITY = {None: 0, "beta": 1, "alpha": 2}


def version_priority(version: str) -> tuple[int, int, int, int, str]:
    """Sort key of Kubernetes' version priority (apimachinery's
    ``CompareKubeAwareVersionStrings``): ``sorted(versions, key=version_priority)`` puts the
    preferred version first.

    GA before beta before alpha; within one stability, the higher major and then the higher
    minor first (``v2`` > ``v1`` > ``v2beta2`` > ``v1beta1`` > ``v1alpha1``). Versions not of
    that shape sort after every Kubernetes one, alphabetically among themselves. The generator
    (a package's preferred versions) and the fake server (its discovery) both order by this
    one rule, so they cannot disagree.
    """
    match = _KUBE_VERSION.fullmatch(version)
    if match is None:
        return (1, 0, 0, 0, version)
    major, stability, minor = match.groups()
    return (0, _STABILITY[stability], -int(major), -int(minor or 0), "")


@dataclass(frozen=True, slots=True)
class GroupVersionKind:
    """The (group, version, kind) triple that names an object type on the wire."""

    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` string: ``v1`` for the core group, else ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @classmethod
    def from_api_version(cls, api_version: str, kind: str) -> GroupVersionKind:
        group, _, version = api_version.rpartition("/")
        return cls(group, version, kind)


@dataclass(frozen=True, slots=True)
class GroupVersionResource:
    """The (group, version, resource) triple that names a collection in URL paths."""

    group: str
    version: str
    resource: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """Everything a client needs to address one resource; generated code builds these.

    ``subresources`` maps a subresource name (``status``, ``scale``) to the verbs the
    server offers on it.
    """

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool
    verbs: frozenset[str] = frozenset()
    subresources: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def gvr(self) -> GroupVersionResource:
        return GroupVersionResource(self.group, self.version, self.resource)

    @property
    def gvk(self) -> GroupVersionKind:
        return GroupVersionKind(self.group, self.version, self.kind)

    @property
    def api_version(self) -> str:
        # spelled out rather than ``self.gvk.api_version``: read on every request
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        """The URL path of the collection, an object, or an object's subresource."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            collection = f"{prefix}/namespaces/{namespace}/{self.resource}"
        else:
            collection = f"{prefix}/{self.resource}"
        if name is None:
            return collection
        if subresource is None:
            return f"{collection}/{name}"
        return f"{collection}/{name}/{subresource}"
