"""One class for identical nested shapes within one CRD version.

A CRD repeats the schema of every Go type each time a field uses it: cert-manager's
ClusterIssuer spells out ``LabelSelector`` eight times, most CRDs spell out
``{key, name, optional}`` (a SecretKeySelector) over and over. Generated naively, each
copy is a class of its own with a path-derived name. The rule here:

* two inline types of the **same definition** (one kind in one version) share one class
  when they would be generated identically apart from their name and docstring: the same
  fields with the same wire names, attribute names, types (nested types compared the
  same way), required flags, null readings, descriptions and merge rules (the fake API
  server merges each by its own ``x-kubernetes-*`` extensions);
* the shared class is the one named first in the builder's walk (depth-first, properties
  by name), so it keeps the name of its first occurrence; the copies disappear and every
  field that used one refers to it;
* nothing is shared across definitions, so a name never depends on other CRDs or on the
  other versions of the same CRD, and a definition's own classes (the kind, its list,
  every built-in type) are never merged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable

from .types import (
    ArrayOf,
    Field,
    LiteralOf,
    MapOf,
    Primitive,
    StructRef,
    StructType,
    TypeRef,
    UnionOf,
)

_Key = Hashable


def root_definition(struct_id: str) -> str:
    """The definition an inline type belongs to (``…ClusterIssuer/spec/acme`` → ``…ClusterIssuer``)."""
    return struct_id.split("/", 1)[0]


def share_identical_shapes(structs: dict[str, StructType], inline_order: Iterable[str]
                           ) -> tuple[dict[str, StructType], dict[str, str]]:
    """Structs with the copies removed and references rewritten, and copy → shared id."""
    keys: dict[str, _Key] = {}

    def type_key(ref: TypeRef) -> _Key:
        if isinstance(ref, StructRef):
            return ("struct", struct_key(ref.struct_id)) if "/" in ref.struct_id else ("ref", ref.struct_id)
        if isinstance(ref, ArrayOf):
            return ("array", type_key(ref.item))
        if isinstance(ref, MapOf):
            return ("map", type_key(ref.value))
        if isinstance(ref, UnionOf):
            return ("union", tuple(type_key(option) for option in ref.options))
        if isinstance(ref, LiteralOf):
            return ("literal", ref.values)
        assert isinstance(ref, Primitive)
        return ("primitive", ref.value)

    def struct_key(struct_id: str) -> _Key:
        if struct_id not in keys:  # inline types form a tree: no cycles to guard against
            struct = structs[struct_id]
            keys[struct_id] = (root_definition(struct_id), struct.module, tuple(
                (f.wire_name, f.py_name, type_key(f.type), f.required, f.description, f.null_as,
                 f.merge)
                for f in struct.fields))
        return keys[struct_id]

    first: dict[_Key, str] = {}
    replaced: dict[str, str] = {}
    for struct_id in inline_order:
        if struct_id not in structs:
            continue
        key = struct_key(struct_id)
        if key in first:
            replaced[struct_id] = first[key]
        else:
            first[key] = struct_id
    if not replaced:
        return structs, replaced
    kept = {struct_id: _rewrite(struct, replaced) for struct_id, struct in structs.items()
            if struct_id not in replaced}
    return kept, replaced


def _rewrite(struct: StructType, replaced: dict[str, str]) -> StructType:
    fields = tuple(_rewrite_field(f, replaced) for f in struct.fields)
    return struct if fields == struct.fields else dataclasses.replace(struct, fields=fields)


def _rewrite_field(field: Field, replaced: dict[str, str]) -> Field:
    new_type = _rewrite_type(field.type, replaced)
    return field if new_type == field.type else dataclasses.replace(field, type=new_type)


def _rewrite_type(ref: TypeRef, replaced: dict[str, str]) -> TypeRef:
    if isinstance(ref, StructRef):
        return StructRef(replaced.get(ref.struct_id, ref.struct_id))
    if isinstance(ref, ArrayOf):
        return ArrayOf(_rewrite_type(ref.item, replaced))
    if isinstance(ref, MapOf):
        return MapOf(_rewrite_type(ref.value, replaced))
    if isinstance(ref, UnionOf):
        return UnionOf(tuple(_rewrite_type(option, replaced) for option in ref.options))
    return ref
