"""Untyped clients for any resource: objects are plain ``dict`` values.

``DynamicClient(rest).resource(gvr)`` addresses a collection by group/version/resource;
``.namespace(ns)`` binds it to a namespace. Every verb is the typed client's own
(get, list, list_all, watch, create, update, patch, apply, delete, delete_collection),
instantiated with ``dict`` as the object and list type, so dynamic and typed clients
share one implementation.

Finding the resource through discovery goes through the client's
:class:`~.restmapper.DeferredRESTMapper` (cached; a miss re-discovers once):
``resource_for(kind, api_version)`` maps a kind as client-go's ``RESTMapping`` does
(``api_version=None``: any group, preferred version), ``resource_for_object(obj)`` uses an
object's own ``apiVersion`` and ``kind``, and ``resource_for_kind(name)`` reads a name as
kubectl does (``deploy``, ``deployments.apps``, ``Deployment``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .client._async.resource import AsyncClusterResource, AsyncNamespacedResource, AsyncWithStatus
from .client._async.rest import AsyncRESTClient
from .client._sync.resource import ClusterResource, NamespacedResource, WithStatus
from .client._sync.rest import RESTClient
from .discovery import AsyncDiscoveryClient, DiscoveryClient, split_kind
from .meta import GroupVersionResource, ResourceInfo

if TYPE_CHECKING:
    from .restmapper import AsyncDeferredRESTMapper, DeferredRESTMapper

#: The object type of dynamic clients.
Obj = dict[str, Any]


def resource_info(target: GroupVersionResource | ResourceInfo, *, namespaced: bool) -> ResourceInfo:
    """A ResourceInfo for a GVR; a ResourceInfo from discovery is kept but re-scoped.

    The scope decides the path shape only: ``namespaced=False`` addresses the whole
    cluster (cluster-scoped objects, or every namespace of a namespaced resource).
    """
    if isinstance(target, ResourceInfo):
        info = target
        return ResourceInfo(info.group, info.version, info.resource, info.kind, namespaced,
                            info.verbs, info.subresources)
    return ResourceInfo(target.group, target.version, target.resource, "", namespaced)


def split_api_version(api_version: str | None) -> tuple[str | None, tuple[str, ...]]:
    """``"apps/v1"`` -> ``("apps", ("v1",))``; ``"v1"`` is the core group; ``None`` any."""
    if api_version is None:
        return None, ()
    group, _, version = api_version.rpartition("/")
    if not version:
        raise ValueError(f"not an apiVersion: {api_version!r}")
    return group, (version,)


def object_type(obj: Mapping[str, Any]) -> tuple[str, str]:
    """An object's ``(apiVersion, kind)``, refusing an object without them."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        raise ValueError("the object needs a string apiVersion and kind to find its resource")
    return api_version, kind


class DynamicNamespacedResource(NamespacedResource[Obj, Obj], WithStatus[Obj]):
    """All verbs on one namespace of any resource, with dict objects."""

    def __init__(self, rest: RESTClient, info: ResourceInfo, namespace: str) -> None:
        super().__init__(rest, namespace)
        self.info = resource_info(info, namespaced=True)
        self.type = dict
        self.list_type = dict


class DynamicResource(ClusterResource[Obj, Obj], WithStatus[Obj]):
    """A resource without a namespace: cluster-scoped CRUD, or all-namespaces reads.

    Call :meth:`namespace` to work inside one namespace of a namespaced resource.
    """

    def __init__(self, rest: RESTClient, info: ResourceInfo) -> None:
        super().__init__(rest)
        self.info = resource_info(info, namespaced=False)
        self.type = dict
        self.list_type = dict
        self.namespaced = info.namespaced

    def namespace(self, namespace: str) -> DynamicNamespacedResource:
        return DynamicNamespacedResource(self._rest, self.info, namespace)


class DynamicClient:
    """Entry point: ``DynamicClient(rest).resource(gvr).namespace("ns").get("name")``."""

    def __init__(self, rest: RESTClient, discovery: DiscoveryClient | None = None) -> None:
        self._rest = rest
        self._discovery = discovery

    @property
    def discovery(self) -> DiscoveryClient:
        if self._discovery is None:
            self._discovery = DiscoveryClient(self._rest)
        return self._discovery

    @property
    def mapper(self) -> DeferredRESTMapper:
        """The discovery client's RESTMapper, which every ``resource_for*`` uses."""
        return self.discovery.mapper

    def resource(self, target: GroupVersionResource | ResourceInfo) -> DynamicResource:
        info = target if isinstance(target, ResourceInfo) else resource_info(target, namespaced=True)
        return DynamicResource(self._rest, info)

    def resource_for(self, kind: str, api_version: str | None = None) -> DynamicResource:
        """The resource serving ``kind`` (exact, or lower-case) at ``api_version``
        (``"apps/v1"``; ``"v1"`` is the core group; ``None``: any group, preferred version).

        Raises :class:`~.restmapper.NoKindMatch` if the server does not serve it.
        """
        group, versions = split_api_version(api_version)
        return DynamicResource(self._rest, self.mapper.rest_mapping(kind, group=group, versions=versions))

    def resource_for_object(self, obj: Mapping[str, Any]) -> DynamicResource:
        """The resource of an object (a manifest): its ``apiVersion`` and ``kind``."""
        api_version, kind = object_type(obj)
        return self.resource_for(kind, api_version)

    def resource_for_kind(self, kind: str, version: str | None = None) -> DynamicResource:
        """Resolve a name as kubectl does (``"Deployment"``, ``"Deployment.apps"``, ``"deploy"``)."""
        name, group = split_kind(kind)
        return DynamicResource(self._rest, self.mapper.find(name, group=group, version=version))


class AsyncDynamicNamespacedResource(AsyncNamespacedResource[Obj, Obj], AsyncWithStatus[Obj]):
    """Async twin of :class:`DynamicNamespacedResource`."""

    def __init__(self, rest: AsyncRESTClient, info: ResourceInfo, namespace: str) -> None:
        super().__init__(rest, namespace)
        self.info = resource_info(info, namespaced=True)
        self.type = dict
        self.list_type = dict


class AsyncDynamicResource(AsyncClusterResource[Obj, Obj], AsyncWithStatus[Obj]):
    """Async twin of :class:`DynamicResource`."""

    def __init__(self, rest: AsyncRESTClient, info: ResourceInfo) -> None:
        super().__init__(rest)
        self.info = resource_info(info, namespaced=False)
        self.type = dict
        self.list_type = dict
        self.namespaced = info.namespaced

    def namespace(self, namespace: str) -> AsyncDynamicNamespacedResource:
        return AsyncDynamicNamespacedResource(self._rest, self.info, namespace)


class AsyncDynamicClient:
    """Async twin of :class:`DynamicClient`."""

    def __init__(self, rest: AsyncRESTClient, discovery: AsyncDiscoveryClient | None = None) -> None:
        self._rest = rest
        self._discovery = discovery

    @property
    def discovery(self) -> AsyncDiscoveryClient:
        if self._discovery is None:
            self._discovery = AsyncDiscoveryClient(self._rest)
        return self._discovery

    @property
    def mapper(self) -> AsyncDeferredRESTMapper:
        return self.discovery.mapper

    def resource(self, target: GroupVersionResource | ResourceInfo) -> AsyncDynamicResource:
        info = target if isinstance(target, ResourceInfo) else resource_info(target, namespaced=True)
        return AsyncDynamicResource(self._rest, info)

    async def resource_for(self, kind: str, api_version: str | None = None) -> AsyncDynamicResource:
        group, versions = split_api_version(api_version)
        info = await self.mapper.rest_mapping(kind, group=group, versions=versions)
        return AsyncDynamicResource(self._rest, info)

    async def resource_for_object(self, obj: Mapping[str, Any]) -> AsyncDynamicResource:
        api_version, kind = object_type(obj)
        return await self.resource_for(kind, api_version)

    async def resource_for_kind(self, kind: str, version: str | None = None) -> AsyncDynamicResource:
        name, group = split_kind(kind)
        return AsyncDynamicResource(self._rest, await self.mapper.find(name, group=group, version=version))
