"""Reflectors: the I/O loops that drive a :class:`~.watcher.Watcher` against the API server.

Every decision (which resourceVersion to list or watch from, when to relist, when to back
off, what a 410 means) is the pure watcher's; every cache write and notification is
:class:`~.delta.DeltaProcessor`'s. A reflector only sends the requests the watcher asks
for, feeds back what came of them, sleeps the backoff delays, and hands the resulting
notifications to its informer. There are two, line for line the same loop:

* :class:`Reflector` -- a blocking loop for a thread, over :class:`~..client.RESTClient`;
  backoff waits on a :class:`threading.Event`, and requests go over connections of its
  own (:mod:`.connection`), so :meth:`Reflector.stop` interrupts a backoff wait, a LIST
  or a WATCH in flight, stalled or not.
* :class:`AsyncReflector` -- a coroutine over :class:`~..client.AsyncRESTClient`; it stops
  when its task is cancelled (which cancels the request in flight).

The watcher's :class:`~.watcher.ListRequest` / :class:`~.watcher.WatchRequest` records
become HTTP requests through :mod:`..rest.request` (the one place requests are built, as
for typed clients); list pages and watch lines are decoded
by :class:`~.tolerant.TolerantDecoder` (typed and fast, falling back to object-by-object
decoding so one undecodable object cannot fail a page or end a stream), so a dynamic
informer (``item_type=dict``) shares all of it.

Errors: every failure of a LIST or WATCH and every object that did not decode
(:class:`~.tolerant.UndecodableObject`, naming its key) is logged and passed to the
``on_error`` callback (the informer's watch error handler, like client-go's
``SetWatchErrorHandler``). A failure without an exception of its own is passed as a
:class:`ListWatchError`.

The HTTP client's own retry policy still applies to each LIST (a GET) and to opening each
WATCH; the watcher's backoff paces what is left after that.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

import msgspec

from ..backoff import Backoff, default_backoff
from ..client._async.rest import AsyncRESTClient
from ..client._sync.rest import RESTClient
from ..errors import KubernetesError
from ..meta import ResourceInfo
from ..rest import request as rq
from ..watch.decode import WatchDecodeError, WatchDecoder
from ..watch.event import Bookmark, WatchEvent
from .connection import InterruptibleClient
from .delta import DeltaProcessor
from .processor import Notification
from .tolerant import DecodedPage, TolerantDecoder, Undecodable
from .watcher import (
    JITTER_RNG,
    FailureKind,
    ListRequest,
    Step,
    Watcher,
    WatcherEvent,
    WatcherFailure,
    WatcherState,
    WatchRequest,
)

T = TypeVar("T")

logger = logging.getLogger("kubecodegen_runtime.cache")

Deliver = Callable[[list[Notification[Any]]], None]
"""Receives the notifications of one batch of events, right after the store was written."""

ErrorHandler = Callable[[BaseException], object]
"""Told about every list/watch failure and every undecodable object (see module doc)."""

Accept = tuple[str, str]
"""The ``Accept`` of WATCH and of LIST requests, when not plain JSON: metadata informers
ask for PartialObjectMetadata (:mod:`..metadata`), as the resource clients' ``_accept``."""


class ListWatchError(KubernetesError):
    """A list/watch failure that came without an exception of its own (a short watch, a
    list without resourceVersion, an unknown event type); ``failure`` has the details."""

    def __init__(self, resource: str, failure: WatcherFailure) -> None:
        code = "" if failure.code is None else f" {failure.code}"
        detail = f": {failure.message}" if failure.message else ""
        super().__init__(f"{resource}: {failure.phase}{code} failed ({failure.kind.value})"
                         f"{detail}")
        self.failure = failure


_LIST_ERRORS = (KubernetesError, msgspec.DecodeError)
"""What a failed LIST raises: no answer, an error status, or an undecodable body."""
_STREAM_ERRORS = (KubernetesError, WatchDecodeError)
"""What a failing WATCH stream raises: a broken connection, an ERROR event, a bad line."""


def list_request(info: ResourceInfo, namespace: str | None, request: ListRequest) -> rq.Request:
    """The HTTP request for one LIST the watcher asked for (``""`` versions are omitted)."""
    return rq.list_(info, namespace=namespace, label_selector=request.label_selector,
                    field_selector=request.field_selector, limit=request.limit,
                    continue_=request.continue_token or None,
                    resource_version=request.resource_version or None)


def watch_request(info: ResourceInfo, namespace: str | None, request: WatchRequest) -> rq.Request:
    """The streaming HTTP request for one WATCH (or watch-list) the watcher asked for."""
    if request.send_initial_events:
        return rq.watch_list(info, namespace=namespace, label_selector=request.label_selector,
                             field_selector=request.field_selector,
                             resource_version=request.resource_version,
                             timeout_seconds=request.timeout_seconds)
    return rq.watch(info, namespace=namespace, label_selector=request.label_selector,
                    field_selector=request.field_selector,
                    resource_version=request.resource_version or None,
                    timeout_seconds=request.timeout_seconds,
                    allow_watch_bookmarks=request.allow_watch_bookmarks or None)


class _Loop(Generic[T]):
    """What both reflectors share: decoding and feeding the watcher, applying events."""

    def __init__(self, info: ResourceInfo, item_type: Any, *, namespace: str | None,
                 watcher: Watcher[T], delta: DeltaProcessor[T], deliver: Deliver,
                 lock: AbstractContextManager[Any] | None, backoff: Backoff | None,
                 on_error: ErrorHandler | None = None, accept: Accept | None = None) -> None:
        if namespace is not None and not info.namespaced:
            raise ValueError(f"{info.resource} is cluster-scoped: an informer for it takes no "
                             f"namespace (got {namespace!r})")
        self.info = info
        self.namespace = namespace
        self.watcher = watcher
        self.delta = delta
        self._deliver = deliver
        self._lock: AbstractContextManager[Any] = (
            lock if lock is not None else contextlib.nullcontext())
        self.backoff: Backoff = (backoff if backoff is not None
                                 else default_backoff(rng=JITTER_RNG))
        self._decoder: TolerantDecoder[T] = TolerantDecoder(
            item_type, api_version=info.api_version, kind=info.kind)
        self._item_type = item_type
        self.on_error = on_error
        self.accept = accept

    def _list_request(self, request: ListRequest) -> rq.Request:
        req = list_request(self.info, self.namespace, request)
        return req if self.accept is None else dataclasses.replace(req, accept=self.accept[1])

    def _watch_request(self, request: WatchRequest) -> rq.Request:
        req = watch_request(self.info, self.namespace, request)
        return req if self.accept is None else dataclasses.replace(req, accept=self.accept[0])

    def _report(self, error: BaseException) -> None:
        """Hand ``error`` to the error handler; a failing handler is logged, not raised."""
        if self.on_error is None:
            return
        try:
            self.on_error(error)
        except Exception:
            logger.exception("%s: the watch error handler failed", self.info.resource)

    def _new_watch_decoder(self) -> WatchDecoder[T]:
        return WatchDecoder(self._item_type, decode_line=self._decoder.decode_line)

    def _decode_page(self, body: bytes) -> DecodedPage[T]:
        return self._decoder.decode_page(body)

    def _consume(self, step: Step[T]) -> tuple[ListRequest | WatchRequest | None, bool]:
        """Log and apply a step; return what to do next.

        The caller must drop its reference to the step right after: a step of a list page
        holds every object as decoded, before the informer's transform, and keeping it
        while the next request runs (a watch lasts minutes) would keep a whole page of
        unstripped objects alive next to the cache.
        """
        self._after(step)
        self._apply(step.events)
        return step.request, step.backoff

    def _apply(self, events: Sequence[WatcherEvent[T]]) -> None:
        if not events:
            return
        with self._lock:
            notes = self.delta.handle_all(events)
            self._deliver(notes)

    def _after(self, step: Step[T]) -> None:
        if step.failure is not None and step.failure.kind is FailureKind.WATCH_LIST_UNSUPPORTED:
            # expected on servers before 1.27: not a failure of the informer, said once
            logger.info("%s: the server does not serve watch-lists (%s); listing in pages",
                        self.info.resource, step.failure.message)
            self._report(ListWatchError(self.info.resource, step.failure))
            return
        if step.failure is not None:
            f = step.failure
            logger.warning("%s: %s %s failed (%s%s)%s", self.info.resource, f.phase,
                           "" if f.code is None else f.code, f.kind.value,
                           f": {f.message}" if f.message else "",
                           "; backing off" if step.backoff else "")
            self._report(f.error if f.error is not None
                         else ListWatchError(self.info.resource, f))

    def _undecodable(self, placeholder: Undecodable) -> None:
        logger.warning("%s: %s", self.info.resource, placeholder.error)
        self._report(placeholder.error)

    def _page(self, page: DecodedPage[T]) -> Step[T]:
        """Feed a decoded page to the watcher, reporting the objects that did not decode."""
        for bad in page.undecodable:
            self._undecodable(bad)
        return self.watcher.on_list_page(page.items, page.resource_version,
                                         page.continue_token,
                                         [bad.key for bad in page.undecodable])

    def _event(self, event: WatchEvent[T] | Bookmark) -> Step[T]:
        if isinstance(event, WatchEvent):
            obj: Any = event.object
            if isinstance(obj, Undecodable):
                self._undecodable(obj)
                return self.watcher.on_watch_undecodable(event.type, obj.key,
                                                         obj.resource_version)
        return self.watcher.on_watch_event(event)

    def _take(self, event: WatchEvent[T] | Bookmark,
              batch: list[WatcherEvent[T]]) -> tuple[Step[T] | None, bool]:
        """Feed one decoded event; return the step that asks for a new request (ending the
        stream; ``batch`` is applied first) or None, and whether to wait for room now.

        Ordinary watch events are applied one by one, room awaited after each, so a
        bounded handler queue never grows past its bound. The initial events of a
        watch-list are a listing: they collect in ``batch`` and the caller applies them
        per chunk of the stream, as a LIST is applied per page.
        """
        listing = self.watcher.state is WatcherState.INIT_STREAM
        step = self._event(event)
        if step.request is not None:
            self._apply(batch)
            batch.clear()
            return step, False
        self._after(step)
        if listing:
            batch.extend(step.events)
            return None, False
        if batch:  # the listing ended earlier in this chunk: its events go first
            self._apply(batch)
            batch.clear()
        self._apply(step.events)
        return None, True


class Reflector(_Loop[T]):
    """Blocking list/watch loop: call :meth:`run` in a thread, :meth:`stop` from another.

    Requests go over an :class:`~.connection.InterruptibleClient` made from ``rest``
    (same configuration, rate limiter, retry policy; connections of its own), so that
    :meth:`stop` can interrupt them.
    """

    def __init__(self, rest: RESTClient, info: ResourceInfo, item_type: Any, *,
                 watcher: Watcher[T], delta: DeltaProcessor[T], deliver: Deliver,
                 namespace: str | None = None,
                 lock: AbstractContextManager[Any] | None = None,
                 backoff: Backoff | None = None,
                 on_error: ErrorHandler | None = None,
                 wait_for_room: Callable[[], object] | None = None,
                 accept: Accept | None = None,
                 stopped: threading.Event | None = None) -> None:
        super().__init__(info, item_type, namespace=namespace, watcher=watcher, delta=delta,
                         deliver=deliver, lock=lock, backoff=backoff, on_error=on_error,
                         accept=accept)
        # ``stopped``: the owner's "stopping" event (the informer's), set by :meth:`stop`
        # at the latest. One event is the informer's, the reflector's and its client's
        # stop signal: each is set only on the way to stop(), so sharing it changes no
        # decision, and saves making two events per informer.
        self._stopped = stopped if stopped is not None else threading.Event()
        self._client = InterruptibleClient(rest, cut=self._stopped)
        self.rest = self._client.rest
        self._wait_for_room = wait_for_room

    def stop(self) -> None:
        """Ask :meth:`run` to return: interrupts a backoff wait and the request in flight
        (a LIST or a WATCH, even one whose server sends nothing)."""
        self._stopped.set()
        self._client.cut()

    def _room(self) -> None:
        if self._wait_for_room is not None:
            self._wait_for_room()

    def _events(self, decoded: Iterable[WatchEvent[T] | Bookmark]) -> Step[T] | None:
        """Feed decoded events (see ``_take``), waiting for room in bounded handler
        queues; the first step that asks for a new request ends the stream."""
        batch: list[WatcherEvent[T]] = []
        for event in decoded:
            step, room = self._take(event, batch)
            if step is not None:
                return step
            if room:
                self._room()
        if batch:
            self._apply(batch)
            self._room()
        return None

    def run(self) -> None:
        """List and watch until :meth:`stop`."""
        try:
            self._run()
        finally:
            self._client.close()

    def _run(self) -> None:
        step = self.watcher.start()
        while not self._stopped.is_set():
            request, backoff = self._consume(step)
            del step  # see _consume
            self._room()
            if backoff and self._stopped.wait(next(self.backoff)):
                return
            if self._stopped.is_set():
                return
            if isinstance(request, ListRequest):
                step = self._list(request)
            elif isinstance(request, WatchRequest):
                next_step = self._watch(request)
                if next_step is None:
                    return
                step = next_step
            else:  # pragma: no cover - the watcher always asks for something next
                raise RuntimeError("the watcher asked for no request")

    def _list(self, request: ListRequest) -> Step[T]:
        try:
            response = self.rest.send(self._list_request(request))
            page = self._decode_page(response.body)
        except _LIST_ERRORS as exc:
            if self._stopped.is_set():
                return self.watcher.relist()  # the answer of a cut request means nothing
            return self.watcher.on_list_error(exc)
        return self._page(page)

    def _watch(self, request: WatchRequest) -> Step[T] | None:
        try:
            stream = self.rest.open(self._watch_request(request))
        except KubernetesError as exc:
            if self._stopped.is_set():
                return None
            return self.watcher.on_watch_error(exc)
        try:
            if self._stopped.is_set():
                return None
            self.watcher.on_watch_opened()
            decoder = self._new_watch_decoder()
            try:
                for chunk in stream.iter_chunks():
                    step = self._events(decoder.feed(chunk))
                    if step is not None:
                        return step
                    if self._stopped.is_set():
                        return None
                step = self._events(decoder.close())
            except _STREAM_ERRORS as exc:
                if self._stopped.is_set():
                    return None
                return self.watcher.on_watch_error(exc)
            if step is not None:
                return step
            if self._stopped.is_set():
                return None
            return self.watcher.on_watch_closed()
        finally:
            stream.close()


class AsyncReflector(_Loop[T]):
    """The same loop as a coroutine: run :meth:`run` as a task and cancel it to stop."""

    def __init__(self, rest: AsyncRESTClient, info: ResourceInfo, item_type: Any, *,
                 watcher: Watcher[T], delta: DeltaProcessor[T], deliver: Deliver,
                 namespace: str | None = None, backoff: Backoff | None = None,
                 sleep: Callable[[float], Any] | None = None,
                 on_error: ErrorHandler | None = None,
                 wait_for_room: Callable[[], Awaitable[object]] | None = None,
                 accept: Accept | None = None) -> None:
        super().__init__(info, item_type, namespace=namespace, watcher=watcher, delta=delta,
                         deliver=deliver, lock=None, backoff=backoff, on_error=on_error,
                         accept=accept)
        self.rest = rest
        self._sleep = sleep if sleep is not None else asyncio.sleep
        self._wait_for_room = wait_for_room

    async def _room(self) -> None:
        if self._wait_for_room is not None:
            await self._wait_for_room()

    async def _events(self, decoded: Iterable[WatchEvent[T] | Bookmark]) -> Step[T] | None:
        """The sync loop's ``_events``, awaiting room in bounded handler queues."""
        batch: list[WatcherEvent[T]] = []
        for event in decoded:
            step, room = self._take(event, batch)
            if step is not None:
                return step
            if room:
                await self._room()
        if batch:
            self._apply(batch)
            await self._room()
        return None

    async def run(self) -> None:
        """List and watch until cancelled."""
        step = self.watcher.start()
        while True:
            request, backoff = self._consume(step)
            del step  # see _consume
            await self._room()
            if backoff:
                await self._sleep(next(self.backoff))
            if isinstance(request, ListRequest):
                step = await self._list(request)
            elif isinstance(request, WatchRequest):
                step = await self._watch(request)
            else:  # pragma: no cover - the watcher always asks for something next
                raise RuntimeError("the watcher asked for no request")

    async def _list(self, request: ListRequest) -> Step[T]:
        try:
            response = await self.rest.send(self._list_request(request))
            page = self._decode_page(response.body)
        except _LIST_ERRORS as exc:
            return self.watcher.on_list_error(exc)
        return self._page(page)

    async def _watch(self, request: WatchRequest) -> Step[T]:
        try:
            stream = await self.rest.open(self._watch_request(request))
        except KubernetesError as exc:
            return self.watcher.on_watch_error(exc)
        try:
            self.watcher.on_watch_opened()
            decoder = self._new_watch_decoder()
            try:
                async for chunk in stream.iter_chunks():
                    step = await self._events(decoder.feed(chunk))
                    if step is not None:
                        return step
                step = await self._events(decoder.close())
            except _STREAM_ERRORS as exc:
                return self.watcher.on_watch_error(exc)
            if step is not None:
                return step
            return self.watcher.on_watch_closed()
        finally:
            await stream.aclose()
