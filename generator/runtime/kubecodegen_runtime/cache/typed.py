"""Typed per-resource informer accessors that generated ``informers/`` modules subclass.

``factory.core_v1.pods()`` returns one of these: it names the resource client class (what
to watch, what to decode into) and the generated lister class (how to read the cache),
and hands out the factory's shared informer. Everything else lives in the informer.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar, cast

from .factory import AsyncSharedInformerFactory, ResourceClass, SharedInformerFactory
from .informer import AsyncSharedInformer, SharedInformer
from .lister import IndexedStoreReader, Lister

T = TypeVar("T")
LT = TypeVar("LT", bound=Lister[Any])


class _Accessor(Generic[T, LT]):
    resource: ClassVar[ResourceClass[Any]]
    lister_class: ClassVar[type[Lister[Any]]]

    def _make_lister(self, store: IndexedStoreReader[T]) -> LT:
        info = self.resource.info
        return cast(LT, self.lister_class(store, info.resource, info.group))


class InformerAccessor(_Accessor[T, LT]):
    """A typed informer of one resource from a thread-based factory."""

    def __init__(self, factory: SharedInformerFactory) -> None:
        # Asking for a resource registers its informer, so the next factory.start()
        # runs it (client-go needs an explicit .Informer() call first; we do not).
        self._informer: SharedInformer[T] = factory.informer_for(self.resource)

    def informer(self) -> SharedInformer[T]:
        """The factory's shared informer for this resource."""
        return self._informer

    def lister(self) -> LT:
        """A typed, read-only view of the informer's cache."""
        return self._make_lister(self.informer().indexer)

    def add_event_handler(self, *args: Any, **kwargs: Any) -> Any:
        """Shorthand for ``informer().add_event_handler(...)``."""
        return self.informer().add_event_handler(*args, **kwargs)


class AsyncInformerAccessor(_Accessor[T, LT]):
    """A typed informer of one resource from an asyncio factory."""

    def __init__(self, factory: AsyncSharedInformerFactory) -> None:
        self._informer: AsyncSharedInformer[T] = factory.informer_for(self.resource)

    def informer(self) -> AsyncSharedInformer[T]:
        """The factory's shared informer for this resource."""
        return self._informer

    def lister(self) -> LT:
        return self._make_lister(self.informer().indexer)

    def add_event_handler(self, *args: Any, **kwargs: Any) -> Any:
        return self.informer().add_event_handler(*args, **kwargs)
