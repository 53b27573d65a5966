"""Delta processing: watcher events -> store writes -> handler notifications.

Vocabulary (client-go's DeltaFIFO terms):

* *delta* -- one change to apply to the store, typed by :class:`DeltaType`:

  - ``ADDED`` / ``UPDATED`` -- the watch reported the object (new key / known key);
  - ``DELETED`` -- the watch reported a deletion, or a relist showed the key is gone (the
    delta then carries a :class:`~.keys.DeletedFinalStateUnknown` tombstone with the last
    state the cache had);
  - ``REPLACED`` -- the object was part of a full listing (``InitApply``);
  - ``SYNC`` -- a resync replays a cached object; nothing changed on the server.

:class:`DeltaProcessor` is the store's single writer. For each delta it first writes the
store, then emits the notification, so handlers always find the cache at least as new as
what they are told. Whether an object is added or updated is decided by the store (the key
is there or not), not by the delta type, so a relist after a disconnect produces updates
for objects that survived, adds for new ones and tombstone deletes for vanished ones.

A listing is applied as it streams in (page by page) instead of being buffered: peak
memory stays at one copy of the cache. The keys seen since ``Init`` are tracked, and at
``InitDone`` every other cached key gets a tombstone delete. A listing that fails half
way leaves newer objects in the store and deletes nothing, which is always safe; the next
complete listing settles the rest.

Objects that could not be decoded arrive by key only (:mod:`.watcher`): ``InitKeep``
counts the key as listed, so its cached version (if any) is kept rather than deleted;
``DeleteKey`` deletes a cached key with a tombstone (the final state is unknown).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .keys import DeletedFinalStateUnknown
from .mutation import MutationDetector
from .processor import AddNotification, DeleteNotification, Notification, UpdateNotification
from .store import Store
from .watcher import Apply, Delete, DeleteKey, Init, InitApply, InitDone, InitKeep, WatcherEvent

T = TypeVar("T")


class DeltaType(enum.Enum):
    ADDED = "Added"
    UPDATED = "Updated"
    DELETED = "Deleted"
    REPLACED = "Replaced"
    SYNC = "Sync"


@dataclass(frozen=True, slots=True)
class Delta(Generic[T]):
    """One change to apply; ``obj`` is a tombstone only for inferred deletions."""

    type: DeltaType
    obj: T | DeletedFinalStateUnknown[T]


class DeltaProcessor(Generic[T]):
    """Applies watcher events to ``store`` and returns the notifications for handlers.

    ``transform`` runs on every incoming object before anything else sees it (see
    :mod:`.transform`); ``mutation_detector`` (opt-in) snapshots every object stored.
    :meth:`has_synced` turns true once the first complete listing has been applied.
    """

    def __init__(self, store: Store[T], *, transform: Callable[[T], T] | None = None,
                 mutation_detector: MutationDetector | None = None) -> None:
        self.store = store
        self.transform = transform
        self.mutation_detector = mutation_detector
        self._synced = False
        self._seen: set[str] | None = None
        self._sync_pending = False

    def has_synced(self) -> bool:
        """Whether the first complete listing has been written to the store."""
        return self._synced

    def handle(self, event: WatcherEvent[T]) -> list[Notification[T]]:
        """Apply one watcher event; the returned notifications are in store order."""
        return self.apply(self.deltas(event))

    def handle_all(self, events: Iterable[WatcherEvent[T]]) -> list[Notification[T]]:
        out: list[Notification[T]] = []
        for event in events:
            out.extend(self.apply(self.deltas(event)))
        return out

    def deltas(self, event: WatcherEvent[T]) -> list[Delta[T]]:
        """Translate one event into deltas (tracks the keys of the listing in progress)."""
        if isinstance(event, Apply):
            obj = self._incoming(event.obj)
            kind = DeltaType.UPDATED if self.store.key_of(obj) in self.store else DeltaType.ADDED
            return [Delta(kind, obj)]
        if isinstance(event, InitApply):
            obj = self._incoming(event.obj)
            if self._seen is None:
                self._seen = set()  # tolerate a missing Init: start tracking here
            self._seen.add(self.store.key_of(obj))
            return [Delta(DeltaType.REPLACED, obj)]
        if isinstance(event, Delete):
            return [Delta(DeltaType.DELETED, self._incoming(event.obj))]
        if isinstance(event, InitKeep):
            if self._seen is None:
                self._seen = set()
            self._seen.add(event.key)
            return []
        if isinstance(event, DeleteKey):
            last = self.store.get_by_key(event.key)
            if last is None:
                return []
            return [Delta(DeltaType.DELETED, DeletedFinalStateUnknown(event.key, last))]
        if isinstance(event, Init):
            self._seen = set()
            return []
        if isinstance(event, InitDone):
            return self._vanished()
        raise TypeError(f"not a watcher event: {type(event).__name__}")

    def _incoming(self, obj: T) -> T:
        return self.transform(obj) if self.transform is not None else obj

    def _vanished(self) -> list[Delta[T]]:
        seen, self._seen = self._seen or set(), None
        out: list[Delta[T]] = []
        for key in self.store.list_keys():
            if key not in seen:
                last = self.store.get_by_key(key)
                if last is not None:
                    out.append(Delta(DeltaType.DELETED, DeletedFinalStateUnknown(key, last)))
        # The listing is complete once these deletions are written: the next apply() call
        # (even with no deltas) marks the processor synced after writing them.
        self._sync_pending = True
        return out

    def replace_deltas(self, items: Iterable[T]) -> list[Delta[T]]:
        """Deltas for replacing the whole content with ``items`` (a non-streamed relist)."""
        out: list[Delta[T]] = self.deltas(Init())
        for obj in items:
            out.extend(self.deltas(InitApply(obj)))
        out.extend(self.deltas(InitDone("")))
        return out

    def resync_deltas(self) -> list[Delta[T]]:
        """A ``SYNC`` delta for every cached object (a replay, not a relist)."""
        return [Delta(DeltaType.SYNC, obj) for obj in self.store.list()]

    def resync(self) -> list[Notification[T]]:
        """Replay the cache: resync updates (``old`` and ``new`` are the cached object)."""
        return self.apply(self.resync_deltas())

    def apply(self, deltas: Iterable[Delta[T]]) -> list[Notification[T]]:
        """Write each delta to the store, then describe it for the handlers."""
        store = self.store
        out: list[Notification[T]] = []
        for delta in deltas:
            obj = delta.obj
            if delta.type is DeltaType.DELETED:
                key = store.key_of(obj)
                if key not in store:
                    continue  # never cached (or already gone): nothing to tell anyone
                store.delete(obj)
                out.append(DeleteNotification(obj))
                continue
            assert not isinstance(obj, DeletedFinalStateUnknown)
            old = store.get(obj)
            if delta.type is DeltaType.SYNC:
                if old is not None:
                    out.append(UpdateNotification(old, old, is_resync=True))
                continue
            if self.mutation_detector is not None:
                self.mutation_detector.add(obj)
            if old is not None:
                store.update(obj)
                out.append(UpdateNotification(old, obj))
            else:
                store.add(obj)
                out.append(AddNotification(obj, is_in_initial_list=not self._synced))
        if self._sync_pending:
            self._sync_pending = False
            self._synced = True
        return out
