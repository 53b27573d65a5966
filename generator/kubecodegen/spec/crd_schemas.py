"""The validation part of each served CRD version's ``openAPIV3Schema``, for the fake API server.

kube-apiserver prunes unknown fields of a custom resource, applies its schema's defaults and
validates it against the structural schema; the generated fake does the same from the tables
this feeds (``SCHEMAS`` of ``_fake_api.py``). Only the CRD objects have the schema in full
(``--crd`` files, the CRDs ``--from-cluster`` lists): the published OpenAPI v2 drops
``default`` and the junctors. So, as for :func:`.crd_publish.crd_scales`, the schemas are read
from the CRDs themselves, after :mod:`.crd_files` turned v1beta1 into v1.

A schema is kept with only the keywords that constrain or shape a value
(:data:`VALIDATION_KEYWORDS`); descriptions, examples, CEL rules and anything unknown are
dropped. Keywords the server's Go types omit when false or empty (``nullable: false``,
``required: []``, ...) are dropped too, as the server does when it serves a CRD back, so that
``--crd FILE`` and ``--from-cluster`` give the same tables. Nothing here is code: the schemas
become Python source only through ``render.env.py_literal``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .crd_files import served_versions
from .records import CrdSchema

__all__ = ["VALIDATION_KEYWORDS", "crd_schemas", "validation_schema"]

#: What the fake's schema code reads; every other keyword is dropped.
VALIDATION_KEYWORDS = frozenset({
    "type", "format", "properties", "additionalProperties", "items", "required", "enum",
    "nullable", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems",
    "minProperties", "maxProperties", "allOf", "anyOf", "oneOf", "not",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
})
_PRESERVE = "x-kubernetes-preserve-unknown-fields"
#: Go ``bool`` fields with ``omitempty`` in apiextensions' JSONSchemaProps: absent when false.
_OMITTED_WHEN_FALSE = frozenset({"nullable", "uniqueItems", "exclusiveMinimum", "exclusiveMaximum",
                                 "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string"})
#: Go strings and slices with ``omitempty``: absent when empty.
_OMITTED_WHEN_EMPTY = frozenset({"type", "format", "pattern", "required", "enum", "x-kubernetes-list-map-keys"})
_JUNCTOR_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
#: Go ``*float64`` fields: the server serves ``1.0`` back as ``1``.
_FLOAT_KEYWORDS = frozenset({"minimum", "maximum", "multipleOf"})


def validation_schema(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` (a schema object) with only :data:`VALIDATION_KEYWORDS`, recursively, keys
    sorted (a new dict; ``node`` is untouched). A sub-schema that is not an object is dropped,
    and so is a list-form ``items`` (it cannot occur in a structural schema)."""
    out: dict[str, Any] = {}
    for key in sorted(node):
        if key in VALIDATION_KEYWORDS:
            kept = _keyword(key, node[key])
            if kept is not _DROP:
                out[key] = kept
    return out


_DROP = object()


def _keyword(key: str, value: Any) -> Any:
    """The kept form of one keyword's value, or ``_DROP``."""
    if key == "properties":
        if not isinstance(value, dict):
            return _DROP
        return {name: validation_schema(child) for name, child in sorted(value.items())
                if isinstance(child, dict)}
    if key in ("items", "not"):
        return validation_schema(value) if isinstance(value, dict) else _DROP
    if key == "additionalProperties":
        if isinstance(value, bool):
            return value
        return validation_schema(value) if isinstance(value, dict) else _DROP
    if key in _JUNCTOR_LISTS:
        return [validation_schema(item) for item in value if isinstance(item, dict)] \
            if isinstance(value, list) else _DROP
    if key in _OMITTED_WHEN_FALSE and value is False:
        return _DROP
    if key in _OMITTED_WHEN_EMPTY and value in ("", [], None):
        return _DROP
    if key in _FLOAT_KEYWORDS and isinstance(value, float) and value.is_integer():
        return int(value)
    return _json_copy(value)


def _json_copy(value: Any) -> Any:
    """A copy of a JSON value (``enum``, ``default``, ...) with object keys sorted."""
    if isinstance(value, dict):
        return {key: _json_copy(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


def _version_schema(spec: dict[str, Any], version: dict[str, Any]) -> dict[str, Any] | None:
    """The kept ``openAPIV3Schema`` of one version, or ``None`` when it gives none; a legacy
    ``preserveUnknownFields: true`` CRD keeps every unknown field, which its root now says."""
    holder = version.get("schema")
    source = holder.get("openAPIV3Schema") if isinstance(holder, dict) else None
    if not isinstance(source, dict):
        return None
    schema = validation_schema(source)
    if spec.get("preserveUnknownFields") is True:
        schema[_PRESERVE] = True
    return schema


def _canonical(schema: dict[str, Any]) -> str | None:
    """Canonical JSON text of ``schema`` (the record's form), or ``None`` when it is not
    plain JSON: a non-finite number or a value JSON cannot hold."""
    try:
        return json.dumps(schema, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None


def crd_schemas(crds: Iterable[Any]) -> tuple[CrdSchema, ...]:
    """The kept schema of every served version of ``crds`` (CRD objects as JSON in the v1
    shape, or :class:`CrdSchema` records already read), sorted by group-version-resource.

    As for scale paths, a malformed CRD or version is skipped (a cluster's CRDs are not
    validated here), and so is a schema that is not plain JSON (NaN, infinities) or is
    nested too deeply; the first entry for a group-version-resource wins."""
    found: dict[tuple[str, str, str], CrdSchema] = {}
    for crd in crds:
        if isinstance(crd, CrdSchema):
            found.setdefault((crd.group, crd.version, crd.resource), crd)
            continue
        for spec, version, key in served_versions(crd):
            if key in found:
                continue
            try:
                schema = _version_schema(spec, version)
            except RecursionError:
                continue
            text = None if schema is None else _canonical(schema)
            if text is not None:
                found[key] = CrdSchema(*key, text)
    return tuple(found[key] for key in sorted(found))
