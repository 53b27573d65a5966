"""Event -> keys: which reconcile keys an informer notification asks for.

Three kinds of watch, as controller-runtime's builder and kube-rs' ``Controller``:

* **primary** (``For``): the key of the object itself. A deletion is delivered too, so
  the reconcile sees the key, finds nothing in the lister and cleans up.
* **owned** (``Owns``): the object's *controller* owner reference -- the one entry of
  ``metadata.ownerReferences`` with ``controller: true`` -- if its group (from
  ``apiVersion``; the version does not matter) and kind are the owner type's. The owner
  key is in the object's namespace, or ``""`` when the owner type is cluster-scoped.
  References without ``controller: true`` are ignored: an object may have many owners
  for garbage collection but is managed by one controller.
* **mapped** (``Watches``): any function of the object to keys.

Rules shared by all three (one handler class, :class:`EnqueueHandler`):

* an update asks for the keys of the old *and* the new object, so a dependent whose
  owner changed brings both owners to their reconcile (the old one must notice that it
  lost it);
* a deletion learned from a relist arrives as a
  :class:`~..cache.keys.DeletedFinalStateUnknown` tombstone; it is unwrapped and its last
  known state is mapped like any object;
* a mapper that raises is reported (``on_error``) and the notification produces no key;
  the informer and the other watches carry on. A key is asked for once per notification
  even if a mapper returns it twice;
* a :class:`Predicate` (controller-runtime's ``predicate.Funcs``) filters notifications
  before mapping: an add, update (old, new) or delete it refuses produces no key. A
  predicate that raises is reported like a mapper and lets the notification through --
  a spurious reconcile is harmless, a missed one is not.

Pure bookkeeping: no threads, no I/O. What happens to the keys (``queue.add``) is the
``enqueue`` callback's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..cache.keys import DeletedFinalStateUnknown, controller_of, get_namespace
from ..meta import GroupVersionKind, ResourceInfo
from .types import ObjectKey

T = TypeVar("T")

KeyMapper = Callable[[Any], Iterable[ObjectKey]]
"""Maps one object to the keys it should reconcile."""

OwnerType = ResourceInfo | GroupVersionKind | tuple[str, str]
"""How to name an owner type: a ResourceInfo (which also says whether it is namespaced),
a GroupVersionKind (the version is ignored) or a ``(group, kind)`` pair."""

_VERSION = re.compile(r"v[0-9]+((alpha|beta)[0-9]+)?")


def primary_keys(obj: object) -> list[ObjectKey]:
    """The key of ``obj`` itself (``For``)."""
    return [ObjectKey.of(obj)]


class OwnerMapper:
    """Maps an object to the key of its controller owner of one type (``Owns``).

    ``namespaced`` says where owners of this type live: ``True`` (in the dependent's
    namespace; a cluster-scoped dependent then has no such owner), ``False``
    (cluster-scoped: key namespace ``""``), or ``None`` when unknown: the dependent's
    namespace, which is right for every namespaced owner type and for cluster-scoped
    dependents.
    """

    __slots__ = ("group", "kind", "namespaced")

    def __init__(self, owner: OwnerType, namespaced: bool | None = None) -> None:
        if isinstance(owner, ResourceInfo):
            self.group, self.kind = owner.group, owner.kind
            if namespaced is None:
                namespaced = owner.namespaced
        elif isinstance(owner, GroupVersionKind):
            self.group, self.kind = owner.group, owner.kind
        else:
            group, kind = owner
            if "/" in group or _VERSION.fullmatch(group):
                raise ValueError(
                    f"owner {owner!r}: the pair is (group, kind), not (apiVersion, kind); "
                    "the core group is \"\"")
            self.group, self.kind = group, kind
        if not self.kind:
            raise ValueError("an owner type needs a kind")
        self.namespaced = namespaced

    def __call__(self, obj: object) -> list[ObjectKey]:
        ref = controller_of(obj)
        if ref is None or not ref.refers_to(self.group, self.kind):
            return []
        namespace = get_namespace(obj)
        if self.namespaced is False:
            namespace = ""
        elif self.namespaced and not namespace:
            return []  # a cluster-scoped object cannot have a namespaced owner
        return [ObjectKey(namespace, ref.name)]

    def __repr__(self) -> str:
        return f"OwnerMapper(group={self.group!r}, kind={self.kind!r})"


@dataclass(frozen=True, slots=True)
class Predicate:
    """Which notifications of a watch may ask for keys; a missing function passes all.

    ``on_update`` sees ``(old, new)``; for a resync replay ``old is new``. Deletions are
    given the object (a tombstone's last known state).
    """

    on_add: Callable[[Any], bool] | None = None
    on_update: Callable[[Any, Any], bool] | None = None
    on_delete: Callable[[Any], bool] | None = None


def _meta_field(obj: object, wire: str, attr: str) -> Any:
    meta = obj.get("metadata") if isinstance(obj, dict) else getattr(obj, "metadata", None)
    if isinstance(meta, dict):
        return meta.get(wire)
    return getattr(meta, attr, None)


def generation_changed() -> Predicate:
    """Updates pass only when ``metadata.generation`` changed (controller-runtime's
    ``GenerationChangedPredicate``): spec changes, not status-only writes or resyncs.
    Only for resources whose server keeps ``generation`` (custom resources, workloads)."""
    return Predicate(on_update=lambda old, new: _meta_field(old, "generation", "generation")
                     != _meta_field(new, "generation", "generation"))


def resource_version_changed() -> Predicate:
    """Updates pass only when ``metadata.resourceVersion`` changed: resync replays are
    dropped (client-go sample-controller's ``handleObject`` check)."""
    return Predicate(on_update=lambda old, new: old is not new and (
        _meta_field(old, "resourceVersion", "resource_version")
        != _meta_field(new, "resourceVersion", "resource_version")))


ErrorReport = Callable[[BaseException, object], None]
"""Called with the exception and the object when a mapper fails."""


def _unwrap(obj: object) -> object:
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


class EnqueueHandler(Generic[T]):
    """A :class:`~..cache.processor.ResourceEventHandler` that turns notifications into
    keys with ``mapper`` and hands each one to ``enqueue``."""

    __slots__ = ("enqueue", "mapper", "on_error", "predicate")

    def __init__(self, mapper: KeyMapper, enqueue: Callable[[ObjectKey], object],
                 on_error: ErrorReport, predicate: Predicate | None = None) -> None:
        self.mapper = mapper
        self.enqueue = enqueue
        self.on_error = on_error
        self.predicate = predicate

    def _passes(self, check: Callable[..., bool] | None, *objs: object) -> bool:
        if check is None:
            return True
        try:
            return bool(check(*objs))
        except Exception as exc:
            self.on_error(exc, objs[-1])
            return True

    def keys(self, *objs: object) -> list[ObjectKey]:
        """The distinct keys of ``objs`` (tombstones unwrapped), in first-seen order."""
        found: dict[ObjectKey, None] = {}
        for obj in objs:
            inner = _unwrap(obj)
            try:
                for key in self.mapper(inner):
                    found[key if type(key) is ObjectKey else ObjectKey(*key)] = None
            except Exception as exc:
                self.on_error(exc, inner)
        return list(found)

    def _send(self, keys: list[ObjectKey]) -> None:
        for key in keys:
            self.enqueue(key)

    def on_add(self, obj: T, is_in_initial_list: bool) -> None:
        if self.predicate is None or self._passes(self.predicate.on_add, obj):
            self._send(self.keys(obj))

    def on_update(self, old: T, new: T) -> None:
        if self.predicate is None or self._passes(self.predicate.on_update, old, new):
            self._send(self.keys(old) if old is new else self.keys(old, new))

    def on_delete(self, obj: T | DeletedFinalStateUnknown[T]) -> None:
        if self.predicate is None or self._passes(self.predicate.on_delete, _unwrap(obj)):
            self._send(self.keys(obj))
