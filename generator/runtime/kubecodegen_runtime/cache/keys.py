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
"""

from __future__ import annotations

from collections.abc import Mapping
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
