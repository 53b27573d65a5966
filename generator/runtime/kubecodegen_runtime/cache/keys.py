"""Object identity: metadata accessors, storage keys and the deletion tombstone.

Vocabulary (used by every module of the cache):

* *object* -- a decoded API object: either a generated msgspec struct (attributes in
  snake_case, ``obj.metadata.resource_version``) or, for dynamic informers, a plain ``dict``
  as decoded from JSON (wire names, ``obj["metadata"]["resourceVersion"]``). Every accessor
  here works on both, so the cache never cares which one it holds.
* *key* -- the storage key of an object: ``"<namespace>/<name>"`` for namespaced objects,
  ``"<name>"`` for cluster-scoped ones. Object identity in the cache is this key and nothing
  else (not the UID): a delete-and-recreate under the same name is an update of the key.
* *tombstone* -- a :class:`DeletedFinalStateUnknown`: what a delete handler receives when
  the cache learned of a deletion only by noticing, on a relist, that an object is gone.
  The deletion itself was missed (the watch was down), so the final state is unknown; the
  tombstone carries the last state the cache had.
* *owner reference* -- an entry of ``metadata.ownerReferences``, read as an
  :class:`OwnerRef` whatever shape the object has. At most one of them should have
  ``controller: true`` (the API server refuses a second one): that one names the object's
  managing controller, :func:`controller_of`. An owner is in the dependent's namespace, or
  cluster-scoped; the reference itself has no namespace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_EMPTY: Mapping[str, str] = {}


class KeyFuncError(ValueError):
    """Raised when an object cannot be keyed (it has no ``metadata.name``)."""


def _metadata(obj: object) -> Any:
    if isinstance(obj, dict):
        return obj.get("metadata")
    return getattr(obj, "metadata", None)


def _field(meta: Any, wire: str, attr: str) -> Any:
    if meta is None:
        return None
    if isinstance(meta, dict):
        return meta.get(wire)
    return getattr(meta, attr, None)


def get_name(obj: object) -> str:
    """``metadata.name``, or ``""`` when absent."""
    return _field(_metadata(obj), "name", "name") or ""


def get_namespace(obj: object) -> str:
    """``metadata.namespace``, or ``""`` for cluster-scoped objects."""
    return _field(_metadata(obj), "namespace", "namespace") or ""


def get_resource_version(obj: object) -> str:
    """``metadata.resourceVersion``, or ``""`` when absent."""
    return _field(_metadata(obj), "resourceVersion", "resource_version") or ""


def get_uid(obj: object) -> str:
    """``metadata.uid``, or ``""`` when absent."""
    return _field(_metadata(obj), "uid", "uid") or ""


def get_labels(obj: object) -> Mapping[str, str]:
    """``metadata.labels`` (never ``None``: an empty mapping when the object has none)."""
    labels = _field(_metadata(obj), "labels", "labels")
    return labels if labels is not None else _EMPTY


def get_annotations(obj: object) -> Mapping[str, str]:
    """``metadata.annotations`` (an empty mapping when the object has none)."""
    annotations = _field(_metadata(obj), "annotations", "annotations")
    return annotations if annotations is not None else _EMPTY


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """One ``metadata.ownerReferences`` entry, the same for typed and ``dict`` objects.

    ``controller`` and ``block_owner_deletion`` are ``False`` when the entry leaves them
    out (the server's default). Only the group of ``api_version`` identifies the owner's
    type together with ``kind``: the version is whichever one the writer used, and an
    owner served in several versions is the same object in all of them.
    """

    api_version: str
    kind: str
    name: str
    uid: str = ""
    controller: bool = False
    block_owner_deletion: bool = False

    @property
    def group(self) -> str:
        """The API group of the owner (``""`` for the core group)."""
        return self.api_version.rpartition("/")[0]

    def refers_to(self, group: str, kind: str) -> bool:
        """Whether this reference names an object of ``group`` and ``kind`` (any version)."""
        return self.kind == kind and self.group == group


def _owner_ref(entry: Any) -> OwnerRef | None:
    """An :class:`OwnerRef` from a wire dict or a generated ``OwnerReference`` struct;
    ``None`` for an entry without the fields that identify an owner."""
    if isinstance(entry, Mapping):
        api_version, kind, name = entry.get("apiVersion"), entry.get("kind"), entry.get("name")
        uid, controller = entry.get("uid"), entry.get("controller")
        block = entry.get("blockOwnerDeletion")
    else:
        api_version = getattr(entry, "api_version", None)
        kind, name = getattr(entry, "kind", None), getattr(entry, "name", None)
        uid, controller = getattr(entry, "uid", None), getattr(entry, "controller", None)
        block = getattr(entry, "block_owner_deletion", None)
    if not (isinstance(api_version, str) and isinstance(kind, str) and isinstance(name, str)):
        return None
    if not (kind and name):
        return None
    return OwnerRef(api_version, kind, name, uid if isinstance(uid, str) else "",
                    controller is True, block is True)


def get_owner_references(obj: object) -> Sequence[OwnerRef]:
    """``metadata.ownerReferences`` as :class:`OwnerRef` records, in order (empty if none).

    Entries that cannot name an owner (no kind or name, a wrong type -- possible in a
    ``dict`` from a dynamic informer) are left out rather than failing the caller.
    """
    entries = _field(_metadata(obj), "ownerReferences", "owner_references")
    if not entries or isinstance(entries, (str, bytes, Mapping)):
        return ()
    refs = []
    for entry in entries:
        ref = _owner_ref(entry)
        if ref is not None:
            refs.append(ref)
    return tuple(refs)


def controller_of(obj: object) -> OwnerRef | None:
    """The owner reference with ``controller: true`` (the first, as client-go's
    ``metav1.GetControllerOf``), or ``None`` when no controller owns ``obj``."""
    for ref in get_owner_references(obj):
        if ref.controller:
            return ref
    return None


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown(Generic[T]):
    """Tombstone for an object whose deletion was inferred, not observed.

    Produced when a relist no longer contains a key the cache held. ``obj`` is the last
    state the cache knew, which may be stale: handlers that need the object's final state
    must treat it as a best guess. ``key`` is the storage key the object was held under.
    """

    key: str
    obj: T


def meta_namespace_key(obj: object) -> str:
    """The storage key of ``obj`` (``namespace/name`` or ``name``).

    A tombstone yields the key it was created for, so a delete of a tombstone removes the
    right entry.
    """
    # Hot path (several calls per watch event): the two common shapes are spelled out.
    if isinstance(obj, dict):
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            name, namespace = meta.get("name"), meta.get("namespace")
        else:
            name = namespace = None
    elif isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    else:
        meta = getattr(obj, "metadata", None)
        if isinstance(meta, dict):
            name, namespace = meta.get("name"), meta.get("namespace")
        else:
            name = getattr(meta, "name", None)
            namespace = getattr(meta, "namespace", None)
    if not name or not isinstance(name, str):
        raise KeyFuncError(f"cannot key {type(obj).__name__}: it has no metadata.name")
    return f"{namespace}/{name}" if namespace else name


def split_meta_namespace_key(key: str) -> tuple[str, str]:
    """Split a storage key into ``(namespace, name)``; namespace is ``""`` if cluster-scoped."""
    parts = key.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2 and parts[0] and parts[1]:
        return parts[0], parts[1]
    raise KeyFuncError(f"unexpected storage key format: {key!r}")


def object_key(namespace: str | None, name: str) -> str:
    """The storage key of the object ``name`` in ``namespace`` (``None``/``""``: cluster)."""
    return f"{namespace}/{name}" if namespace else name
