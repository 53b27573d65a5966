"""Metadata-only clients for any resource: client-go's ``k8s.io/client-go/metadata``.

``MetadataClient(rest).resource(gvr)`` addresses a collection by group/version/resource,
``.namespace(ns)`` binds it to one namespace; the verbs are get, list, list_all (paged),
watch, patch, delete and delete_collection, and every answer is metadata only
(:class:`~.types.PartialObjectMetadata`, lists :class:`~.types.PartialObjectMetadataList`).

There is no REST code here: these are the generic resource clients of
:mod:`kubecodegen_runtime.client` instantiated with the PartialObjectMetadata types and
with their ``_accept`` set to the PartialObjectMetadata media types, so paging, the
expired-continue fallback, watch decoding, retries and errors are the typed clients'.
The answers' kinds are checked as for any typed client: a server that sends the full
object (or a Table) instead raises :class:`~..errors.UnexpectedKind`.

Creating and replacing objects is not offered (a metadata-only body cannot create an
object); patches are: a merge, JSON or strategic-merge patch of ``metadata`` (labels,
annotations, finalizers, ownerReferences) works on any resource, and the answer is the
patched object's metadata. (Strategic merge is for built-in kinds only; custom resources
refuse it with 415, as they do for every client.)
"""

from __future__ import annotations

from ..client._async.resource import (
    AsyncCanDelete,
    AsyncCanDeleteCollection,
    AsyncCanGet,
    AsyncCanList,
    AsyncCanPatch,
    AsyncCanWatch,
    AsyncClusterScope,
    AsyncNamespacedScope,
)
from ..client._async.rest import AsyncRESTClient
from ..client._sync.resource import (
    CanDelete,
    CanDeleteCollection,
    CanGet,
    CanList,
    CanPatch,
    CanWatch,
    ClusterScope,
    NamespacedScope,
)
from ..client._sync.rest import RESTClient
from ..dynamic import resource_info
from ..meta import GroupVersionResource, ResourceInfo
from .types import ACCEPT_LIST, ACCEPT_OBJECT, PartialObjectMetadata, PartialObjectMetadataList

_ACCEPT = (ACCEPT_OBJECT, ACCEPT_LIST)

Item = PartialObjectMetadata
Items = PartialObjectMetadataList


def _info(target: GroupVersionResource | ResourceInfo) -> ResourceInfo:
    return target if isinstance(target, ResourceInfo) else resource_info(target, namespaced=True)


class MetadataNamespacedResource(
    NamespacedScope[Item, Items], CanGet[Item], CanList[Item, Items], CanWatch[Item],
    CanPatch[Item], CanDelete[Item], CanDeleteCollection[Item, Items],
):
    """Metadata of one namespace of any namespaced resource."""

    _accept = _ACCEPT
    type = PartialObjectMetadata
    list_type = PartialObjectMetadataList

    def __init__(self, rest: RESTClient, info: ResourceInfo, namespace: str) -> None:
        super().__init__(rest, namespace)
        self.info = resource_info(info, namespaced=True)


class MetadataResource(
    ClusterScope[Item, Items], CanGet[Item], CanList[Item, Items], CanWatch[Item],
    CanPatch[Item], CanDelete[Item], CanDeleteCollection[Item, Items],
):
    """Metadata of a resource without a namespace: cluster-scoped objects, or every
    namespace of a namespaced resource. :meth:`namespace` narrows to one namespace."""

    _accept = _ACCEPT
    type = PartialObjectMetadata
    list_type = PartialObjectMetadataList

    def __init__(self, rest: RESTClient, info: ResourceInfo) -> None:
        super().__init__(rest)
        self.info = resource_info(info, namespaced=False)
        self.namespaced = info.namespaced

    def namespace(self, namespace: str) -> MetadataNamespacedResource:
        return MetadataNamespacedResource(self._rest, self.info, namespace)


class MetadataClient:
    """Entry point: ``MetadataClient(rest).resource(gvr).namespace("ns").get("name")``.

    ``rest`` is shared (connection pool, rate limiter, retry policy); a ClientSet's
    ``.rest`` serves.
    """

    def __init__(self, rest: RESTClient) -> None:
        self._rest = rest

    @property
    def rest(self) -> RESTClient:
        return self._rest

    def resource(self, target: GroupVersionResource | ResourceInfo) -> MetadataResource:
        return MetadataResource(self._rest, _info(target))


class AsyncMetadataNamespacedResource(
    AsyncNamespacedScope[Item, Items], AsyncCanGet[Item], AsyncCanList[Item, Items],
    AsyncCanWatch[Item], AsyncCanPatch[Item], AsyncCanDelete[Item],
    AsyncCanDeleteCollection[Item, Items],
):
    """Async twin of :class:`MetadataNamespacedResource`."""

    _accept = _ACCEPT
    type = PartialObjectMetadata
    list_type = PartialObjectMetadataList

    def __init__(self, rest: AsyncRESTClient, info: ResourceInfo, namespace: str) -> None:
        super().__init__(rest, namespace)
        self.info = resource_info(info, namespaced=True)


class AsyncMetadataResource(
    AsyncClusterScope[Item, Items], AsyncCanGet[Item], AsyncCanList[Item, Items],
    AsyncCanWatch[Item], AsyncCanPatch[Item], AsyncCanDelete[Item],
    AsyncCanDeleteCollection[Item, Items],
):
    """Async twin of :class:`MetadataResource`."""

    _accept = _ACCEPT
    type = PartialObjectMetadata
    list_type = PartialObjectMetadataList

    def __init__(self, rest: AsyncRESTClient, info: ResourceInfo) -> None:
        super().__init__(rest)
        self.info = resource_info(info, namespaced=False)
        self.namespaced = info.namespaced

    def namespace(self, namespace: str) -> AsyncMetadataNamespacedResource:
        return AsyncMetadataNamespacedResource(self._rest, self.info, namespace)


class AsyncMetadataClient:
    """Async twin of :class:`MetadataClient`."""

    def __init__(self, rest: AsyncRESTClient) -> None:
        self._rest = rest

    @property
    def rest(self) -> AsyncRESTClient:
        return self._rest

    def resource(self, target: GroupVersionResource | ResourceInfo) -> AsyncMetadataResource:
        return AsyncMetadataResource(self._rest, _info(target))
