"""The controller's core, shared by the thread and asyncio shells: watches, the sync
check, and the bookkeeping around one reconcile.

A controller is a work queue of :class:`~.types.ObjectKey` fed by informer handlers
(:mod:`.mapping`) and drained by N workers calling ``reconcile(key)`` (:mod:`.outcome`
says what happens next). Its life, whichever shell runs it:

1. ``watch_primary`` / ``watch_owned`` / ``watch`` declare watches; nothing happens yet.
2. ``run()`` adds one handler per watch to its informer (the controller starts no
   informer: the caller starts its factory, before or after ``run``), then waits until
   every handler registration has synced -- the informer holds its first full listing and
   the handler has been given every object of it, so every existing object's key is in
   the queue before a worker starts (client-go's ``WaitForCacheSync`` on the handler
   registrations). With ``cache_sync_timeout`` the wait gives up with
   :class:`CacheSyncTimeoutError` naming the informers that had not synced.
3. N workers take keys: the queue never hands one key to two workers at once, and a key
   added while it is being reconciled comes back once afterwards.
4. ``stop()`` (or the caller's stop event, or cancelling the asyncio ``run``) removes the
   handlers, shuts the queue down with drain -- no worker takes another key, reconciles
   in flight finish -- and ``run`` returns once the workers have ended.

Everything but waiting lives here; the shells only block (threads) or await (tasks).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ..cache.processor import HandlerRegistration
from ..config.text import terminal_safe
from ..meta import ResourceInfo
from .mapping import EnqueueHandler, KeyMapper, OwnerMapper, OwnerType, Predicate, primary_keys
from .outcome import ControllerStats, Outcome, apply, decide
from .types import ObjectKey

logger = logging.getLogger("kubecodegen_runtime.controller")

SYNC_WARNING_AFTER = 10.0
"""Seconds of waiting for caches after which a still-waiting controller logs a warning."""

SYNC_POLL_INTERVAL = 0.05
"""How often the shells re-check handler registrations while waiting for the caches."""

K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)


class WatchedInformer(Protocol):
    """What a controller needs of an informer (both informer classes have it)."""

    @property
    def info(self) -> ResourceInfo: ...

    @property
    def started(self) -> bool: ...

    def has_synced(self) -> bool: ...

    def add_event_handler(self, handler: Any = ...) -> HandlerRegistration[Any]: ...

    def remove_event_handler(self, registration: HandlerRegistration[Any]) -> bool: ...


class CoreQueue(Protocol[K_contra]):
    """The queue methods the core calls (plain calls on both queue shells)."""

    def add(self, item: K_contra) -> None: ...

    def forget(self, item: K_contra) -> None: ...

    def add_after(self, item: K_contra, delay: float) -> None: ...

    def add_rate_limited(self, item: K_contra) -> None: ...

    def num_requeues(self, item: K_contra) -> int: ...


Inf = TypeVar("Inf", bound=WatchedInformer)
Q = TypeVar("Q", bound=CoreQueue[ObjectKey])
C = TypeVar("C", bound="ControllerCore[Any, Any]")


class CacheSyncTimeoutError(TimeoutError):
    """The watched informers did not sync within ``cache_sync_timeout``."""


@dataclass
class Watch(Generic[Inf]):
    """One declared watch: an informer, how its objects map to keys, and (while the
    controller runs) the registration of its handler."""

    role: str
    informer: Inf
    handler: EnqueueHandler[Any]
    registration: HandlerRegistration[Any] | None = None

    def describe(self) -> str:
        info = self.informer.info
        resource = f"{info.resource}.{info.group}" if info.group else info.resource
        return f"{resource} ({self.role})"


class ControllerCore(Generic[Inf, Q]):
    """Watch declarations, registration and the outcome bookkeeping of a controller.

    Not used directly: :class:`~.controller.Controller` and
    :class:`~.async_controller.AsyncController` are its shells.
    """

    def __init__(self, name: str, *, workers: int, queue: Q,
                 cache_sync_timeout: float | None, drain_timeout: float | None,
                 clock: Callable[[], float] | None) -> None:
        if workers < 1:
            raise ValueError(f"a controller needs at least one worker, got {workers}")
        if cache_sync_timeout is not None and cache_sync_timeout <= 0:
            raise ValueError("cache_sync_timeout must be positive or None")
        self.name = name
        self.workers = workers
        self.queue: Q = queue
        self.cache_sync_timeout = cache_sync_timeout
        self.drain_timeout = drain_timeout
        self.stats = ControllerStats(workers)
        self._clock = clock or time.monotonic
        self._watches: list[Watch[Inf]] = []
        self._primary: Inf | None = None
        self._ran = False
        self._sync_warned = False

    # -- declaring watches --------------------------------------------------------------

    def watch_primary(self: C, informer: Inf, *, predicate: Predicate | None = None) -> C:
        """Reconcile the key of every object of ``informer`` (``For``); one per controller.

        ``predicate`` (every watch takes one) filters its notifications, e.g.
        :func:`~.mapping.generation_changed`.
        """
        if self._primary is not None:
            raise ValueError(f"controller {self.name!r} already has a primary watch")
        self._primary = informer
        return self._add("primary", informer, primary_keys, predicate)

    def watch_owned(self: C, informer: Inf, owner: OwnerType | None = None, *,
                    owner_namespaced: bool | None = None,
                    predicate: Predicate | None = None) -> C:
        """Reconcile the controller owner of every object of ``informer`` (``Owns``).

        ``owner`` is the owner type, the primary's by default (declare the primary
        first). A ``ResourceInfo`` says whether owners are namespaced; for a GVK or a
        ``(group, kind)`` pair the primary's scope is used when it is that type, else
        ``owner_namespaced`` (``None``: the dependent's namespace).
        """
        if owner is None:
            if self._primary is None:
                raise ValueError("watch_owned without an owner type needs a primary watch first")
            owner = self._primary.info
        if owner_namespaced is None and self._primary is not None:
            mapper = OwnerMapper(owner)
            primary = self._primary.info
            if (mapper.group, mapper.kind) == (primary.group, primary.kind):
                owner_namespaced = primary.namespaced
        return self._add("owned", informer, OwnerMapper(owner, owner_namespaced), predicate)

    def watch(self: C, informer: Inf, mapper: KeyMapper, *,
              predicate: Predicate | None = None) -> C:
        """Reconcile the keys ``mapper(obj)`` returns for every object of ``informer``
        (``Watches``); on an update it is called with the old and the new object."""
        return self._add("mapped", informer, mapper, predicate)

    def _add(self: C, role: str, informer: Inf, mapper: KeyMapper,
             predicate: Predicate | None) -> C:
        if self._ran:
            raise RuntimeError("watches must be declared before run()")
        handler: EnqueueHandler[Any] = EnqueueHandler(mapper, self.queue.add,
                                                      self._mapping_failed, predicate)
        self._watches.append(Watch(role, informer, handler))
        return self

    @property
    def watches(self) -> tuple[Watch[Inf], ...]:
        return tuple(self._watches)

    # -- lifecycle bookkeeping ----------------------------------------------------------

    def _claim_run(self) -> None:
        if self._ran:
            raise RuntimeError(f"controller {self.name!r} already ran; make a new one")
        if not self._watches:
            raise ValueError(f"controller {self.name!r} watches nothing")
        self._ran = True

    def _register(self) -> None:
        for watch in self._watches:
            watch.registration = watch.informer.add_event_handler(watch.handler)

    def _unregister(self) -> None:
        for watch in self._watches:
            if watch.registration is not None:
                watch.informer.remove_event_handler(watch.registration)
                watch.registration = None

    def unsynced(self) -> list[str]:
        """The watches whose handler has not yet been given its informer's first listing."""
        out = []
        for watch in self._watches:
            reg = watch.registration
            if reg is None or not reg.has_synced():
                state = "" if watch.informer.started else ", informer not started"
                error = getattr(watch.informer, "error", None)
                if error is not None:
                    state += f", reflector failed: {terminal_safe(str(error))}"
                out.append(watch.describe().removesuffix(")") + state + ")")
        return out

    def _sync_check(self, started_at: float) -> bool:
        """True once synced; raises after ``cache_sync_timeout``; warns once when slow."""
        missing = self.unsynced()
        if not missing:
            return True
        waited = self._clock() - started_at
        if self.cache_sync_timeout is not None and waited >= self.cache_sync_timeout:
            raise CacheSyncTimeoutError(
                f"controller {terminal_safe(self.name)!r}: caches not synced after "
                f"{self.cache_sync_timeout:g}s: {', '.join(missing)}")
        if waited >= SYNC_WARNING_AFTER and not self._sync_warned:
            self._sync_warned = True
            logger.warning("controller %s: still waiting for caches to sync after %.0fs: %s",
                           terminal_safe(self.name), waited, ", ".join(missing))
        return False

    # -- one reconcile ------------------------------------------------------------------

    def _begin(self) -> float:
        self.stats.started()
        return self._clock()

    def _finish(self, key: ObjectKey, result: object, error: BaseException | None,
                started_at: float) -> Outcome:
        """Apply the outcome rules for ``key`` and count and log them (not ``done``)."""
        action = decide(result, error)
        try:
            apply(action, self.queue, key)
        except Exception:  # a queue or rate-limiter bug must not kill the worker
            logger.exception("controller %s: queue action %s for %s failed",
                             terminal_safe(self.name), action.outcome.value,
                             terminal_safe(str(key)))
        finally:
            self.stats.finished(action.outcome, self._clock() - started_at)
        if action.error is not None:
            retry = ("not retried (terminal)" if action.outcome is Outcome.TERMINAL_ERROR
                     else f"retry {self.queue.num_requeues(key)} with backoff")
            logger.error("controller %s: reconcile of %s failed, %s: %s",
                         terminal_safe(self.name), terminal_safe(str(key)), retry,
                         terminal_safe(f"{type(action.error).__name__}: {action.error}"),
                         exc_info=(type(action.error), action.error,
                                   action.error.__traceback__))
        return action.outcome

    def _mapping_failed(self, error: BaseException, obj: object) -> None:
        self.stats.mapping_failed()
        logger.error("controller %s: mapping a %s to keys failed", terminal_safe(self.name),
                     type(obj).__name__, exc_info=(type(error), error, error.__traceback__))

    def __repr__(self) -> str:
        watches = ", ".join(w.describe() for w in self._watches)
        return f"{type(self).__name__}({self.name!r}, workers={self.workers}, watches=[{watches}])"
