"""Shared informer factories: at most one informer (one list/watch) per resource and type.

Controllers ask the factory for the informers they need; parts of a program that ask for
the same resource get the same informer, so the API server sees one LIST+WATCH per
resource however many handlers and listers use it. The factory's options (namespace,
label and field selectors, resync period, transform) apply to every informer it makes;
a namespace narrows only namespaced resources.

``informer_for(ResourceClientClass)`` serves typed objects: the class's ``info``
(:class:`~..meta.ResourceInfo`) says what to watch and its ``type`` what to decode into
(generated per-resource clients have both). ``for_resource(gvr)`` finds the resource
through discovery and serves plain ``dict`` objects: custom resources, or anything
without generated code. ``for_metadata(gvr)`` serves
:class:`~..metadata.PartialObjectMetadata`: its LIST and WATCH ask the server for the
objects' metadata only (client-go's ``metadatainformer``), so a controller that needs
names, labels and owners of many objects never holds their data. Informers are keyed by
(group, version, resource, object type), so a typed, a dynamic and a metadata informer
of the same resource are distinct (and each makes its own LIST+WATCH).

Informers requested after :meth:`SharedInformerFactory.start` are started by the next
``start()`` call, as in client-go.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from ..client._async.rest import AsyncRESTClient
from ..client._sync.rest import RESTClient
from ..discovery import AsyncDiscoveryClient, DiscoveryClient, ResourceNotFound
from ..fields import FieldSelector
from ..meta import GroupVersionResource, ResourceInfo
from ..metadata.types import ACCEPT_LIST, ACCEPT_OBJECT, PartialObjectMetadata
from .informer import AsyncSharedInformer, LabelSelectorLike, SharedInformer
from .reflector import Accept
from .transform import TransformFunc

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Rest_co = TypeVar("Rest_co", covariant=True)

Obj = dict[str, Any]
"""The object type of dynamic informers."""

_Key = tuple[str, str, str, Any]


class ResourceClass(Protocol[T_co]):
    """A (generated) resource client class: what to watch and what to decode into."""

    info: ResourceInfo

    @property
    def type(self) -> type[T_co]: ...


class HasRest(Protocol[Rest_co]):
    """Anything holding a RESTClient as ``.rest``: every generated package's ClientSet.

    Structural, so a factory accepts the ClientSet of any package generated against this
    runtime (built-ins and CRD packages share one connection pool and rate limiter).
    """

    @property
    def rest(self) -> Rest_co: ...


ClientLike = RESTClient | HasRest[RESTClient]
"""What :class:`SharedInformerFactory` accepts: a RESTClient or a ClientSet."""

AsyncClientLike = AsyncRESTClient | HasRest[AsyncRESTClient]
"""What :class:`AsyncSharedInformerFactory` accepts: an AsyncRESTClient or an AsyncClientSet."""

Rest = TypeVar("Rest", RESTClient, AsyncRESTClient)


def _key(info: ResourceInfo, item_type: Any) -> _Key:
    return (info.group, info.version, info.resource, item_type)


def _accept(item_type: Any) -> Accept | None:
    """What the informer of ``item_type`` asks the server for: PartialObjectMetadata for
    metadata informers (whichever method made them), JSON for everything else."""
    return (ACCEPT_OBJECT, ACCEPT_LIST) if item_type is PartialObjectMetadata else None


def _find(target: GroupVersionResource, resources: list[Any]) -> ResourceInfo | None:
    for res in resources:
        info: ResourceInfo = res.info
        if info.resource == target.resource:
            return info
    return None


def _not_served(target: GroupVersionResource) -> ResourceNotFound:
    return ResourceNotFound(
        f"the server does not serve {target.resource!r} in {target.api_version!r}")


class _FactoryOptions:
    """Options shared by both factories and passed to every informer."""

    def __init__(self, *, resync_period: float, namespace: str | None,
                 label_selector: LabelSelectorLike, field_selector: FieldSelector | str | None,
                 transform: TransformFunc[Any] | None, strip_managed_fields: bool,
                 page_size: int | None, min_watch_timeout: float, watch_list: bool) -> None:
        self.options: dict[str, Any] = {
            "resync_period": resync_period,
            "namespace": namespace,
            "label_selector": label_selector,
            "field_selector": field_selector,
            "transform": transform,
            "strip_managed_fields": strip_managed_fields,
            "page_size": page_size,
            "min_watch_timeout": min_watch_timeout,
            "watch_list": watch_list,
        }


def _rest_of(client: object, kind: type[Rest]) -> Rest:
    """The RESTClient itself, or the ``.rest`` of a ClientSet; checked at run time too,
    because callers that are not type-checked pass anything."""
    rest = client if isinstance(client, kind) else getattr(client, "rest", None)
    if not isinstance(rest, kind):
        raise TypeError(
            f"expected a {kind.__name__} or an object with a .rest {kind.__name__} "
            f"(a ClientSet), got {type(client).__name__}")
    return rest


class SharedInformerFactory(_FactoryOptions):
    """Thread-based informers sharing one :class:`~..client.RESTClient`.

    ``client`` is a RESTClient or a ClientSet-like object with ``.rest``. Set
    ``strip_managed_fields=True`` (or a ``transform``) to shrink what is cached.
    """

    def __init__(
        self,
        client: ClientLike,
        *,
        resync_period: float = 0.0,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: FieldSelector | str | None = None,
        transform: TransformFunc[Any] | None = None,
        strip_managed_fields: bool = False,
        page_size: int | None = 500,
        min_watch_timeout: float = 300.0,
        watch_list: bool = False,
    ) -> None:
        super().__init__(resync_period=resync_period, namespace=namespace,
                         label_selector=label_selector, field_selector=field_selector,
                         transform=transform, strip_managed_fields=strip_managed_fields,
                         page_size=page_size, min_watch_timeout=min_watch_timeout,
                         watch_list=watch_list)
        self.rest: RESTClient = _rest_of(client, RESTClient)
        self._informers: dict[_Key, SharedInformer[Any]] = {}
        self._discovery: DiscoveryClient | None = None
        self._shut_down = False

    def informer(self, info: ResourceInfo, item_type: type[T]) -> SharedInformer[T]:
        """The shared informer for ``info`` decoding into ``item_type`` (made on first use)."""
        if self._shut_down:
            raise RuntimeError("the factory was shut down")
        key = _key(info, item_type)
        found = self._informers.get(key)
        if found is None:
            found = SharedInformer(self.rest, info, item_type, accept=_accept(item_type),
                                   **self.options)
            self._informers[key] = found
        return found

    def informer_for(self, resource: ResourceClass[T]) -> SharedInformer[T]:
        """The shared typed informer for a resource client class (``info`` + ``type``)."""
        return self.informer(resource.info, resource.type)

    def for_resource(self, target: GroupVersionResource | ResourceInfo) -> SharedInformer[Obj]:
        """A dynamic (``dict``) informer; a GVR is resolved through discovery.

        Raises :class:`~..discovery.ResourceNotFound` if the server does not serve it.
        """
        return self.informer(self._resolve(target), dict)

    def for_metadata(
        self, target: GroupVersionResource | ResourceInfo
    ) -> SharedInformer[PartialObjectMetadata]:
        """A metadata informer: its cache holds the objects' metadata only (client-go's
        ``metadatainformer``); a GVR is resolved through discovery, as for
        :meth:`for_resource`. Its lister and handlers see
        :class:`~..metadata.PartialObjectMetadata`.
        """
        return self.informer(self._resolve(target), PartialObjectMetadata)

    def _resolve(self, target: GroupVersionResource | ResourceInfo) -> ResourceInfo:
        if isinstance(target, ResourceInfo):
            return target
        if self._discovery is None:
            self._discovery = DiscoveryClient(self.rest)
        info = _find(target, self._discovery.server_resources(target.api_version))
        if info is None:  # maybe a CRD newer than the discovery cache
            self._discovery.invalidate()
            info = _find(target, self._discovery.server_resources(target.api_version))
        if info is None:
            raise _not_served(target)
        return info

    @property
    def informers(self) -> Mapping[_Key, SharedInformer[Any]]:
        return dict(self._informers)

    def start(self) -> None:
        """Start every informer made so far that is not running yet."""
        for informer in list(self._informers.values()):
            informer.start()

    def wait_for_cache_sync(self, timeout: float | None = None) -> bool:
        """Block until every started informer has synced; False if ``timeout`` ran out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for informer in list(self._informers.values()):
            if not informer.started or informer.stopped:
                continue  # as client-go: only informers that run are waited for
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not informer.wait_for_sync(left):
                return False
        return True

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop every informer and wait for their threads; False if one did not end."""
        self._shut_down = True
        deadline = time.monotonic() + timeout
        clean = True
        for informer in list(self._informers.values()):
            clean &= informer.stop(max(0.0, deadline - time.monotonic()))
        return clean


class AsyncSharedInformerFactory(_FactoryOptions):
    """The asyncio twin: informers on one :class:`~..client.AsyncRESTClient`.

    ``start()`` needs a running loop; ``await wait_for_cache_sync()``,
    ``await for_resource(gvr)`` (discovery is a request) and ``await shutdown()``.
    """

    def __init__(
        self,
        client: AsyncClientLike,
        *,
        resync_period: float = 0.0,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: FieldSelector | str | None = None,
        transform: TransformFunc[Any] | None = None,
        strip_managed_fields: bool = False,
        page_size: int | None = 500,
        min_watch_timeout: float = 300.0,
        watch_list: bool = False,
    ) -> None:
        super().__init__(resync_period=resync_period, namespace=namespace,
                         label_selector=label_selector, field_selector=field_selector,
                         transform=transform, strip_managed_fields=strip_managed_fields,
                         page_size=page_size, min_watch_timeout=min_watch_timeout,
                         watch_list=watch_list)
        self.rest: AsyncRESTClient = _rest_of(client, AsyncRESTClient)
        self._informers: dict[_Key, AsyncSharedInformer[Any]] = {}
        self._discovery: AsyncDiscoveryClient | None = None
        self._shut_down = False

    def informer(self, info: ResourceInfo, item_type: type[T]) -> AsyncSharedInformer[T]:
        if self._shut_down:
            raise RuntimeError("the factory was shut down")
        key = _key(info, item_type)
        found = self._informers.get(key)
        if found is None:
            found = AsyncSharedInformer(self.rest, info, item_type, accept=_accept(item_type),
                                        **self.options)
            self._informers[key] = found
        return found

    def informer_for(self, resource: ResourceClass[T]) -> AsyncSharedInformer[T]:
        return self.informer(resource.info, resource.type)

    async def for_resource(
        self, target: GroupVersionResource | ResourceInfo
    ) -> AsyncSharedInformer[Obj]:
        return self.informer(await self._resolve(target), dict)

    async def for_metadata(
        self, target: GroupVersionResource | ResourceInfo
    ) -> AsyncSharedInformer[PartialObjectMetadata]:
        """The metadata informer (see :meth:`SharedInformerFactory.for_metadata`); a
        coroutine like :meth:`for_resource`, because a GVR may need discovery."""
        return self.informer(await self._resolve(target), PartialObjectMetadata)

    async def _resolve(self, target: GroupVersionResource | ResourceInfo) -> ResourceInfo:
        if isinstance(target, ResourceInfo):
            return target
        if self._discovery is None:
            self._discovery = AsyncDiscoveryClient(self.rest)
        info = _find(target, await self._discovery.server_resources(target.api_version))
        if info is None:
            self._discovery.invalidate()
            info = _find(target, await self._discovery.server_resources(target.api_version))
        if info is None:
            raise _not_served(target)
        return info

    @property
    def informers(self) -> Mapping[_Key, AsyncSharedInformer[Any]]:
        return dict(self._informers)

    def start(self) -> None:
        for informer in list(self._informers.values()):
            informer.start()

    async def wait_for_cache_sync(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        for informer in list(self._informers.values()):
            if not informer.started or informer.stopped:
                continue  # as client-go: only informers that run are waited for
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not await informer.wait_for_sync(left):
                return False
        return True

    async def shutdown(self) -> None:
        """Stop every informer and await its tasks."""
        self._shut_down = True
        for informer in list(self._informers.values()):
            await informer.stop()
