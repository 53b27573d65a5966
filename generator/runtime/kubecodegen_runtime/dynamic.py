"""Untyped clients for any resource: objects are plain ``dict`` values.

``DynamicClient(rest).resource(gvr)`` addresses a collection by group/version/resource;
``.namespace(ns)`` binds it to a namespace. Every verb is the typed client's own
(get, list, list_all, watch, create, update, patch, apply, delete, delete_collection),
instantiated with ``dict`` as the object and list type, so dynamic and typed clients
share one implementation. ``resource_for_kind`` finds the resource through discovery.
"""

from __future__ import annotations

from typing import Any

from .client._async.resource import AsyncClusterResource, AsyncNamespacedResource, AsyncWithStatus
from .client._async.rest import AsyncRESTClient
from .client._sync.resource import ClusterResource, NamespacedResource, WithStatus
from .client._sync.rest import RESTClient
from .discovery import AsyncDiscoveryClient, DiscoveryClient
from .meta import GroupVersionResource, ResourceInfo

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

    def resource(self, target: GroupVersionResource | ResourceInfo) -> DynamicResource:
        info = target if isinstance(target, ResourceInfo) else resource_info(target, namespaced=True)
        return DynamicResource(self._rest, info)

    def resource_for_kind(self, kind: str, version: str | None = None) -> DynamicResource:
        """Resolve ``kind`` (``"Deployment"``, ``"Deployment.apps"``) through discovery."""
        return DynamicResource(self._rest, self.discovery.resolve_kind(kind, version))


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

    def resource(self, target: GroupVersionResource | ResourceInfo) -> AsyncDynamicResource:
        info = target if isinstance(target, ResourceInfo) else resource_info(target, namespaced=True)
        return AsyncDynamicResource(self._rest, info)

    async def resource_for_kind(self, kind: str, version: str | None = None) -> AsyncDynamicResource:
        return AsyncDynamicResource(self._rest, await self.discovery.resolve_kind(kind, version))
