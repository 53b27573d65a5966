"""Listers: read-only, typed views of an informer's cache.

A lister answers from memory, never from the API server: what it returns is as fresh as
the informer's last applied watch event. Use it in controllers instead of GET/LIST calls
(it is what keeps thousands of reconciles from hammering the server).

The objects returned are the cached instances themselves, shared with every handler and
other lister callers: never mutate them; copy first (``msgspec.structs.replace`` or
``copy.deepcopy``). See :mod:`.mutation`.

``get`` raises the runtime's :class:`~..errors.NotFound` (the same type a client GET
raises for a 404), so code can switch between a lister and a live GET without changing
its error handling.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Generic, Protocol, TypeVar

from ..errors import NotFound, StatusDetails
from ..labels import Selector, as_selector
from .indexer import NAMESPACE_INDEX
from .keys import get_labels, object_key

T = TypeVar("T")

SelectorLike = Selector | str | Mapping[str, str] | None
"""A label selector as text (``"app=web,tier in (a,b)"``), a dict of equalities, or parsed."""


class IndexedStoreReader(Protocol[T]):
    """What a lister reads: keyed lookups, full listings and the namespace index."""

    def get_by_key(self, key: str) -> T | None: ...

    def list(self) -> builtins.list[T]: ...

    def by_index(self, index_name: str, indexed_value: str) -> builtins.list[T]: ...


def _not_found(resource: str, group: str, name: str) -> NotFound:
    qualified = f"{resource}.{group}" if group else resource
    return NotFound(404, "NotFound", f'{qualified} "{name}" not found',
                    details=StatusDetails(name=name, group=group or None, kind=resource))


def _select(objects: builtins.list[T], selector: SelectorLike) -> builtins.list[T]:
    parsed = as_selector(selector)
    if parsed.is_everything():
        return objects
    return [obj for obj in objects if parsed.matches(get_labels(obj))]


class NamespaceLister(Generic[T]):
    """Objects of one namespace; built by :meth:`Lister.namespace`."""

    __slots__ = ("_group", "_namespace", "_resource", "_store")

    def __init__(self, store: IndexedStoreReader[T], namespace: str, resource: str = "",
                 group: str = "") -> None:
        if not namespace:
            raise ValueError("a namespace lister needs a non-empty namespace")
        self._store = store
        self._namespace = namespace
        self._resource = resource or "objects"
        self._group = group

    @property
    def namespace_name(self) -> str:
        return self._namespace

    def list(self, selector: SelectorLike = None) -> builtins.list[T]:
        """Cached objects of this namespace whose labels match ``selector`` (all if None).

        Raises :class:`~..labels.LabelSelectorError` for a malformed selector.
        """
        return _select(self._store.by_index(NAMESPACE_INDEX, self._namespace), selector)

    def get(self, name: str) -> T:
        """The cached object ``name`` of this namespace; :class:`~..errors.NotFound` if absent."""
        obj = self._store.get_by_key(object_key(self._namespace, name))
        if obj is None:
            raise _not_found(self._resource, self._group, name)
        return obj


class Lister(Generic[T]):
    """All cached objects of one informer.

    ``resource``/``group`` only name the resource in ``NotFound`` messages. :meth:`get`
    addresses cluster-scoped objects; namespaced ones go through :meth:`namespace`.
    """

    __slots__ = ("_group", "_resource", "_store")

    def __init__(self, store: IndexedStoreReader[T], resource: str = "", group: str = "") -> None:
        self._store = store
        self._resource = resource or "objects"
        self._group = group

    def list(self, selector: SelectorLike = None) -> builtins.list[T]:
        """Every cached object whose labels match ``selector`` (every namespace)."""
        return _select(self._store.list(), selector)

    def get(self, name: str) -> T:
        """The cluster-scoped cached object ``name``; :class:`~..errors.NotFound` if absent."""
        obj = self._store.get_by_key(object_key(None, name))
        if obj is None:
            raise _not_found(self._resource, self._group, name)
        return obj

    def namespace(self, namespace: str) -> NamespaceLister[T]:
        """A view of one namespace."""
        return NamespaceLister(self._store, namespace, self._resource, self._group)
