"""The keyed object store behind every informer: one writer, many readers.

The contracts are split by who uses them, so each side depends only on what it needs:

* :class:`StoreReader` -- lookups by key and full listings (listers, handlers, resync).
* :class:`StoreWriter` -- add/update/delete/replace; exactly one writer (the informer's
  delta processing) mutates a store.
* :class:`~.indexer.Indexer` -- secondary-index queries.

:class:`ThreadSafeStore` implements all three. Every operation takes one short lock, so a
reflector thread can write while handler threads and lister callers read; nothing inside
the lock blocks or awaits, so the asyncio driver can use it from the event loop as well.

Cached objects are shared, not copied: ``get_by_key`` and ``list`` return the very objects
the store holds. Callers must not mutate them (copy first, e.g. ``msgspec.structs.replace``
or ``copy.deepcopy``); see :mod:`.mutation` for detecting violations.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Generic, Protocol, TypeVar

from .indexer import NAMESPACE_INDEX, IndexFunc, StoreIndex, namespace_index_func
from .keys import DeletedFinalStateUnknown, meta_namespace_key

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

KeyFunc = Callable[[object], str]
"""Computes the storage key of an object (default :func:`.keys.meta_namespace_key`)."""


class StoreReader(Protocol[T]):
    """Read access to a keyed store."""

    def get_by_key(self, key: str) -> T | None:
        """The object stored under ``key``, or ``None``."""
        ...

    def get(self, obj: object) -> T | None:
        """The stored object with the same key as ``obj``, or ``None``."""
        ...

    def list_keys(self) -> builtins.list[str]:
        """Every storage key, in no particular order."""
        ...

    def list(self) -> builtins.list[T]:
        """Every stored object, in no particular order (a new list of shared objects)."""
        ...

    def __len__(self) -> int: ...

    def __contains__(self, key: object) -> bool: ...


class StoreWriter(Protocol[T_contra]):
    """Write access to a keyed store; one writer per store."""

    def key_of(self, obj: object) -> str:
        """The storage key this store files ``obj`` under."""
        ...

    def add(self, obj: T_contra) -> None:
        """Insert or overwrite the object under its key."""
        ...

    def update(self, obj: T_contra) -> None:
        """Insert or overwrite the object under its key."""
        ...

    def delete(self, obj: T_contra | DeletedFinalStateUnknown[T_contra]) -> None:
        """Remove the object's key (a tombstone removes the key it names); absent is fine."""
        ...

    def replace(self, items: Iterable[T_contra]) -> None:
        """Make the store hold exactly ``items``."""
        ...


class Store(StoreReader[T], StoreWriter[T], Protocol[T]):
    """Both sides of a store: what the single writer (delta processing) works against."""


class ThreadSafeStore(Generic[T]):
    """A locked ``key -> object`` map with secondary indexes kept in step on every write."""

    def __init__(
        self,
        key_func: KeyFunc = meta_namespace_key,
        indexers: Mapping[str, IndexFunc[T]] | None = None,
    ) -> None:
        self._key_func = key_func
        self._lock = threading.Lock()
        self._items: dict[str, T] = {}
        self._index: StoreIndex[T] = StoreIndex(indexers)

    # -- writer -------------------------------------------------------------------------

    def key_of(self, obj: object) -> str:
        return self._key_func(obj)

    def add(self, obj: T) -> None:
        self._put(self._key_func(obj), obj)

    def update(self, obj: T) -> None:
        self._put(self._key_func(obj), obj)

    def _put(self, key: str, obj: T) -> None:
        with self._lock:
            old = self._items.get(key)
            # Index first: a failing index function must leave items and indexes unchanged.
            self._index.update(old, obj, key)
            self._items[key] = obj

    def delete(self, obj: T | DeletedFinalStateUnknown[T]) -> None:
        self.delete_key(self._key_func(obj))

    def delete_key(self, key: str) -> None:
        """Remove ``key`` if present."""
        with self._lock:
            old = self._items.get(key)
            if old is None:
                return
            self._index.update(old, None, key)
            del self._items[key]

    def replace(self, items: Iterable[T]) -> None:
        fresh = {self._key_func(obj): obj for obj in items}
        with self._lock:
            # rebuild() swaps the indexes in only once all were computed, so a failing
            # index function leaves the store exactly as it was.
            self._index.rebuild(fresh)
            self._items = fresh

    def add_indexers(self, indexers: Mapping[str, IndexFunc[T]]) -> None:
        """Register more indexes; objects already stored are filed under them at once."""
        with self._lock:
            self._index.add_indexers(indexers, self._items)

    # -- reader -------------------------------------------------------------------------

    def get_by_key(self, key: str) -> T | None:
        with self._lock:
            return self._items.get(key)

    def get(self, obj: object) -> T | None:
        return self.get_by_key(self._key_func(obj))

    def list_keys(self) -> builtins.list[str]:
        with self._lock:
            return builtins.list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    # -- indexer ------------------------------------------------------------------------

    def get_indexers(self) -> Mapping[str, IndexFunc[T]]:
        with self._lock:
            return self._index.indexers

    def index_keys(self, index_name: str, indexed_value: str) -> builtins.list[str]:
        with self._lock:
            return builtins.list(self._index.keys_for(index_name, indexed_value))

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[T]:
        with self._lock:
            keys = self._index.keys_for(index_name, indexed_value)
            return [self._items[k] for k in keys]

    def index(self, index_name: str, obj: T) -> builtins.list[T]:
        """Objects sharing at least one of ``obj``'s indexed values in ``index_name``."""
        with self._lock:
            keys = self._index.keys_matching(index_name, obj, self._key_func(obj))
            return [self._items[k] for k in keys]

    def list_index_func_values(self, index_name: str) -> builtins.list[str]:
        with self._lock:
            return self._index.values(index_name)

    def list(self) -> builtins.list[T]:
        with self._lock:
            return builtins.list(self._items.values())


def new_indexer(
    key_func: KeyFunc = meta_namespace_key,
    indexers: Mapping[str, IndexFunc[T]] | None = None,
) -> ThreadSafeStore[T]:
    """A store with the namespace index (as every informer store has) plus ``indexers``."""
    all_indexers: dict[str, IndexFunc[T]] = {NAMESPACE_INDEX: namespace_index_func}
    all_indexers.update(indexers or {})
    return ThreadSafeStore(key_func, all_indexers)
