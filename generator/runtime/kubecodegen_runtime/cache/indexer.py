"""Secondary indexes over a keyed store: index functions and their bookkeeping.

Vocabulary:

* *storage key* -- the primary key of an object in the store (see :mod:`.keys`).
* *index name* -- the name under which an index function is registered (``"namespace"``,
  ``"by_node"``).
* *index function* -- maps an object to the *indexed values* it is filed under: zero, one
  or several strings (a pod's node name; all of a pod's volume claim names).
* *indexed value* -- one string an index function returned; ``by_index(name, value)``
  answers every object filed under it.

An index is a map ``indexed value -> set of storage keys``. :class:`StoreIndex` keeps all
indexes of one store consistent with its items; it holds no lock and no objects, the store
that owns it does both. Index functions must be pure functions of the object: old index
entries are found by re-running the function on the old object, so an object mutated in
the cache (which is forbidden, see :mod:`.mutation`) would leave stale entries behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Generic, Protocol, TypeVar

from .keys import get_namespace

T = TypeVar("T")

IndexFunc = Callable[[T], Iterable[str]]
"""An index function: object -> the indexed values it is filed under."""

_NO_VALUES: frozenset[str] = frozenset()

NAMESPACE_INDEX = "namespace"
"""Name of the index every informer store has by default: objects by ``metadata.namespace``."""


def namespace_index_func(obj: object) -> list[str]:
    """Index function of :data:`NAMESPACE_INDEX` (cluster-scoped objects file under ``""``)."""
    return [get_namespace(obj)]


class IndexConflictError(ValueError):
    """Raised when an index name is registered twice."""


class UnknownIndexError(KeyError):
    """Raised when a query names an index that was never registered."""

    def __str__(self) -> str:
        return f"index {self.args[0]!r} does not exist"


class IndexFuncError(ValueError):
    """Raised when an index function fails or returns something other than strings."""


class Indexer(Protocol[T]):
    """Index queries of an indexed store, as listers and handlers see them."""

    def by_index(self, index_name: str, indexed_value: str) -> list[T]:
        """Every object filed under ``indexed_value`` in index ``index_name``."""
        ...

    def index_keys(self, index_name: str, indexed_value: str) -> list[str]:
        """Storage keys of the objects filed under ``indexed_value``."""
        ...

    def list_index_func_values(self, index_name: str) -> list[str]:
        """Every indexed value that currently has at least one object in ``index_name``."""
        ...

    def get_indexers(self) -> Mapping[str, IndexFunc[T]]:
        """The registered index functions by index name."""
        ...


class StoreIndex(Generic[T]):
    """Index bookkeeping for one store: not thread-safe; the owning store serializes calls."""

    __slots__ = ("_indexers", "_indices")

    def __init__(self, indexers: Mapping[str, IndexFunc[T]] | None = None) -> None:
        self._indexers: dict[str, IndexFunc[T]] = dict(indexers or {})
        self._indices: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}

    @property
    def indexers(self) -> Mapping[str, IndexFunc[T]]:
        return dict(self._indexers)

    def _values(self, index_name: str, func: IndexFunc[T], obj: T, key: str) -> set[str]:
        try:
            values = func(obj)
            result = set(values)
        except Exception as exc:
            raise IndexFuncError(
                f"index function {index_name!r} failed for object {key!r}: {exc}"
            ) from exc
        if not all(type(v) is str for v in result) and any(
                not isinstance(v, str) for v in result):
            bad = sorted(repr(type(v).__name__) for v in result if not isinstance(v, str))
            raise IndexFuncError(
                f"index function {index_name!r} returned non-string values ({', '.join(bad)})"
                f" for object {key!r}"
            )
        return result

    def compute(self, obj: T, key: str) -> dict[str, set[str]]:
        """Indexed values of ``obj`` for every index (raises before anything is changed)."""
        return {name: self._values(name, func, obj, key) for name, func in self._indexers.items()}

    def update(self, old: T | None, new: T | None, key: str) -> None:
        """Move ``key`` from the entries of ``old`` to those of ``new`` (either may be None).

        New values are computed first, so a failing index function leaves the index as it
        was and the caller can refuse the write.
        """
        new_values = self.compute(new, key) if new is not None else {}
        old_values = self.compute(old, key) if old is not None else {}
        for name in self._indexers:
            before, after = old_values.get(name, _NO_VALUES), new_values.get(name, _NO_VALUES)
            if before != after:  # most updates leave the indexed values alone
                self._apply(name, before, after, key)

    def _apply(self, name: str, old: AbstractSet[str], new: AbstractSet[str], key: str) -> None:
        index = self._indices[name]
        for value in old - new:
            keys = index.get(value)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    # Drop empty sets so churn through many indexed values does not leak.
                    del index[value]
        for value in new - old:
            index.setdefault(value, set()).add(key)

    def add_indexers(self, indexers: Mapping[str, IndexFunc[T]], items: Mapping[str, T]) -> None:
        """Register more index functions and file the existing ``items`` under them."""
        conflicts = sorted(set(indexers) & set(self._indexers))
        if conflicts:
            raise IndexConflictError(f"indexer(s) already registered: {', '.join(conflicts)}")
        built: dict[str, dict[str, set[str]]] = {}
        for name, func in indexers.items():
            index: dict[str, set[str]] = {}
            for key, obj in items.items():
                for value in self._values(name, func, obj, key):
                    index.setdefault(value, set()).add(key)
            built[name] = index
        # Only commit once every new index was built without error.
        self._indexers.update(indexers)
        self._indices.update(built)

    def rebuild(self, items: Mapping[str, T]) -> None:
        """Recompute every index from scratch (after a wholesale replace)."""
        fresh: dict[str, dict[str, set[str]]] = {name: {} for name in self._indexers}
        for key, obj in items.items():
            for name, values in self.compute(obj, key).items():
                index = fresh[name]
                for value in values:
                    index.setdefault(value, set()).add(key)
        self._indices = fresh

    def keys_for(self, index_name: str, indexed_value: str) -> set[str]:
        index = self._index(index_name)
        return set(index.get(indexed_value, ()))

    def keys_matching(self, index_name: str, obj: T, key: str) -> set[str]:
        """Keys sharing at least one indexed value with ``obj`` in ``index_name``."""
        index = self._index(index_name)
        result: set[str] = set()
        for value in self._values(index_name, self._indexers[index_name], obj, key):
            result.update(index.get(value, ()))
        return result

    def values(self, index_name: str) -> list[str]:
        return list(self._index(index_name))

    def _index(self, index_name: str) -> dict[str, set[str]]:
        try:
            return self._indices[index_name]
        except KeyError:
            raise UnknownIndexError(index_name) from None
