"""What the fake API server knows about one generated package's API: the shared contract.

A generated package's ``fake`` module builds one :class:`PackageApi` from tables the
generator wrote (``_fake_api.py``); the runtime's fake server, its patch engines and its
server-side apply read nothing else. Everything Kubernetes-specific that is *not* in a
spec (which field labels a resource supports, which resources count generations) lives
in the fake's own quirk tables, not here.

Types are addressed by opaque *type keys*: a definition name such as
``io.k8s.api.core.v1.PodSpec``, or any unique string the generator chose for an inline
(CRD) schema. A property that is neither an object, a list nor a map, and carries no
merge metadata, is left out of :attr:`PackageApi.types`: it is a scalar (or free-form
value) and merges atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..meta import ResourceInfo
from ..scheme import Scheme

#: What a property holds: one object (``""``), a list of values, or a map of values.
Container = Literal["", "list", "map"]


@dataclass(frozen=True, slots=True)
class Field:
    """How one property merges: its value's type and the spec's merge extensions.

    ``type`` is the type key of the property's object value (for ``container`` ``list``
    or ``map``: of its items or values); ``None`` for scalars and free-form values.
    The rest are the spec's ``x-kubernetes-*`` extensions, verbatim: ``list_type``
    (``atomic`` / ``set`` / ``map``), ``list_map_keys``, ``map_type`` (``atomic`` /
    ``granular``, for an object or map), and the strategic-merge ``patch_strategy``
    (``merge``, ``retainKeys``, ``merge,retainKeys``, ``replace``) and
    ``patch_merge_key``.
    """

    type: str | None = None
    container: Container = ""
    list_type: str | None = None
    list_map_keys: tuple[str, ...] = ()
    map_type: str | None = None
    patch_strategy: str | None = None
    patch_merge_key: str | None = None


@dataclass(frozen=True, slots=True)
class ScalePaths:
    """Where a resource's ``scale`` subresource reads and writes (the CRD's
    ``subresources.scale``; built-in workloads use the defaults)."""

    spec_replicas: str = ".spec.replicas"
    status_replicas: str = ".status.replicas"
    label_selector: str | None = ".status.selector"


@dataclass(frozen=True, slots=True)
class PackageApi:
    """One generated package's API as the fake server serves it.

    ``resources``: every resource the package has a client for. ``roots``: the type key
    of each kind's object, by ``(group, version, kind)``. ``types``: type key ->
    property -> :class:`Field`. ``custom``: the ``(group, resource)`` pairs that are
    custom resources (they take no strategic-merge patch, as on a real server).
    ``scale``: scale paths of custom resources with a ``scale`` subresource.
    ``schemas``: by ``(group, version, resource)``, the ``openAPIV3Schema`` of each custom
    resource version whose CRD gives one (validation keywords only).
    ``scheme``: the package's Scheme (typed objects in and out).
    """

    resources: tuple[ResourceInfo, ...]
    roots: Mapping[tuple[str, str, str], str]
    types: Mapping[str, Mapping[str, Field]]
    scheme: Scheme
    custom: frozenset[tuple[str, str]] = frozenset()
    scale: Mapping[tuple[str, str], ScalePaths] = field(default_factory=dict)
    schemas: Mapping[tuple[str, str, str], Mapping[str, Any]] = field(default_factory=dict)
    #: Kubernetes version the package was generated from (``v1.35.0``); ``""`` if unknown.
    kubernetes_version: str = ""

    def type_of(self, group: str, version: str, kind: str) -> str | None:
        """The type key of a kind's object, or ``None`` when the package lacks it."""
        return self.roots.get((group, version, kind))

    def field(self, type_key: str | None, name: str) -> Field | None:
        """The merge description of property ``name`` of ``type_key`` (``None``: scalar,
        free-form, or unknown to the package)."""
        if type_key is None:
            return None
        return self.types.get(type_key, {}).get(name)
