"""What an event is about: an ObjectReference built from whatever the caller holds.

client-go's ``reference.GetReference`` asks the scheme for an object's kind; here the
object says it itself, in one of three shapes, and :func:`reference_of` reads all three:

* a typed object (a generated msgspec struct): ``api_version``/``kind`` as decoded, or the
  class constant ``GVK`` when they are empty (items of a list arrive without them), and
  ``metadata.name/namespace/uid/resource_version``;
* an unstructured ``dict`` as decoded from JSON (``apiVersion``, ``kind``, ``metadata``);
* a reference already (an :class:`ObjectReference`, a ``dict`` with a top-level ``name`` and
  no ``metadata``, or a typed ObjectReference struct): its fields are kept, ``fieldPath``
  included.

A reference needs a ``kind`` and a ``name``; anything else raises ``ValueError`` (the
recorder logs and counts it, it never reaches the caller).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..cache import keys


@dataclass(frozen=True, slots=True)
class ObjectReference:
    """core/v1 ObjectReference, hashable: part of the keys that correlate events."""

    api_version: str
    kind: str
    name: str
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    field_path: str = ""

    def to_wire(self) -> dict[str, str]:
        """The JSON form, empty fields left out as the API server writes them."""
        wire = {
            "apiVersion": self.api_version, "kind": self.kind, "name": self.name,
            "namespace": self.namespace, "uid": self.uid,
            "resourceVersion": self.resource_version, "fieldPath": self.field_path,
        }
        return {k: v for k, v in wire.items() if v}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _from_mapping_reference(ref: Mapping[str, Any]) -> ObjectReference:
    return ObjectReference(
        api_version=_text(ref.get("apiVersion")), kind=_text(ref.get("kind")),
        name=_text(ref.get("name")), namespace=_text(ref.get("namespace")),
        uid=_text(ref.get("uid")), resource_version=_text(ref.get("resourceVersion")),
        field_path=_text(ref.get("fieldPath")))


def _from_typed_reference(ref: object) -> ObjectReference:
    return ObjectReference(
        api_version=_text(getattr(ref, "api_version", None)), kind=_text(getattr(ref, "kind", None)),
        name=_text(getattr(ref, "name", None)), namespace=_text(getattr(ref, "namespace", None)),
        uid=_text(getattr(ref, "uid", None)),
        resource_version=_text(getattr(ref, "resource_version", None)),
        field_path=_text(getattr(ref, "field_path", None)))


def _type_of(obj: object) -> tuple[str, str]:
    if isinstance(obj, Mapping):
        return _text(obj.get("apiVersion")), _text(obj.get("kind"))
    api_version = _text(getattr(obj, "api_version", None))
    kind = _text(getattr(obj, "kind", None))
    gvk = getattr(type(obj), "GVK", None)
    if gvk is not None:
        api_version = api_version or _text(getattr(gvk, "api_version", None))
        kind = kind or _text(getattr(gvk, "kind", None))
    return api_version, kind


def _build(obj: object) -> ObjectReference:
    if isinstance(obj, ObjectReference):
        return obj
    if isinstance(obj, Mapping):
        if "metadata" not in obj:
            return _from_mapping_reference(obj)
    elif getattr(obj, "metadata", None) is None:
        return _from_typed_reference(obj)
    api_version, kind = _type_of(obj)
    return ObjectReference(
        api_version=api_version, kind=kind, name=keys.get_name(obj),
        namespace=keys.get_namespace(obj), uid=keys.get_uid(obj),
        resource_version=keys.get_resource_version(obj))


def reference_of(obj: object) -> ObjectReference:
    """The reference to ``obj`` (see the module docstring); ``ValueError`` without kind/name."""
    if obj is None:
        raise ValueError("an event needs an object to be about, got None")
    ref = _build(obj)
    if not ref.kind or not ref.name:
        raise ValueError(
            f"cannot build an ObjectReference to a {type(obj).__name__}: it needs a kind and a "
            f"name (got kind={ref.kind[:64]!r}, name={ref.name[:64]!r})")
    return ref


def optional_reference_of(obj: object | None) -> ObjectReference | None:
    """``related`` is optional: ``None`` stays ``None``; an unusable object raises as above."""
    return None if obj is None else reference_of(obj)
