"""Reflectors: the I/O loops that drive a :class:`~.watcher.Watcher` against the API server.

Every decision (which resourceVersion to list or watch from, when to relist, when to back
off, what a 410 means) is the pure watcher's; every cache write and notification is
:class:`~.delta.DeltaProcessor`'s. A reflector only sends the requests the watcher asks
for, feeds back what came of them, sleeps the backoff delays, and hands the resulting
notifications to its informer. There are two, line for line the same loop:

* :class:`Reflector` -- a blocking loop for a thread, over :class:`~..client.RESTClient`;
  backoff waits on a :class:`threading.Event` so :meth:`Reflector.stop` interrupts them.
* :class:`AsyncReflector` -- a coroutine over :class:`~..client.AsyncRESTClient`; it stops
  when its task is cancelled.

Requests are built here from the watcher's :class:`~.watcher.ListRequest` /
:class:`~.watcher.WatchRequest` query parameters; list pages are decoded as
``Page[item_type]`` and watch streams by the runtime's incremental typed decoder, so a
dynamic informer (``item_type=dict``) shares all of it.

The HTTP client's own retry policy still applies to each LIST (a GET) and to opening each
WATCH; the watcher's backoff paces what is left after that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

import msgspec

from ..backoff import Backoff, default_backoff
from ..client._async.rest import AsyncRESTClient
from ..client._sync.rest import RESTClient
from ..client.ops import decoder_for, page_type, watch_decoder
from ..errors import ApiError, KubernetesError
from ..meta import ResourceInfo
from ..rest import request as rq
from ..transport import Stream
from ..watch.decode import WatchDecodeError
from ..watch.event import Bookmark, WatchEvent
from .delta import DeltaProcessor
from .processor import Notification
from .watcher import ListRequest, Step, Watcher, WatcherEvent, WatchRequest

T = TypeVar("T")

logger = logging.getLogger("kubecodegen.runtime.cache")

Deliver = Callable[[list[Notification[Any]]], None]
"""Receives the notifications of one batch of events, right after the store was written."""


_LIST_ERRORS = (KubernetesError, msgspec.DecodeError)
"""What a failed LIST raises: no answer, an error status, or an undecodable body."""
_STREAM_ERRORS = (KubernetesError, WatchDecodeError)
"""What a failing WATCH stream raises: a broken connection, an ERROR event, a bad line."""


def list_request(info: ResourceInfo, namespace: str | None, request: ListRequest) -> rq.Request:
    """The HTTP request for one LIST the watcher asked for."""
    return rq.Request("GET", rq.resource_path(info, namespace), tuple(request.params().items()))


def watch_request(info: ResourceInfo, namespace: str | None, request: WatchRequest) -> rq.Request:
    """The streaming HTTP request for one WATCH the watcher asked for."""
    return rq.Request("GET", rq.resource_path(info, namespace),
                      tuple(request.params().items()), stream=True)


def error_inputs(exc: BaseException) -> dict[str, Any]:
    """Keyword arguments for the watcher's ``on_*_error`` describing ``exc``."""
    if isinstance(exc, ApiError):
        return {"code": exc.status, "reason": exc.reason, "message": exc.message}
    return {}


class _Loop(Generic[T]):
    """What both reflectors share: decoding and feeding the watcher, applying events."""

    def __init__(self, info: ResourceInfo, item_type: Any, *, namespace: str | None,
                 watcher: Watcher[T], delta: DeltaProcessor[T], deliver: Deliver,
                 lock: AbstractContextManager[Any] | None, backoff: Backoff | None) -> None:
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
        self.backoff: Backoff = backoff if backoff is not None else default_backoff()
        self._decode_page = decoder_for(page_type(item_type))
        self._item_type = item_type

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
        if step.failure is not None:
            f = step.failure
            logger.warning("%s: %s %s failed (%s%s)%s", self.info.resource, f.phase,
                           "" if f.code is None else f.code, f.kind.value,
                           f": {f.message}" if f.message else "",
                           "; backing off" if step.backoff else "")

    def _page(self, page: Any) -> Step[T]:
        """Feed a decoded ``Page`` to the watcher."""
        items: Sequence[T] = page.items or ()
        return self.watcher.on_list_page(items, page.metadata.resource_version,
                                         page.continue_token)

    def _event(self, event: WatchEvent[T] | Bookmark) -> Step[T]:
        if isinstance(event, Bookmark):
            return self.watcher.on_watch_event(
                "BOOKMARK", {"metadata": {"resourceVersion": event.resource_version}})
        return self.watcher.on_watch_event(event.type, event.object)

    def _events(self, decoded: Iterable[WatchEvent[T] | Bookmark]) -> Step[T] | None:
        """Feed decoded events; the first step that asks for a new request ends the stream."""
        for event in decoded:
            step = self._event(event)
            if step.request is not None:
                return step
            self._after(step)
            self._apply(step.events)
        return None


class Reflector(_Loop[T]):
    """Blocking list/watch loop: call :meth:`run` in a thread, :meth:`stop` from another."""

    def __init__(self, rest: RESTClient, info: ResourceInfo, item_type: Any, *,
                 watcher: Watcher[T], delta: DeltaProcessor[T], deliver: Deliver,
                 namespace: str | None = None,
                 lock: AbstractContextManager[Any] | None = None,
                 backoff: Backoff | None = None) -> None:
        super().__init__(info, item_type, namespace=namespace, watcher=watcher, delta=delta,
                         deliver=deliver, lock=lock, backoff=backoff)
        self.rest = rest
        self._stopped = threading.Event()
        self._stream: Stream | None = None
        self._stream_lock = threading.Lock()

    def stop(self) -> None:
        """Ask :meth:`run` to return: interrupts backoff waits and an open watch stream.

        A LIST in flight is not interrupted; it ends within the client's timeout.
        """
        self._stopped.set()
        with self._stream_lock:
            if self._stream is not None:
                self._stream.abort()

    def run(self) -> None:
        """List and watch until :meth:`stop`."""
        step = self.watcher.start()
        while not self._stopped.is_set():
            request, backoff = self._consume(step)
            del step  # see _consume
            if backoff and self._stopped.wait(next(self.backoff)):
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
            response = self.rest.send(list_request(self.info, self.namespace, request))
            page = self._decode_page(response.body)
        except _LIST_ERRORS as exc:
            return self.watcher.on_list_error(exc, **error_inputs(exc))
        return self._page(page)

    def _watch(self, request: WatchRequest) -> Step[T] | None:
        try:
            stream = self.rest.open(watch_request(self.info, self.namespace, request))
        except KubernetesError as exc:
            return self.watcher.on_watch_error(exc, **error_inputs(exc))
        with self._stream_lock:
            self._stream = stream
        try:
            if self._stopped.is_set():
                return None
            self.watcher.on_watch_opened()
            decoder = watch_decoder(self._item_type)
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
                return self.watcher.on_watch_error(exc, **error_inputs(exc))
            if step is not None:
                return step
            if self._stopped.is_set():
                return None
            return self.watcher.on_watch_closed()
        finally:
            with self._stream_lock:
                self._stream = None
            stream.close()


class AsyncReflector(_Loop[T]):
    """The same loop as a coroutine: run :meth:`run` as a task and cancel it to stop."""

    def __init__(self, rest: AsyncRESTClient, info: ResourceInfo, item_type: Any, *,
                 watcher: Watcher[T], delta: DeltaProcessor[T], deliver: Deliver,
                 namespace: str | None = None, backoff: Backoff | None = None,
                 sleep: Callable[[float], Any] | None = None) -> None:
        super().__init__(info, item_type, namespace=namespace, watcher=watcher, delta=delta,
                         deliver=deliver, lock=None, backoff=backoff)
        self.rest = rest
        self._sleep = sleep if sleep is not None else asyncio.sleep

    async def run(self) -> None:
        """List and watch until cancelled."""
        step = self.watcher.start()
        while True:
            request, backoff = self._consume(step)
            del step  # see _consume
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
            response = await self.rest.send(list_request(self.info, self.namespace, request))
            page = self._decode_page(response.body)
        except _LIST_ERRORS as exc:
            return self.watcher.on_list_error(exc, **error_inputs(exc))
        return self._page(page)

    async def _watch(self, request: WatchRequest) -> Step[T]:
        try:
            stream = await self.rest.open(watch_request(self.info, self.namespace, request))
        except KubernetesError as exc:
            return self.watcher.on_watch_error(exc, **error_inputs(exc))
        try:
            self.watcher.on_watch_opened()
            decoder = watch_decoder(self._item_type)
            try:
                async for chunk in stream.iter_chunks():
                    step = self._events(decoder.feed(chunk))
                    if step is not None:
                        return step
                step = self._events(decoder.close())
            except _STREAM_ERRORS as exc:
                return self.watcher.on_watch_error(exc, **error_inputs(exc))
            if step is not None:
                return step
            return self.watcher.on_watch_closed()
        finally:
            await stream.aclose()
