"""Shared informers: one list/watch per resource, a local cache, and event handlers.

An informer keeps a cache of one resource (optionally narrowed to a namespace and label/
field selectors) in step with the API server and tells registered handlers about every
change. The pieces (all from the pure core, see :mod:`kubecodegen_runtime.cache`):

* the store is an indexed :class:`~.store.ThreadSafeStore`, read through :meth:`lister`
  and :attr:`indexer`; it is written only by :class:`~.delta.DeltaProcessor`;
* a reflector (:mod:`.reflector`) drives the list/watch state machine;
* a :class:`~.processor.SharedProcessor` queues notifications per handler.

Guarantees: the store is written *before* handlers hear of a change, so a handler reading
the cache sees at least that state. Each handler has its own queue consumed by its own
thread (:class:`SharedInformer`) or task (:class:`AsyncSharedInformer`): handlers see
notifications in store order, and a slow handler delays no other. A handler added after
objects are cached gets a synthetic add for each of them; its registration's
``has_synced()`` turns true once those (or the initial list) were delivered. Objects that
vanished while the watch was down are delivered as deletes carrying a
:class:`~.keys.DeletedFinalStateUnknown` tombstone with the last known state. A resync
period replays the cache to handlers as updates (``old is new``); it makes no request.

A handler that raises is logged (logger ``kubecodegen_runtime.cache``) and keeps getting
later notifications: one bad object must not stop a controller. The asyncio informer's
methods must be called on its event loop's thread.

Errors of the list/watch itself never stop an informer either. Each one is logged and
passed to the handler set with :meth:`set_watch_error_handler` (client-go's
``SetWatchErrorHandler``): failed requests, broken streams, and objects the item type
cannot decode -- :class:`~.tolerant.UndecodableObject`, naming the object's key,
apiVersion, kind and the problem. Such an object is left out (a cached older version of
it stays, a deletion of it still removes it) and everything else stays in sync; a later
version that decodes replaces it.

Queues: each handler's queue is unbounded unless ``add_event_handler(...,
max_pending=N)`` bounds it; then, while that queue holds N or more notifications, the
reflector stops reading from the server (the server sees a slow watcher and may close
the watch, which is then resumed or relisted) -- nothing is dropped. See
:mod:`.processor` for the policy and ``registration.pending()`` / ``peak_pending`` for
the depth.

Listing: paged LISTs (``page_size`` objects each, then a WATCH) by default;
``watch_list=True`` asks for a watch-list instead (``sendInitialEvents``, Kubernetes 1.27+
with the WatchList feature; :mod:`.watcher` has the rules), and an informer whose server
refuses it falls back to paged LISTs by itself, reporting that once to the watch error
handler.

``accept`` (``(watch, list)`` media types) asks the server for another representation of
the objects than JSON; metadata informers (``factory.for_metadata``) ask for
PartialObjectMetadata with it, so their item type is
:class:`~..metadata.PartialObjectMetadata` and no data reaches the process.

Cached objects are shared by the store, every handler and every lister caller: never
mutate them, copy first. Set ``KUBECODEGEN_CACHE_MUTATION_DETECTOR=1`` to have every
informer keep snapshots and report violations (:meth:`check_mutations`).

``transform`` runs on each object before it is cached; pass
:func:`~.transform.strip_managed_fields` (or ``strip_managed_fields=True``) to drop
``metadata.managedFields``, which most controllers never read and which is roughly a third
of a typical object's JSON and about 40 % of its decoded memory (see :mod:`.transform`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, cast

from ..backoff import Backoff
from ..client._async.rest import AsyncRESTClient
from ..client._sync.rest import RESTClient
from ..fields import FieldSelector
from ..labels import Selector, as_selector
from ..meta import ResourceInfo
from .delta import DeltaProcessor
from .indexer import IndexFunc
from .keys import DeletedFinalStateUnknown
from .lister import Lister
from .mutation import MutationDetector, mutation_detection_enabled
from .processor import (
    HandlerRegistration,
    Notification,
    ResourceEventHandler,
    ResourceEventHandlerFuncs,
    SharedProcessor,
    dispatch,
)
from .reflector import Accept, AsyncReflector, ErrorHandler, Reflector
from .store import ThreadSafeStore, new_indexer
from .transform import TransformFunc, chain
from .transform import strip_managed_fields as _strip_managed_fields
from .watcher import Watcher, WatcherConfig

T = TypeVar("T")

logger = logging.getLogger("kubecodegen_runtime.cache")

LabelSelectorLike = Selector | str | Mapping[str, str] | None


def _label_selector(value: LabelSelectorLike) -> str | None:
    text = str(as_selector(value))
    return text or None


def _field_selector(value: FieldSelector | str | None) -> str | None:
    if value is None:
        return None
    parsed = value if isinstance(value, FieldSelector) else FieldSelector.parse(value)
    return str(parsed) or None


class _InformerCore(Generic[T]):
    """Everything both informers share: cache, delta processing, processor, watcher."""

    def __init__(
        self,
        info: ResourceInfo,
        item_type: Any,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: FieldSelector | str | None = None,
        resync_period: float = 0.0,
        transform: TransformFunc[T] | None = None,
        strip_managed_fields: bool = False,
        indexers: Mapping[str, IndexFunc[T]] | None = None,
        page_size: int | None = 500,
        min_watch_timeout: float = 300.0,
        watch_list: bool = False,
    ) -> None:
        if namespace is not None and not info.namespaced:
            namespace = None  # a namespace narrows only namespaced resources
        self.info = info
        self.item_type = item_type
        self.namespace = namespace or None
        self.resync_period = resync_period
        transforms: list[TransformFunc[T]] = []
        if strip_managed_fields:
            transforms.append(_strip_managed_fields)
        if transform is not None:
            transforms.append(transform)
        self.transform: TransformFunc[T] | None = (
            chain(*transforms) if len(transforms) > 1 else (transforms[0] if transforms else None))
        self._store: ThreadSafeStore[T] = new_indexer(indexers=indexers)
        self.mutation_detector = MutationDetector() if mutation_detection_enabled() else None
        self._delta: DeltaProcessor[T] = DeltaProcessor(
            self._store, transform=self.transform, mutation_detector=self.mutation_detector)
        self._processor: SharedProcessor[T] = SharedProcessor()
        self.watcher_config = WatcherConfig(
            label_selector=_label_selector(label_selector),
            field_selector=_field_selector(field_selector),
            page_size=page_size,
            min_watch_timeout=min_watch_timeout,
            watch_list=watch_list,
        )
        self._watcher: Watcher[T] = Watcher(self.watcher_config)
        self._error_handler: ErrorHandler | None = None

    # -- cache access -------------------------------------------------------------------

    @property
    def indexer(self) -> ThreadSafeStore[T]:
        """The cache with its indexes (``by_index``, ``index_keys``, ...); read only."""
        return self._store

    @property
    def store(self) -> ThreadSafeStore[T]:
        return self._store

    def lister(self) -> Lister[T]:
        """A typed read-only view of the cache (see :mod:`.lister`)."""
        return Lister(self._store, self.info.resource, self.info.group)

    def add_indexers(self, indexers: Mapping[str, IndexFunc[T]]) -> None:
        """Add index functions; objects already cached are indexed at once."""
        self._store.add_indexers(indexers)

    def has_synced(self) -> bool:
        """Whether the first complete LIST has been written to the cache."""
        return self._delta.has_synced()

    @property
    def uses_watch_list(self) -> bool:
        """Whether listings are watch-lists: asked for, and not refused by the server."""
        return self._watcher.uses_watch_list

    @property
    def last_sync_resource_version(self) -> str:
        """The resourceVersion the cache is known to be current at (``""`` before a list)."""
        return self._watcher.resource_version

    def set_watch_error_handler(self, handler: ErrorHandler | None) -> None:
        """Call ``handler(error)`` for every list/watch failure and undecodable object.

        Errors are logged either way; ``None`` removes the handler. The handler runs on
        the reflector (thread or task): keep it short, and do not call the informer's
        lifecycle methods from it.
        """
        self._error_handler = handler

    def _on_error(self, error: BaseException) -> None:
        handler = self._error_handler
        if handler is not None:
            handler(error)

    def check_mutations(self) -> None:
        """Raise :class:`~.mutation.CacheMutationError` if the mutation detector (enabled
        by ``KUBECODEGEN_CACHE_MUTATION_DETECTOR``) saw a cached object change."""
        if self.mutation_detector is not None:
            self.mutation_detector.check_or_raise()

    def _handler(
        self,
        handler: ResourceEventHandler[T] | None,
        on_add: Callable[[T], object] | None,
        on_update: Callable[[T, T], object] | None,
        on_delete: Callable[[T | DeletedFinalStateUnknown[T]], object] | None,
    ) -> ResourceEventHandler[T]:
        if handler is not None:
            if on_add or on_update or on_delete:
                raise TypeError("pass either a handler object or on_add/on_update/on_delete")
            return handler
        return ResourceEventHandlerFuncs(on_add, on_update, on_delete)

    def _register(self, handler: ResourceEventHandler[T], resync_period: float | None,
                  max_pending: int | None) -> HandlerRegistration[T]:
        period = self.resync_period if resync_period is None else resync_period
        return self._processor.add_handler(handler, resync_period=period,
                                           cached=self._store.list(), max_pending=max_pending)

    def _distribute(self, notes: list[Notification[T]]) -> set[HandlerRegistration[T]]:
        """Queue ``notes``; mark the processor synced once the store is. Regs to wake."""
        woken: set[HandlerRegistration[T]] = set()
        for note in notes:
            woken.update(self._processor.distribute(note))
        if not self._processor.synced and self._delta.has_synced():
            self._processor.mark_synced()
            self._on_synced()
        return woken

    def _on_synced(self) -> None:
        """Hook: the store holds the first complete listing."""

    def _resync_due(self, now: float) -> list[Notification[T]]:
        """The resync notifications due at ``now`` (none before the first sync)."""
        if not self._processor.should_resync(now) or not self._delta.has_synced():
            return []
        return self._delta.resync()


class SharedInformer(_InformerCore[T]):
    """An informer whose reflector, handlers and resync timer (if any handler resyncs) run on
    their own threads.

    ``start()`` returns at once; ``stop()`` ends and joins every thread it started.
    """

    def __init__(
        self,
        rest: RESTClient,
        info: ResourceInfo,
        item_type: Any,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: FieldSelector | str | None = None,
        resync_period: float = 0.0,
        transform: TransformFunc[T] | None = None,
        strip_managed_fields: bool = False,
        indexers: Mapping[str, IndexFunc[T]] | None = None,
        page_size: int | None = 500,
        min_watch_timeout: float = 300.0,
        watch_list: bool = False,
        backoff: Backoff | None = None,
        accept: Accept | None = None,
    ) -> None:
        super().__init__(
            info, item_type, namespace=namespace, label_selector=label_selector,
            field_selector=field_selector, resync_period=resync_period, transform=transform,
            strip_managed_fields=strip_managed_fields, indexers=indexers, page_size=page_size,
            min_watch_timeout=min_watch_timeout, watch_list=watch_list)
        self.rest = rest
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        # The resync and room conditions are made when first needed (a resyncing or a
        # bounded registration): most informers never need them, and each costs ~5 µs.
        self._resync_wake: threading.Condition | None = None
        self._wake: dict[HandlerRegistration[T], threading.Condition] = {}
        self._room: threading.Condition | None = None
        self._synced = threading.Event()
        self._stopping = threading.Event()
        self._started = False
        self._resync_started = False
        self._threads: list[threading.Thread] = []
        self.error: BaseException | None = None
        self._reflector: Reflector[T] = Reflector(
            rest, info, item_type, namespace=self.namespace, watcher=self._watcher,
            delta=self._delta, deliver=self._deliver, lock=self._lock, backoff=backoff,
            on_error=self._on_error, wait_for_room=self._wait_for_room, accept=accept,
            stopped=self._stopping)

    # -- handlers -----------------------------------------------------------------------

    def add_event_handler(
        self,
        handler: ResourceEventHandler[T] | None = None,
        *,
        on_add: Callable[[T], object] | None = None,
        on_update: Callable[[T, T], object] | None = None,
        on_delete: Callable[[T | DeletedFinalStateUnknown[T]], object] | None = None,
        resync_period: float | None = None,
        max_pending: int | None = None,
    ) -> HandlerRegistration[T]:
        """Register a handler (an object, or callables); it first gets adds for the cache.

        ``resync_period`` overrides the informer's for this handler (0 disables).
        ``max_pending`` bounds its queue: the informer stops reading from the server
        while it is full (see the module docstring).
        """
        h = self._handler(handler, on_add, on_update, on_delete)
        with self._lock:
            reg = self._register(h, resync_period, max_pending)
            self._wake[reg] = threading.Condition(self._lock)
            if max_pending is not None and self._room is None:
                self._room = threading.Condition(self._lock)
            if self._resync_wake is not None:
                self._resync_wake.notify()
            if self._started and not self._stopping.is_set():
                self._spawn(self._consume, f"handler-{reg.id}", reg)
                self._spawn_resync_if_needed()
        return reg

    def remove_event_handler(self, registration: HandlerRegistration[T]) -> bool:
        """Unregister; its thread ends after the notification it is handling, if any."""
        with self._lock:
            removed = self._processor.remove_handler(registration)
            wake = self._wake.pop(registration, None)
            if wake is not None:
                wake.notify()
            if self._room is not None:
                self._room.notify_all()
        return removed

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start listing/watching and delivering (idempotent; not after stop)."""
        with self._start_lock:
            with self._lock:
                if self._started:
                    return
                if self._stopping.is_set():
                    raise RuntimeError("a stopped informer cannot be started again")
                self._started = True
                for reg in self._processor.registrations:
                    self._spawn(self._consume, f"handler-{reg.id}", reg, defer=True)
                self._spawn_resync_if_needed(defer=True)
                self._spawn(self._run_reflector, "reflector", defer=True)
                new = [t for t in self._threads if t.ident is None]
            # Started once self._lock is free: Thread.start() waits until the new thread
            # runs, and a new thread that needs the lock at once (every one of them) would
            # otherwise block on it and hand the CPU straight back. stop() waits on
            # _start_lock, so it never sees a thread that was made but not started.
            for thread in new:
                thread.start()

    def run(self) -> None:
        """Start, then block until :meth:`stop` is called (from another thread)."""
        self.start()
        self._stopping.wait()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop every thread of this informer and wait for them; False if one is still
        running after ``timeout`` (a handler that does not return). A LIST or WATCH in
        flight is interrupted, even one whose server sends nothing."""
        self._stopping.set()
        self._reflector.stop()
        with self._start_lock, self._lock:
            if self._resync_wake is not None:
                self._resync_wake.notify_all()
            if self._room is not None:
                self._room.notify_all()
            for wake in self._wake.values():
                wake.notify_all()
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads if t is not threading.current_thread())

    def wait_for_sync(self, timeout: float | None = None) -> bool:
        """Block until the first complete listing is cached; False on timeout."""
        return self._synced.wait(timeout)

    @property
    def started(self) -> bool:
        return self._started

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    # -- internals ----------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], role: str, *args: Any,
               defer: bool = False) -> None:
        """Make (and unless ``defer``, start) a thread of this informer."""
        name = f"informer-{self.info.resource}-{role}"
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        # Threads of removed handlers have ended: forget them so add/remove cycles do not
        # accumulate (stop() joins whatever is left). A deferred one has no ident yet.
        self._threads = [t for t in self._threads if t.is_alive() or t.ident is None]
        self._threads.append(thread)
        if not defer:
            thread.start()

    def _spawn_resync_if_needed(self, defer: bool = False) -> None:
        # Called with self._lock held, once started. The resync thread exists only once some
        # registration resyncs: without one it would only ever sleep, and a thread costs
        # ~0.1 ms of CPU to start and join. Registrations are only ever added with a
        # schedule, so starting it on the first one that has one changes no resync time.
        if self._resync_started or self._processor.next_resync_at() is None:
            return
        self._resync_started = True
        self._resync_wake = threading.Condition(self._lock)
        self._spawn(self._resync_loop, "resync", self._resync_wake, defer=defer)

    def _on_synced(self) -> None:
        self._synced.set()

    def _deliver(self, notes: list[Notification[Any]]) -> None:
        # Called by the reflector with self._lock held, right after the store was written.
        for reg in self._distribute(notes):
            wake = self._wake.get(reg)
            if wake is not None:
                wake.notify()

    def _run_reflector(self) -> None:
        try:
            self._reflector.run()
        except BaseException as exc:  # a bug or a failing index function: say so loudly
            self.error = exc
            logger.exception("informer for %s stopped: its reflector failed", self.info.resource)

    def _wait_for_room(self) -> None:
        # Called by the reflector after each watch event and LIST page, without the lock.
        if not self._processor.bounded:
            return  # the common case costs no lock
        with self._lock:
            room = self._room
            while (room is not None and not self._stopping.is_set()
                   and not self._processor.has_room()):
                room.wait()

    def _consume(self, reg: HandlerRegistration[T]) -> None:
        note: Notification[T] | None = None
        while True:
            with self._lock:
                if note is not None:
                    # the last one handed over: recorded in the same locked section that
                    # takes the next one (one lock round per notification, not two)
                    reg.done(note)
                wake = self._wake.get(reg)
                while (wake is not None and not len(reg) and not reg.removed
                       and not self._stopping.is_set()):
                    wake.wait()
                if wake is None or reg.removed or self._stopping.is_set():
                    return
                note = reg.pop()
                if reg.max_pending is not None and self._room is not None:
                    self._room.notify_all()
            if note is None:
                continue
            try:
                dispatch(reg.handler, note)
            except Exception:
                logger.exception("event handler for %s failed", self.info.resource)

    def _resync_loop(self, wake: threading.Condition) -> None:
        with self._lock:
            while not self._stopping.is_set():
                due = self._processor.next_resync_at()
                if due is None:
                    wake.wait()
                    continue
                delay = due - time.monotonic()
                if delay > 0:
                    wake.wait(delay)
                    continue
                self._deliver(self._resync_due(time.monotonic()))


class _Capture(Generic[T]):
    """Calls a handler and keeps what it returned, so async callbacks can be awaited.

    It lets the asyncio informer use the core's single :func:`~.processor.dispatch`.
    """

    __slots__ = ("handler", "result")

    def __init__(self, handler: ResourceEventHandler[T]) -> None:
        self.handler = handler
        self.result: object = None

    def take(self) -> object:
        """What the last call returned (forgotten afterwards)."""
        result, self.result = self.result, None
        return result

    def on_add(self, obj: T, is_in_initial_list: bool) -> None:
        self.result = cast(object, self.handler.on_add(obj, is_in_initial_list))

    def on_update(self, old: T, new: T) -> None:
        self.result = cast(object, self.handler.on_update(old, new))

    def on_delete(self, obj: T | DeletedFinalStateUnknown[T]) -> None:
        self.result = cast(object, self.handler.on_delete(obj))


class _AsyncFuncs(Generic[T]):
    """A handler from optional callables that may be coroutine functions."""

    __slots__ = ("_add", "_delete", "_update")

    def __init__(self, on_add: Callable[[T], object] | None,
                 on_update: Callable[[T, T], object] | None,
                 on_delete: Callable[[T | DeletedFinalStateUnknown[T]], object] | None) -> None:
        self._add, self._update, self._delete = on_add, on_update, on_delete

    def on_add(self, obj: T, is_in_initial_list: bool) -> Any:
        return self._add(obj) if self._add is not None else None

    def on_update(self, old: T, new: T) -> Any:
        return self._update(old, new) if self._update is not None else None

    def on_delete(self, obj: T | DeletedFinalStateUnknown[T]) -> Any:
        return self._delete(obj) if self._delete is not None else None


class AsyncSharedInformer(_InformerCore[T]):
    """An informer on the event loop: reflector, resync timer (if needed), each handler: tasks.

    Callbacks may be plain functions or coroutine functions (awaited in order, one at a
    time per handler). ``start()`` must be called with a running loop; ``await stop()``
    cancels and awaits every task it created.
    """

    def __init__(
        self,
        rest: AsyncRESTClient,
        info: ResourceInfo,
        item_type: Any,
        *,
        namespace: str | None = None,
        label_selector: LabelSelectorLike = None,
        field_selector: FieldSelector | str | None = None,
        resync_period: float = 0.0,
        transform: TransformFunc[T] | None = None,
        strip_managed_fields: bool = False,
        indexers: Mapping[str, IndexFunc[T]] | None = None,
        page_size: int | None = 500,
        min_watch_timeout: float = 300.0,
        watch_list: bool = False,
        backoff: Backoff | None = None,
        accept: Accept | None = None,
    ) -> None:
        super().__init__(
            info, item_type, namespace=namespace, label_selector=label_selector,
            field_selector=field_selector, resync_period=resync_period, transform=transform,
            strip_managed_fields=strip_managed_fields, indexers=indexers, page_size=page_size,
            min_watch_timeout=min_watch_timeout, watch_list=watch_list)
        self.rest = rest
        self._wake: dict[HandlerRegistration[T], asyncio.Event] = {}
        self._resync_wake: asyncio.Event | None = None
        self._synced: asyncio.Event | None = None
        self._room: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._resync_started = False
        self._stopped = False
        self.error: BaseException | None = None
        self._reflector: AsyncReflector[T] = AsyncReflector(
            rest, info, item_type, namespace=self.namespace, watcher=self._watcher,
            delta=self._delta, deliver=self._deliver, backoff=backoff,
            on_error=self._on_error, wait_for_room=self._wait_for_room, accept=accept)

    def add_event_handler(
        self,
        handler: ResourceEventHandler[T] | None = None,
        *,
        on_add: Callable[[T], object] | None = None,
        on_update: Callable[[T, T], object] | None = None,
        on_delete: Callable[[T | DeletedFinalStateUnknown[T]], object] | None = None,
        resync_period: float | None = None,
        max_pending: int | None = None,
    ) -> HandlerRegistration[T]:
        """Register a handler; callbacks may be ``async def``. See the sync informer."""
        if handler is not None and (on_add or on_update or on_delete):
            raise TypeError("pass either a handler object or on_add/on_update/on_delete")
        h: ResourceEventHandler[T] = (
            handler if handler is not None
            else cast(ResourceEventHandler[T], _AsyncFuncs(on_add, on_update, on_delete)))
        reg = self._register(h, resync_period, max_pending)
        self._wake[reg] = asyncio.Event()
        if reg.next_resync is not None and self._resync_wake is not None:
            self._resync_wake.set()
        if self._started and not self._stopped:
            self._spawn(self._consume(reg))
            self._spawn_resync_if_needed()
        if len(reg):
            self._wake[reg].set()
        return reg

    def remove_event_handler(self, registration: HandlerRegistration[T]) -> bool:
        removed = self._processor.remove_handler(registration)
        wake = self._wake.pop(registration, None)
        if wake is not None:
            wake.set()
        if self._room is not None:
            self._room.set()
        return removed

    def start(self) -> None:
        """Create the tasks on the running loop (idempotent; not after stop)."""
        if self._started:
            return
        if self._stopped:
            raise RuntimeError("a stopped informer cannot be started again")
        self._started = True
        self._resync_wake = asyncio.Event()
        self._synced = asyncio.Event()
        self._room = asyncio.Event()
        if self._processor.synced:
            self._synced.set()
        for reg in self._processor.registrations:
            self._spawn(self._consume(reg))
        self._spawn_resync_if_needed()
        self._spawn(self._run_reflector())

    async def stop(self) -> None:
        """Cancel every task of this informer and wait until they are gone."""
        self._stopped = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self) -> None:
        """Start, then wait until cancelled (stopping on the way out)."""
        self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def wait_for_sync(self, timeout: float | None = None) -> bool:
        """Wait until the first complete listing is cached; False on timeout."""
        if self._synced is None:
            raise RuntimeError("start() the informer first")
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    @property
    def started(self) -> bool:
        return self._started

    @property
    def stopped(self) -> bool:
        return self._stopped

    def _spawn_resync_if_needed(self) -> None:
        # As the sync informer's: the resync task exists only once some registration
        # resyncs (a task that only ever sleeps costs its creation and its cancellation).
        if self._resync_started or self._processor.next_resync_at() is None:
            return
        self._resync_started = True
        self._spawn(self._resync_loop())

    def _spawn(self, coro: Any) -> None:
        self._tasks = [t for t in self._tasks if not t.done()]
        self._tasks.append(asyncio.get_running_loop().create_task(coro))

    def _on_synced(self) -> None:
        if self._synced is not None:
            self._synced.set()

    def _deliver(self, notes: list[Notification[Any]]) -> None:
        for reg in self._distribute(notes):
            wake = self._wake.get(reg)
            if wake is not None:
                wake.set()

    async def _run_reflector(self) -> None:
        try:
            await self._reflector.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.error = exc
            logger.exception("informer for %s stopped: its reflector failed", self.info.resource)

    async def _wait_for_room(self) -> None:
        room = self._room
        while room is not None and self._processor.bounded and not self._processor.has_room():
            room.clear()
            await room.wait()

    async def _consume(self, reg: HandlerRegistration[T]) -> None:
        capture = _Capture(reg.handler)
        while True:
            wake = self._wake.get(reg)
            if wake is None or reg.removed:
                return
            note = reg.pop()
            if note is None:
                wake.clear()
                await wake.wait()
                continue
            if reg.max_pending is not None and self._room is not None:
                self._room.set()
            try:
                dispatch(capture, note)
                result = capture.take()
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("event handler for %s failed", self.info.resource)
            reg.done(note)

    async def _resync_loop(self) -> None:
        assert self._resync_wake is not None
        wake = self._resync_wake
        while True:
            due = self._processor.next_resync_at()
            wake.clear()
            if due is None:
                await wake.wait()
                continue
            delay = due - time.monotonic()
            if delay > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wake.wait(), delay)
                continue
            self._deliver(self._resync_due(time.monotonic()))
