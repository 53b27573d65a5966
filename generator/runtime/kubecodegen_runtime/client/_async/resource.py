"""Generic typed resource clients (async); generated per-resource classes subclass them.

A generated client names its resource and types, and picks a scope base plus one
mixin per subresource the resource has::

    class Deployments(
        AsyncNamespacedResource[Deployment, DeploymentList],
        AsyncWithStatus[Deployment],
        AsyncWithScale[Scale],
    ):
        info = ResourceInfo(group="apps", version="v1", resource="deployments", ...)
        type = Deployment
        list_type = DeploymentList
        scale_type = Scale

Scope is in the types: :class:`AsyncNamespacedResource` is constructed with a
namespace and its methods take none; :class:`AsyncClusterResource` takes none at all;
listing or watching across namespaces goes through :meth:`all_namespaces`, which
returns a read-only :class:`AsyncAllNamespaces`.

Every method is: build a request (``rest/request.py``), send it (the one ``await``),
decode it (``client/ops.py``). Nothing else happens here.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Generic, Literal, TypeVar, overload

from ...applyconfig import KindApplyConfiguration
from ...errors import ApiError, ResourceExpired, Status
from ...meta import ResourceInfo
from ...rest import request as rq
from ...rest.options import (
    FieldValidation,
    PatchType,
    PatchTypeName,
    Preconditions,
    PropagationPolicy,
    ResourceVersionMatch,
    patch_type,
)
from ...watch.event import Bookmark, WatchEvent
from ...watch.watch_list import refuses_watch_list
from .. import ops
from ..ops import PatchBody
from .rest import AsyncRESTClient
from .stream import AsyncEventStream

T = TypeVar("T")
L = TypeVar("L")
S = TypeVar("S")

#: Default page size of :meth:`list_all` (client-go's pager uses the same).
DEFAULT_PAGE_SIZE = 500


class _AsyncScope:
    """What every resource client and subresource mixin shares: where to send."""

    info: ResourceInfo
    _rest: AsyncRESTClient
    _namespace: str | None
    #: The representation to ask for instead of plain JSON, as the ``Accept`` of answers
    #: that are ``(one object or watch events, a list)``; ``None``: JSON. The metadata
    #: client (:mod:`kubecodegen_runtime.metadata`) asks for PartialObjectMetadata here.
    _accept: ClassVar[tuple[str, str] | None] = None

    @property
    def rest(self) -> AsyncRESTClient:
        return self._rest

    def _ask(self, req: rq.Request, *, listing: bool = False) -> rq.Request:
        """``req`` with this client's ``Accept`` (see ``_accept``)."""
        if self._accept is None:
            return req
        return dataclasses.replace(req, accept=self._accept[1 if listing else 0])

    async def _typed(self, req: rq.Request, tp: Any, *, listing: bool = False) -> Any:
        return ops.decode(await self._rest.send(self._ask(req, listing=listing)), tp)

    async def _status(self, req: rq.Request) -> Status:
        return ops.decode_status_body(await self._rest.send(req))


class _AsyncOne(_AsyncScope, Generic[T]):
    """A verb mixin that speaks the resource's object type."""

    type: builtins.type[T]


class _AsyncMany(_AsyncOne[T], Generic[T, L]):
    """A verb mixin that also speaks the resource's list type."""

    list_type: builtins.type[L]


class AsyncCanList(_AsyncMany[T, L]):
    """``list`` (one page) and ``list_all`` (every page)."""

    async def list(
        self,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
        resource_version_match: ResourceVersionMatch | None = None,
        timeout_seconds: int | None = None,
    ) -> L:
        """One list call (one page when ``limit`` is set; pass its continue token on)."""
        req = rq.list_(
            self.info, namespace=self._namespace, label_selector=label_selector,
            field_selector=field_selector, limit=limit, continue_=continue_,
            resource_version=resource_version, resource_version_match=resource_version_match,
            timeout_seconds=timeout_seconds,
        )
        result: L = await self._typed(req, self.list_type, listing=True)
        return result

    async def list_all(
        self,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        resource_version: str | None = None,
        resource_version_match: ResourceVersionMatch | None = None,
        timeout_seconds: int | None = None,
        watch_list: bool = False,
    ) -> AsyncIterator[T]:
        """Every matching object, fetched ``page_size`` at a time following continue tokens.

        As client-go's pager does, a continue token that expires mid-way (the server
        compacted past the list's snapshot: 410) falls back to one full, unpaged list;
        objects already yielded are not yielded again.

        ``watch_list=True`` streams the objects instead, as the initial events of a
        watch-list (:mod:`kubecodegen_runtime.watch.watch_list`; Kubernetes 1.27+), so no
        page is ever built; ``resource_version`` is then a lower bound (NotOlderThan) and
        ``page_size``/``resource_version_match`` do not apply. A server that refuses
        watch-lists is listed in pages instead; a stream that ends before the listing is
        complete is finished by one full list, again without repeats.
        """
        seen = ops.SeenKeys()
        if watch_list:
            try:
                async for item in self._watch_listed(label_selector, field_selector,
                                                     resource_version, timeout_seconds, seen):
                    yield item
                return
            except ops.IncompleteWatchList as exc:
                if exc.refused:  # pages, keeping the watch-list's "not older than"
                    resource_version_match = "NotOlderThan" if resource_version else None
                else:
                    req = rq.list_(self.info, namespace=self._namespace,
                                   label_selector=label_selector, field_selector=field_selector,
                                   timeout_seconds=timeout_seconds)
                    rest: L = await self._typed(req, self.list_type, listing=True)
                    for item in seen.unseen(getattr(rest, "items", None) or ()):
                        yield item
                    return
        page_type = ops.page_type(self.type)
        token: str | None = None
        first = True
        while first or token:
            req = rq.list_(
                self.info, namespace=self._namespace, label_selector=label_selector,
                field_selector=field_selector, limit=page_size, continue_=token,
                resource_version=resource_version if first else None,
                resource_version_match=resource_version_match if first else None,
                timeout_seconds=timeout_seconds,
            )
            first = False
            try:
                page: ops.Page[T] = await self._typed(req, page_type, listing=True)
            except ResourceExpired:
                if token is None:
                    raise  # the first page itself: the caller's resource_version is too old
                req = rq.list_(
                    self.info, namespace=self._namespace, label_selector=label_selector,
                    field_selector=field_selector, timeout_seconds=timeout_seconds,
                )
                page = await self._typed(req, page_type, listing=True)
                for item in seen.unseen(page.items or ()):
                    yield item
                return
            token = page.continue_token
            for item in seen.record(page.items or ()):
                yield item
            # Let go of this page before the next one is fetched and decoded: what the
            # caller kept is all that stays alive, so memory peaks near one page.
            del page


    async def _watch_listed(
        self, label_selector: str | None, field_selector: str | None,
        resource_version: str | None, timeout_seconds: int | None, seen: ops.SeenKeys,
    ) -> AsyncIterator[T]:
        """The objects of a watch-list, up to its initial-events-end bookmark.

        Raises :class:`~..ops.IncompleteWatchList` when the server refused the request
        (before anything was yielded) or the stream ended before the listing was complete.
        """
        req = rq.watch_list(self.info, namespace=self._namespace,
                            label_selector=label_selector, field_selector=field_selector,
                            resource_version=resource_version, timeout_seconds=timeout_seconds)
        decoder = ops.watch_decoder(self.type, max_line=self._rest.limits.max_line_bytes)
        stream = AsyncEventStream(self._rest, self._ask(req), decoder.feed, decoder.close)
        try:
            async with stream:
                async for event in stream:
                    if isinstance(event, Bookmark):
                        if event.initial_events_end:
                            return
                    elif event.type != "DELETED":
                        seen.record((event.object,))
                        yield event.object
        except ApiError as exc:
            if refuses_watch_list(exc) and not seen:
                raise ops.IncompleteWatchList(refused=True) from exc
            raise
        raise ops.IncompleteWatchList(refused=False)


class AsyncCanWatch(_AsyncOne[T]):
    """``watch``: typed change events."""

    @overload
    def watch(
        self,
        *,
        label_selector: str | None = ...,
        field_selector: str | None = ...,
        resource_version: str | None = ...,
        resource_version_match: ResourceVersionMatch | None = ...,
        timeout_seconds: int | None = ...,
        allow_watch_bookmarks: Literal[False] = ...,
        send_initial_events: None = ...,
    ) -> AsyncEventStream[WatchEvent[T]]: ...

    @overload
    def watch(
        self,
        *,
        label_selector: str | None = ...,
        field_selector: str | None = ...,
        resource_version: str | None = ...,
        resource_version_match: ResourceVersionMatch | None = ...,
        timeout_seconds: int | None = ...,
        allow_watch_bookmarks: bool = ...,
        send_initial_events: bool | None = ...,
    ) -> AsyncEventStream[WatchEvent[T] | Bookmark]: ...

    def watch(
        self,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        resource_version_match: ResourceVersionMatch | None = None,
        timeout_seconds: int | None = None,
        allow_watch_bookmarks: bool = False,
        send_initial_events: bool | None = None,
    ) -> AsyncEventStream[WatchEvent[T] | Bookmark]:
        """Stream changes as typed events; iterate it, and close it (or use ``async with``).

        ``Bookmark`` records appear only with ``allow_watch_bookmarks=True``; an ``ERROR``
        event raises its typed error (``ResourceExpired`` for a too-old version).
        """
        req = rq.watch(
            self.info, namespace=self._namespace, label_selector=label_selector,
            field_selector=field_selector, resource_version=resource_version,
            resource_version_match=resource_version_match, timeout_seconds=timeout_seconds,
            allow_watch_bookmarks=allow_watch_bookmarks or None,
            send_initial_events=send_initial_events,
        )
        decoder = ops.watch_decoder(self.type, max_line=self._rest.limits.max_line_bytes)
        return AsyncEventStream(self._rest, self._ask(req), decoder.feed, decoder.close)


class AsyncCanGet(_AsyncOne[T]):
    """``get`` by name."""

    async def get(self, name: str, *, resource_version: str | None = None) -> T:
        """Read one object by name."""
        req = rq.get(self.info, name, namespace=self._namespace, resource_version=resource_version)
        result: T = await self._typed(req, self.type)
        return result


class AsyncCanCreate(_AsyncOne[T]):
    """``create``."""

    async def create(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """Create ``obj``; returns the object as stored (uid, resourceVersion filled in)."""
        ops.check_namespace(obj, self._namespace, "create")
        req = rq.create(
            self.info, ops.encode_object(obj), namespace=self._namespace, dry_run=dry_run,
            field_manager=field_manager, field_validation=field_validation,
        )
        result: T = await self._typed(req, self.type)
        return result


class AsyncCanUpdate(_AsyncOne[T]):
    """``update`` (replace)."""

    async def update(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """Replace the object named by ``obj.metadata.name``.

        With ``metadata.resourceVersion`` set, a concurrent change raises ``Conflict``.
        """
        ops.check_namespace(obj, self._namespace, "update")
        req = rq.update(
            self.info, ops.name_of(obj, "update"), ops.encode_object(obj),
            namespace=self._namespace, dry_run=dry_run, field_manager=field_manager,
            field_validation=field_validation,
        )
        result: T = await self._typed(req, self.type)
        return result


class AsyncCanPatch(_AsyncOne[T]):
    """``patch``: JSON, merge, strategic-merge or apply patches."""

    async def patch(
        self,
        name: str,
        body: PatchBody,
        *,
        patch_type: PatchType | PatchTypeName = PatchType.MERGE,
        dry_run: bool = False,
        field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
        force: bool | None = None,
    ) -> T:
        """Patch by name: ``json`` (operation list), ``merge``, ``strategic`` or ``apply``."""
        kind = _patch_type(patch_type)
        req = rq.patch(
            self.info, name, ops.encode_patch(body, kind), kind, namespace=self._namespace,
            dry_run=dry_run, field_manager=field_manager, field_validation=field_validation,
            force=force,
        )
        result: T = await self._typed(req, self.type)
        return result


class AsyncCanApply(_AsyncOne[T]):
    """``apply``: server-side apply of an apply configuration of the resource's kind (the
    fields its manager owns, see ``kubecodegen_runtime.applyconfig``) or of a whole object."""

    async def apply(
        self,
        obj: T | KindApplyConfiguration[T],
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """Server-side apply ``obj`` as ``field_manager``; ``force`` takes over conflicts."""
        ops.check_namespace(obj, self._namespace, "apply")
        req = rq.apply(
            self.info, ops.name_of(obj, "apply"), ops.encode_object(obj),
            field_manager=field_manager, force=force, namespace=self._namespace,
            dry_run=dry_run, field_validation=field_validation,
        )
        result: T = await self._typed(req, self.type)
        return result


class AsyncCanDelete(_AsyncOne[T]):
    """``delete`` by name."""

    async def delete(
        self,
        name: str,
        *,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Preconditions | None = None,
        dry_run: bool = False,
    ) -> T | Status:
        """Delete by name; returns what the server returns: a Status, or the object when
        deletion is graceful or blocked by finalizers."""
        req = rq.delete(
            self.info, name, namespace=self._namespace, propagation_policy=propagation_policy,
            grace_period_seconds=grace_period_seconds, preconditions=preconditions,
            dry_run=dry_run,
        )
        result: T | Status = ops.decode_or_status(await self._rest.send(self._ask(req)),
                                                  self.type)
        return result


class AsyncCanDeleteCollection(_AsyncMany[T, L]):
    """``delete_collection`` by selector."""

    async def delete_collection(
        self,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        propagation_policy: PropagationPolicy | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
        timeout_seconds: int | None = None,
    ) -> L | Status:
        """Delete every matching object in scope; returns the deleted list or a Status."""
        req = rq.delete_collection(
            self.info, namespace=self._namespace, label_selector=label_selector,
            field_selector=field_selector, propagation_policy=propagation_policy,
            grace_period_seconds=grace_period_seconds, dry_run=dry_run,
            timeout_seconds=timeout_seconds,
        )
        result: L | Status = ops.decode_or_status(
            await self._rest.send(self._ask(req, listing=True)), self.list_type)
        return result


class _AsyncReadable(AsyncCanList[T, L], AsyncCanWatch[T]):
    """list / list_all / watch: the reads that also work across namespaces."""


class AsyncResource(
    AsyncCanGet[T],
    AsyncCanList[T, L],
    AsyncCanWatch[T],
    AsyncCanCreate[T],
    AsyncCanUpdate[T],
    AsyncCanPatch[T],
    AsyncCanApply[T],
    AsyncCanDelete[T],
    AsyncCanDeleteCollection[T, L],
):
    """All verbs on one resource in one scope (namespace or cluster).

    Generated clients of resources that serve every standard verb use this; the others
    compose only the ``AsyncCan*`` mixins of the verbs the server offers, so calling a
    verb the server lacks is a type error instead of a 405.
    """


def _patch_type(value: PatchType | PatchTypeName) -> PatchType:
    return patch_type(value)


class AsyncAllNamespaces(_AsyncReadable[T, L]):
    """list / list_all / watch of a namespaced resource across every namespace."""

    def __init__(self, rest: AsyncRESTClient, info: ResourceInfo,
                 type: builtins.type[T], list_type: builtins.type[L]) -> None:
        self._rest = rest
        self._namespace = None
        self.info = info
        self.type = type
        self.list_type = list_type


class AsyncNamespacedScope(_AsyncMany[T, L]):
    """Bound to one namespace (``config_maps("default")``); verbs come from mixins."""

    def __init__(self, rest: AsyncRESTClient, namespace: str) -> None:
        rq.check_segment(namespace, "namespace")
        self._rest = rest
        self._namespace = namespace

    @property
    def namespace(self) -> str:
        assert self._namespace is not None
        return self._namespace

    @classmethod
    def all_namespaces(cls, rest: AsyncRESTClient) -> AsyncAllNamespaces[T, L]:
        """The read-only view of this resource across all namespaces."""
        return AsyncAllNamespaces(rest, cls.info, cls.type, cls.list_type)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(namespace={self._namespace!r})"


class AsyncClusterScope(_AsyncMany[T, L]):
    """Cluster-scoped: no namespace anywhere; verbs come from mixins."""

    def __init__(self, rest: AsyncRESTClient) -> None:
        self._rest = rest
        self._namespace = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AsyncNamespacedResource(AsyncNamespacedScope[T, L], AsyncResource[T, L]):
    """A namespaced resource with every standard verb."""


class AsyncClusterResource(AsyncClusterScope[T, L], AsyncResource[T, L]):
    """A cluster-scoped resource with every standard verb."""


# --- subresource mixins ---------------------------------------------------------------


class _AsyncWholeObjectSubresource(_AsyncScope, Generic[T]):
    """A subresource that reads and writes the resource's own type (``status``,
    ``resize``): one implementation of get/update/patch, named per subresource."""

    type: builtins.type[T]

    async def _get_sub(self, name: str, subresource: str) -> T:
        result: T = await self._typed(
            rq.get(self.info, name, namespace=self._namespace, subresource=subresource), self.type
        )
        return result

    async def _update_sub(
        self, obj: T, subresource: str, verb: str, *, dry_run: bool, field_manager: str | None,
        field_validation: FieldValidation | None,
    ) -> T:
        req = rq.update(
            self.info, ops.name_of(obj, verb), ops.encode_object(obj),
            namespace=self._namespace, subresource=subresource, dry_run=dry_run,
            field_manager=field_manager, field_validation=field_validation,
        )
        result: T = await self._typed(req, self.type)
        return result

    async def _patch_sub(
        self, name: str, body: PatchBody, subresource: str, *,
        patch_type: PatchType | PatchTypeName, dry_run: bool, field_manager: str | None,
        field_validation: FieldValidation | None, force: bool | None,
    ) -> T:
        kind = _patch_type(patch_type)
        req = rq.patch(
            self.info, name, ops.encode_patch(body, kind), kind, namespace=self._namespace,
            subresource=subresource, dry_run=dry_run, field_manager=field_manager,
            field_validation=field_validation, force=force,
        )
        result: T = await self._typed(req, self.type)
        return result


class AsyncWithStatus(_AsyncWholeObjectSubresource[T]):
    """The ``status`` subresource: read and write status without touching spec."""

    async def get_status(self, name: str) -> T:
        return await self._get_sub(name, "status")

    async def update_status(
        self, obj: T, *, dry_run: bool = False, field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """Replace the status of ``obj`` (its spec changes are ignored by the server)."""
        return await self._update_sub(obj, "status", "update_status", dry_run=dry_run,
                                      field_manager=field_manager,
                                      field_validation=field_validation)

    async def patch_status(
        self, name: str, body: PatchBody, *,
        patch_type: PatchType | PatchTypeName = PatchType.MERGE, dry_run: bool = False,
        field_manager: str | None = None, field_validation: FieldValidation | None = None,
        force: bool | None = None,
    ) -> T:
        return await self._patch_sub(name, body, "status", patch_type=patch_type,
                                     dry_run=dry_run, field_manager=field_manager,
                                     field_validation=field_validation, force=force)

    async def apply_status(
        self, obj: T | KindApplyConfiguration[T], *, field_manager: str, force: bool = False, dry_run: bool = False,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """Server-side apply to the status subresource (an apply configuration, or an object)."""
        req = rq.apply(
            self.info, ops.name_of(obj, "apply_status"), ops.encode_object(obj),
            field_manager=field_manager, force=force, namespace=self._namespace,
            subresource="status", dry_run=dry_run, field_validation=field_validation,
        )
        result: T = await self._typed(req, self.type)
        return result


class AsyncWithResize(_AsyncWholeObjectSubresource[T]):
    """The pods ``resize`` subresource (Kubernetes 1.33+): change a running pod's container
    resources in place; it speaks the Pod itself, like ``status``."""

    async def get_resize(self, name: str) -> T:
        return await self._get_sub(name, "resize")

    async def update_resize(
        self, obj: T, *, dry_run: bool = False, field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> T:
        """Replace the resources of ``obj``'s containers (other changes are refused)."""
        return await self._update_sub(obj, "resize", "update_resize", dry_run=dry_run,
                                      field_manager=field_manager,
                                      field_validation=field_validation)

    async def patch_resize(
        self, name: str, body: PatchBody, *,
        patch_type: PatchType | PatchTypeName = PatchType.STRATEGIC, dry_run: bool = False,
        field_manager: str | None = None, field_validation: FieldValidation | None = None,
    ) -> T:
        return await self._patch_sub(name, body, "resize", patch_type=patch_type,
                                     dry_run=dry_run, field_manager=field_manager,
                                     field_validation=field_validation, force=None)


class AsyncWithScale(_AsyncScope, Generic[S]):
    """The ``scale`` subresource; ``scale_type`` is the Scale kind it speaks."""

    scale_type: builtins.type[S]

    async def get_scale(self, name: str) -> S:
        result: S = await self._typed(
            rq.get(self.info, name, namespace=self._namespace, subresource="scale"),
            self.scale_type,
        )
        return result

    async def update_scale(
        self, name: str, scale: S, *, dry_run: bool = False, field_manager: str | None = None,
        field_validation: FieldValidation | None = None,
    ) -> S:
        req = rq.update(
            self.info, name, ops.encode_object(scale), namespace=self._namespace,
            subresource="scale", dry_run=dry_run, field_manager=field_manager,
            field_validation=field_validation,
        )
        result: S = await self._typed(req, self.scale_type)
        return result

    async def patch_scale(
        self, name: str, body: PatchBody, *,
        patch_type: PatchType | PatchTypeName = PatchType.MERGE, dry_run: bool = False,
        field_manager: str | None = None, field_validation: FieldValidation | None = None,
    ) -> S:
        kind = _patch_type(patch_type)
        req = rq.patch(
            self.info, name, ops.encode_patch(body, kind), kind, namespace=self._namespace,
            subresource="scale", dry_run=dry_run, field_manager=field_manager,
            field_validation=field_validation,
        )
        result: S = await self._typed(req, self.scale_type)
        return result


class AsyncWithEviction(_AsyncScope, Generic[S]):
    """``pods/eviction``: evict a pod, honouring PodDisruptionBudgets (429 if blocked)."""

    async def evict(self, name: str, eviction: S, *, dry_run: bool = False) -> Status:
        req = rq.create(
            self.info, ops.encode_object(eviction), namespace=self._namespace, name=name,
            subresource="eviction", dry_run=dry_run,
        )
        return await self._status(req)


class AsyncWithBinding(_AsyncScope, Generic[S]):
    """``pods/binding``: assign a pod to a node (what a scheduler does)."""

    async def bind(self, name: str, binding: S, *, dry_run: bool = False) -> Status:
        req = rq.create(
            self.info, ops.encode_object(binding), namespace=self._namespace, name=name,
            subresource="binding", dry_run=dry_run,
        )
        return await self._status(req)


class AsyncWithToken(_AsyncScope, Generic[S]):
    """``serviceaccounts/token``: mint a bound token; ``token_request_type`` is TokenRequest."""

    token_request_type: builtins.type[S]

    async def create_token(self, name: str, token_request: S, *, dry_run: bool = False) -> S:
        req = rq.create(
            self.info, ops.encode_object(token_request), namespace=self._namespace, name=name,
            subresource="token", dry_run=dry_run,
        )
        result: S = await self._typed(req, self.token_request_type)
        return result


class AsyncWithApproval(_AsyncScope, Generic[T]):
    """``certificatesigningrequests/approval``: approve or deny via status conditions."""

    type: builtins.type[T]

    async def update_approval(
        self, obj: T, *, dry_run: bool = False, field_manager: str | None = None
    ) -> T:
        req = rq.update(
            self.info, ops.name_of(obj, "update_approval"), ops.encode_object(obj),
            namespace=self._namespace, subresource="approval", dry_run=dry_run,
            field_manager=field_manager,
        )
        result: T = await self._typed(req, self.type)
        return result


class AsyncWithFinalize(_AsyncScope, Generic[T]):
    """``namespaces/finalize``: rewrite ``spec.finalizers`` of a terminating namespace."""

    type: builtins.type[T]

    async def finalize(
        self, obj: T, *, dry_run: bool = False, field_manager: str | None = None
    ) -> T:
        req = rq.update(
            self.info, ops.name_of(obj, "finalize"), ops.encode_object(obj),
            namespace=self._namespace, subresource="finalize", dry_run=dry_run,
            field_manager=field_manager,
        )
        result: T = await self._typed(req, self.type)
        return result


class AsyncWithEphemeralContainers(_AsyncScope, Generic[S]):
    """``pods/ephemeralcontainers``; ``ephemeral_containers_type`` is what the server
    speaks there (``EphemeralContainers`` up to 1.21, ``Pod`` from 1.22)."""

    ephemeral_containers_type: builtins.type[S]

    async def get_ephemeral_containers(self, name: str) -> S:
        result: S = await self._typed(
            rq.get(self.info, name, namespace=self._namespace, subresource="ephemeralcontainers"),
            self.ephemeral_containers_type,
        )
        return result

    async def update_ephemeral_containers(
        self, name: str, obj: S, *, dry_run: bool = False, field_manager: str | None = None
    ) -> S:
        req = rq.update(
            self.info, name, ops.encode_object(obj), namespace=self._namespace,
            subresource="ephemeralcontainers", dry_run=dry_run, field_manager=field_manager,
        )
        result: S = await self._typed(req, self.ephemeral_containers_type)
        return result

    async def patch_ephemeral_containers(
        self, name: str, body: PatchBody, *,
        patch_type: PatchType | PatchTypeName = PatchType.STRATEGIC, dry_run: bool = False,
        field_manager: str | None = None,
    ) -> S:
        kind = _patch_type(patch_type)
        req = rq.patch(
            self.info, name, ops.encode_patch(body, kind), kind, namespace=self._namespace,
            subresource="ephemeralcontainers", dry_run=dry_run, field_manager=field_manager,
        )
        result: S = await self._typed(req, self.ephemeral_containers_type)
        return result


class AsyncWithLog(_AsyncScope):
    """``pods/log``: a container's log as one text, or followed line by line."""

    async def get_log(
        self,
        name: str,
        *,
        container: str | None = None,
        previous: bool | None = None,
        since_seconds: int | None = None,
        since_time: str | None = None,
        timestamps: bool | None = None,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
    ) -> str:
        req = rq.log(
            self.info, name, namespace=self._require_namespace(), container=container,
            previous=previous, since_seconds=since_seconds, since_time=since_time,
            timestamps=timestamps, tail_lines=tail_lines, limit_bytes=limit_bytes,
        )
        return ops.decode_text(await self._rest.send(req))

    def stream_log(
        self,
        name: str,
        *,
        container: str | None = None,
        follow: bool = True,
        previous: bool | None = None,
        since_seconds: int | None = None,
        since_time: str | None = None,
        timestamps: bool | None = None,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
    ) -> AsyncEventStream[str]:
        """Lines of the log as they are written (``follow=True``) or as they are."""
        req = rq.log(
            self.info, name, namespace=self._require_namespace(), container=container,
            follow=follow, previous=previous, since_seconds=since_seconds,
            since_time=since_time, timestamps=timestamps, tail_lines=tail_lines,
            limit_bytes=limit_bytes,
        )
        req = rq.Request(req.method, req.path, req.params, accept=req.accept, stream=True)
        lines = ops.LineDecoder(self._rest.limits.max_line_bytes)
        return AsyncEventStream(self._rest, req, lines.feed, lines.close)

    def _require_namespace(self) -> str:
        if self._namespace is None:
            raise ValueError("pod logs need a namespace-bound client")
        return self._namespace
