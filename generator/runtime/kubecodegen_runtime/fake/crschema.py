"""Custom resources as kube-apiserver treats them: what a CRD's structural schema does to
every object written.

A custom resource's body goes through four steps on the server, and the fake takes them in
the same order, for every create, update, patch and apply of the main resource and of its
``status`` (a patch's result is the body):

1. **pruning** (the decoder's ``unstructuredSchemaCoercer``), unless the CRD preserves
   unknown fields: a field the schema does not declare is dropped, at every level;
   ``x-kubernetes-preserve-unknown-fields`` keeps the unknown fields of its node (its known
   ones are still pruned below), ``x-kubernetes-embedded-resource`` and the root keep
   ``apiVersion``, ``kind`` and ``metadata``; ``additionalProperties`` prunes each value with
   its own schema;
2. **nulls**: a ``null`` map value whose schema is not ``nullable`` and has no ``default``
   is dropped (``PruneNonNullableNullsWithoutDefaults``; list items are kept);
3. **defaulting** (``structuraldefaulting.Default``): a missing property with a
   ``default``, or a non-nullable ``null`` one, takes a copy of it; defaults are applied
   before their own content is defaulted in turn;
4. **validation**, after the strategy's resets (:meth:`Schema.problems`): the OpenAPI
   checks kube-openapi's ``SchemaValidator`` makes, worded as the apiextensions server
   turns them into field errors (``Required value``, ``Unsupported value: ...`` for
   ``enum``, ``Invalid value: ...`` for the rest), then the ``x-kubernetes-list-type``
   invariants (no duplicate set items, no two list-map items with the same keys; on an
   update only when the old object had none), then the scale subresource's replicas and
   selector paths.

What is not checked (docs/testing.md lists it): ``format``, the ``allOf``/``anyOf``/
``oneOf``/``not`` junctors, the metadata of embedded resources, and CEL rules (which 1.20
does not have).

Schemas come from the package (``PackageApi.schemas``: the CRD's ``openAPIV3Schema``,
validation keywords only) and are compiled once per api (:func:`schema_for`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from ..meta import ResourceInfo
from .derived import derived
from .gofmt import go_float, go_plain, go_quote, go_type, go_value
from .objmeta import Cause
from .schema import PackageApi, ScalePaths

#: The fields of an object's type and identity that pruning never touches at the root
#: and in embedded resources (``TypeMeta`` and ``ObjectMeta``).
_META_FIELDS = frozenset({"apiVersion", "kind", "metadata"})
_encode = msgspec.json.Encoder(order="sorted").encode
_decode = msgspec.json.decode


class Schema:
    """One node of a structural schema, compiled: the keywords the four steps read."""

    __slots__ = (
        "additional",
        "default",
        "embedded",
        "enum",
        "exclusive_maximum",
        "exclusive_minimum",
        "has_additional",
        "has_default",
        "items",
        "list_type",
        "map_keys",
        "max_items",
        "max_length",
        "max_properties",
        "maximum",
        "min_items",
        "min_length",
        "min_properties",
        "minimum",
        "multiple_of",
        "nullable",
        "pattern",
        "preserve",
        "properties",
        "required",
        "types",
        "unique_items",
    )

    def __init__(self, node: Mapping[str, Any]) -> None:
        types: tuple[str, ...] = (node["type"],) if isinstance(node.get("type"), str) else ()
        if node.get("x-kubernetes-int-or-string") is True:
            types = ("integer", "string")
        self.types = types
        self.nullable = node.get("nullable") is True
        properties = node.get("properties")
        self.properties: dict[str, Schema] | None = (
            {name: Schema(child) for name, child in properties.items() if isinstance(child, Mapping)}
            if isinstance(properties, Mapping) else None)
        additional = node.get("additionalProperties")
        #: the values' schema; ``None`` with :attr:`has_additional` for ``true`` (values of
        #: any content are pruned as the server prunes under no schema)
        self.additional: Schema | None = Schema(additional) if isinstance(additional, Mapping) \
            else None
        self.has_additional = additional is not None and additional is not False
        items = node.get("items")
        self.items: Schema | None = Schema(items) if isinstance(items, Mapping) else None
        self.preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
        self.embedded = node.get("x-kubernetes-embedded-resource") is True
        self.has_default = "default" in node
        self.default = node.get("default")
        self.required = tuple(r for r in node.get("required") or () if isinstance(r, str))
        enum = node.get("enum")
        self.enum: tuple[Any, ...] | None = tuple(enum) if isinstance(enum, list) and enum else None
        self.minimum = _number(node.get("minimum"))
        self.maximum = _number(node.get("maximum"))
        self.exclusive_minimum = node.get("exclusiveMinimum") is True
        self.exclusive_maximum = node.get("exclusiveMaximum") is True
        self.multiple_of = _number(node.get("multipleOf"))
        self.min_length = _count(node.get("minLength"))
        self.max_length = _count(node.get("maxLength"))
        pattern = node.get("pattern")
        self.pattern: tuple[str, re.Pattern[str] | None] | None = (
            (pattern, _compile(pattern)) if isinstance(pattern, str) and pattern else None)
        self.min_items = _count(node.get("minItems"))
        self.max_items = _count(node.get("maxItems"))
        self.unique_items = node.get("uniqueItems") is True
        self.min_properties = _count(node.get("minProperties"))
        self.max_properties = _count(node.get("maxProperties"))
        list_type = node.get("x-kubernetes-list-type")
        self.list_type = list_type if list_type in ("set", "map") else None
        self.map_keys = tuple(k for k in node.get("x-kubernetes-list-map-keys") or ()
                              if isinstance(k, str))

    def field(self, name: str) -> Schema | None:
        """The schema of an object's field ``name``: its property, else the
        ``additionalProperties`` schema (``getSchemaForField``)."""
        if self.properties is not None and name in self.properties:
            return self.properties[name]
        return self.additional

    # -- 1.–3. --------------------------------------------------------------------------

    def coerce(self, obj: dict[str, Any]) -> None:
        """Steps 1–3 on a whole object, in place, as the server's decoder takes them (the
        root keeps its type and metadata; a CRD that preserves unknown fields says so at
        its root, and then only its known fields are pruned)."""
        _prune_fields(obj, self, keep_meta=True, preserve=self.preserve)
        _drop_nulls(obj, self)
        _default(obj, self)

    # -- 4. validation ---------------------------------------------------------------

    def problems(self, obj: dict[str, Any], *, old: dict[str, Any] | None = None,
                 scale: ScalePaths | None = None, status_only: bool = False) -> list[Cause]:
        """Step 4: the causes of the server's 422 for ``obj`` (``old``: the stored object of an
        update; ``status_only``: a write of the ``status`` subresource, which does not check
        the scale's spec path)."""
        causes: list[Cause] = []
        _validate(obj, self, "", causes)
        if old is None or not _list_problems(old, self, ""):
            causes += _list_problems(obj, self, "")
        if scale is not None:
            causes += _scale_problems(obj, scale, status_only)
        return causes


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _compile(pattern: str) -> re.Pattern[str] | None:
    """A CRD's ``pattern`` (Go's RE2 syntax, which Python's ``re`` reads for the patterns
    CRDs use); ``None`` if Python cannot compile it."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


# -- pruning ------------------------------------------------------------------------------

def _prune_fields(obj: dict[str, Any], schema: Schema | None, *, keep_meta: bool,
                  preserve: bool) -> None:
    """Drop what ``schema`` does not declare from the object ``obj`` (``preserve``: keep
    unknown fields, prune only the known ones' content)."""
    for name in list(obj):
        if keep_meta and name in _META_FIELDS:
            continue
        value = obj[name]
        if schema is not None and schema.properties is not None and name in schema.properties:
            _prune(value, schema.properties[name])
        elif schema is not None and schema.has_additional:
            _prune(value, schema.additional)
        elif not preserve:
            del obj[name]


def _prune(value: Any, schema: Schema | None, *, preserve: bool = False) -> None:
    """Prune ``value`` under ``schema`` (``None``: no schema, nothing of an object is
    kept); ``preserve``: as if ``schema`` preserved unknown fields (the items of a
    preserving list: the server's ``skipPrune`` goes down into them so)."""
    preserve = preserve or (schema is not None and schema.preserve)
    if isinstance(value, dict):
        if schema is None:
            if not preserve:
                value.clear()
            return
        _prune_fields(value, schema, keep_meta=schema.embedded, preserve=preserve)
    elif isinstance(value, list):
        if preserve and (schema is None or schema.items is None):
            return  # a preserved list without an item schema keeps its items whole
        items = schema.items if schema is not None else None
        for item in value:
            _prune(item, items, preserve=preserve)


# -- nulls and defaults -----------------------------------------------------------------------

def _drop_nulls(value: Any, schema: Schema | None) -> None:
    if isinstance(value, dict):
        for name in list(value):
            child = schema.field(name) if schema is not None else None
            item = value[name]
            if item is None and child is not None and not child.nullable \
                    and child.default is None:
                del value[name]
            else:
                _drop_nulls(item, child)
    elif isinstance(value, list):
        items = schema.items if schema is not None else None
        for item in value:
            _drop_nulls(item, items)


def _fresh(value: Any) -> Any:
    """A deep copy of a default (JSON in, JSON out: a default is never shared)."""
    return _decode(_encode(value))


def _null_to_default(value: Any, schema: Schema | None) -> Any:
    if value is None and schema is not None and not schema.nullable and schema.has_default:
        return _fresh(schema.default)
    return value


def _default(value: Any, schema: Schema | None) -> None:
    if schema is None:
        return
    if isinstance(value, dict):
        if schema.properties is not None:
            for name, prop in schema.properties.items():
                if prop.has_default and prop.default is not None and (
                        name not in value or (value[name] is None and not prop.nullable)):
                    value[name] = _fresh(prop.default)
        for name in list(value):
            if schema.properties is not None and name in schema.properties:
                _default(value[name], schema.properties[name])
            elif schema.additional is not None:
                value[name] = _null_to_default(value[name], schema.additional)
                _default(value[name], schema.additional)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _null_to_default(item, schema.items)
            _default(value[index], schema.items)


# -- validation -------------------------------------------------------------------------------

def _kind_of(value: Any) -> str:
    """The OpenAPI type name of a JSON value (``schemaInfoForType``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _where(path: str) -> str:
    """The field a kube-openapi path names (``.spec`` at the root is ``spec``)."""
    return path[1:] if path.startswith(".") else path


def _invalid(causes: list[Cause], path: str, value: Any, detail: str) -> None:
    causes.append(("FieldValueInvalid", _where(path),
                   f"Invalid value: {go_value(value)}: {detail}"))


def _validate(value: Any, schema: Schema, path: str, causes: list[Cause]) -> None:
    """One node of kube-openapi's ``SchemaValidator``: its validators in their order
    (type, string, number, slice, enum, object), each applying by the value's kind."""
    name = path
    kind = _kind_of(value)
    if schema.types:
        integral_float = kind == "number" and float(value).is_integer()
        if value is None:
            if not schema.nullable:
                _invalid(causes, path, "null",
                         f"{name} in body must be of type {','.join(schema.types)}: \"null\"")
        elif not (kind in schema.types or (integral_float and "integer" in schema.types)
                  or (kind == "integer" and "number" in schema.types)):
            _invalid(causes, path, kind,
                     f"{name} in body must be of type {','.join(schema.types)}: \"{kind}\"")
    if value is None:
        _check_enum(value, schema, path, causes)
        return
    if kind == "string":
        _check_string(value, schema, name, path, causes)
    elif kind in ("integer", "number"):
        _check_number(value, schema, name, path, causes)
    elif kind == "array":
        _check_array(value, schema, name, path, causes)
    _check_enum(value, schema, path, causes)
    if kind == "object":
        _check_object(value, schema, name, path, causes)


def _check_string(value: str, schema: Schema, name: str, path: str,
                  causes: list[Cause]) -> None:
    # the string validator stops at its first failure
    if schema.max_length is not None and len(value) > schema.max_length:
        _invalid(causes, path, value,
                 f"{name} in body should be at most {schema.max_length} chars long")
    elif schema.min_length is not None and len(value) < schema.min_length:
        _invalid(causes, path, value,
                 f"{name} in body should be at least {schema.min_length} chars long")
    elif schema.pattern is not None:
        pattern, compiled = schema.pattern
        if compiled is not None and compiled.search(value) is None:
            _invalid(causes, path, value, f"{name} in body should match '{pattern}'")


def _check_number(value: int | float, schema: Schema, name: str, path: str,
                  causes: list[Cause]) -> None:
    """``multipleOf``, ``minimum``, ``maximum`` in that order. An integer is compared with
    the bounds cut to integers (``int64(max)``) and the message shows the cut bound."""
    is_int = isinstance(value, int)

    def bound(limit: float) -> tuple[float, str]:
        if is_int:
            cut = math.trunc(limit) if math.isfinite(limit) else limit
            return cut, str(int(cut)) if math.isfinite(cut) else go_float(cut)
        return limit, go_float(limit)

    if schema.multiple_of is not None:
        factor = schema.multiple_of
        if is_int and math.isfinite(factor) and int(factor) != 0:
            whole = int(factor)
            if whole > 0 and value % whole != 0:
                _invalid(causes, path, value, f"{name} in body should be a multiple of {whole}")
        elif factor > 0:
            mult = (1 / factor) * value if factor < 1 else value / factor
            if not float(mult).is_integer():
                _invalid(causes, path, value,
                         f"{name} in body should be a multiple of {go_float(factor)}")
    if schema.minimum is not None:
        low, shown = bound(schema.minimum)
        if value < low or (schema.exclusive_minimum and value <= low):
            relation = "greater than" if schema.exclusive_minimum else \
                "greater than or equal to"
            _invalid(causes, path, value, f"{name} in body should be {relation} {shown}")
    if schema.maximum is not None:
        high, shown = bound(schema.maximum)
        if value > high or (schema.exclusive_maximum and value >= high):
            relation = "less than" if schema.exclusive_maximum else "less than or equal to"
            _invalid(causes, path, value, f"{name} in body should be {relation} {shown}")


def _check_array(value: list[Any], schema: Schema, name: str, path: str,
                 causes: list[Cause]) -> None:
    if schema.items is not None:
        # kube-openapi names each item ``<list>.<index>`` with SetPath, too late for the
        # validators the item's SchemaValidator already made: its errors name the list
        for item in value:
            _validate(item, schema.items, path, causes)
    size = len(value)
    if schema.min_items is not None and size < schema.min_items:
        _invalid(causes, path, size, f"{name} in body should have at least {schema.min_items} items")
    if schema.max_items is not None and size > schema.max_items:
        _invalid(causes, path, size, f"{name} in body should have at most {schema.max_items} items")
    if schema.unique_items and _has_duplicates(value):
        _invalid(causes, path, "", f"{name} in body shouldn't contain duplicates")


def _same_json(a: Any, b: Any) -> bool:
    """Go's ``reflect.DeepEqual`` of two decoded JSON values (``1`` is not ``1.0``)."""
    return type(a) is type(b) and _encode(a) == _encode(b)


def _has_duplicates(values: list[Any]) -> bool:
    return any(_same_json(v, u) for i, v in enumerate(values) for u in values[:i])


def _enum_matches(value: Any, option: Any) -> bool:
    """``basicCommonValidator``: a value matches an enum entry of the same JSON kind (numbers
    compare as numbers, as Go converts one to the other's type); ``null`` never does."""
    if value is None or option is None:
        return False
    if isinstance(value, bool) or isinstance(option, bool):
        return isinstance(value, bool) and isinstance(option, bool) and value == option
    if isinstance(value, (int, float)) and isinstance(option, (int, float)):
        return float(value) == float(option)
    return _same_json(value, option)


def _check_enum(value: Any, schema: Schema, path: str, causes: list[Cause]) -> None:
    if schema.enum is None or any(_enum_matches(value, option) for option in schema.enum):
        return
    allowed = ", ".join(go_quote(o if isinstance(o, str) else _json_text(o)) for o in schema.enum)
    causes.append(("FieldValueNotSupported", _where(path),
                   f"Unsupported value: {go_value(value)}: supported values: {allowed}"))


def _json_text(value: Any) -> str:
    """Go's ``json.Marshal`` of an enum entry (maps with sorted keys)."""
    return _encode(value).decode()


def _check_object(value: dict[str, Any], schema: Schema, name: str, path: str,
                  causes: list[Cause]) -> None:
    # the property counts end the object's checks when they fail
    if schema.min_properties is not None and len(value) < schema.min_properties:
        _invalid(causes, path, schema.min_properties,
                 f"{name} in body should have at least {schema.min_properties} properties")
        return
    if schema.max_properties is not None and len(value) > schema.max_properties:
        _invalid(causes, path, schema.max_properties,
                 f"{name} in body should have at most {schema.max_properties} properties")
        return
    properties = schema.properties or {}
    if schema.additional is not None:
        for key, item in value.items():
            if key not in properties:
                _validate(item, schema.additional, f"{path}.{key}", causes)
    for key, prop in properties.items():
        if key in value:
            _validate(value[key], prop, f"{path}.{key}" if path else key, causes)
    for key in schema.required:
        if key not in value:
            causes.append(("FieldValueRequired", _where(f"{path}.{key}"), "Required value"))


# -- list types ---------------------------------------------------------------------------------

def _field_path(base: str, child: str) -> str:
    return f"{base}.{child}" if base else child


def _list_problems(obj: Any, schema: Schema | None, path: str) -> list[Cause]:
    """``ValidateListSetsAndMaps``: the ``x-kubernetes-list-type`` invariants, paths in
    ``field.Path`` form (``spec.ports[1]``)."""
    causes: list[Cause] = []
    if schema is None:
        return causes
    if isinstance(obj, dict):
        for key, value in obj.items():
            if schema.properties is not None and key in schema.properties:
                causes += _list_problems(value, schema.properties[key], _field_path(path, key))
            elif schema.additional is not None:
                causes += _list_problems(value, schema.additional, f"{path}[{key}]")
    elif isinstance(obj, list):
        if schema.list_type == "set":
            for index in _repeated(obj):
                causes.append(_duplicate(f"{path}[{index}]", obj[index]))
        elif schema.list_type == "map":
            causes += _list_map_problems(obj, schema, path)
        for index, item in enumerate(obj):
            causes += _list_problems(item, schema.items, f"{path}[{index}]")
    return causes


def _repeated(values: list[Any]) -> list[int]:
    """The index of the second occurrence of each value that occurs more than once."""
    seen: dict[bytes, int] = {}
    out: list[int] = []
    for index, value in enumerate(values):
        key = (type(value).__name__.encode() if not isinstance(value, (dict, list)) else b"") \
            + _encode(value)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            out.append(index)
    return out


def _list_map_problems(items: list[Any], schema: Schema, path: str) -> list[Cause]:
    for index, item in enumerate(items):
        if item is not None and not isinstance(item, dict):
            return [("FieldValueInvalid", f"{path}[{index}]",
                     f"Invalid value: {go_value(item)}: must be an object for an array of "
                     "list-type map")]
    if len(items) <= 1:
        return []
    keys: list[Any] = []
    for item in items:
        key = {k: item[k] for k in schema.map_keys if isinstance(item, dict) and k in item}
        keys.append(key)
    return [_duplicate(f"{path}[{index}]", keys[index]) for index in _repeated(keys)]


def _duplicate(path: str, value: Any) -> Cause:
    return ("FieldValueDuplicate", path, f"Duplicate value: {go_value(value)}")


# -- the scale subresource's paths ----------------------------------------------------------------

def _nested(obj: dict[str, Any], path: str, expected: str) -> tuple[Any, str | None]:
    """``unstructured.Nested*``: the value at a ``.a.b`` path and the accessor's error."""
    fields = path.lstrip(".").split(".")
    value: Any = obj
    for index, name in enumerate(fields):
        if value is None:
            return None, None
        if not isinstance(value, dict):
            where = "." + ".".join(fields[:index + 1])
            return None, (f"{where} accessor error: {go_plain(value)} is of the type "
                          f"{go_type(value)}, expected map[string]interface{{}}")
        if name not in value:
            return None, None
        value = value[name]
    wanted = {"int64": int, "string": str}[expected]
    if value is not None and not (isinstance(value, wanted) and not isinstance(value, bool)):
        return None, (f".{'.'.join(fields)} accessor error: {go_plain(value)} is of the type "
                      f"{go_type(value)}, expected {expected}")
    if value is None:
        # a null at the end: Go's type assertion of nil fails as well
        return None, (f".{'.'.join(fields)} accessor error: <nil> is of the type <nil>, "
                      f"expected {expected}")
    return value, None


def _replicas_problem(obj: dict[str, Any], path: str) -> Cause | None:
    value, error = _nested(obj, path, "int64")
    count = value if isinstance(value, int) else 0
    if error is not None:
        return ("FieldValueInvalid", path, f"Invalid value: {count}: {error}")
    if count < 0:
        return ("FieldValueInvalid", path,
                f"Invalid value: {count}: should be a non-negative integer")
    if count > 2**31 - 1:
        return ("FieldValueInvalid", path,
                f"Invalid value: {count}: should be less than or equal to {2**31 - 1}")
    return None


def _scale_problems(obj: dict[str, Any], scale: ScalePaths, status_only: bool) -> list[Cause]:
    """``ValidateScaleSpec`` (not for status writes) and ``ValidateScaleStatus``."""
    causes: list[Cause] = []
    for path in ((scale.status_replicas,) if status_only else
                 (scale.spec_replicas, scale.status_replicas)):
        problem = _replicas_problem(obj, path)
        if problem is not None:
            causes.append(problem)
    if scale.label_selector is not None:
        _, error = _nested(obj, scale.label_selector, "string")
        if error is not None:
            causes.append(("FieldValueInvalid", scale.label_selector,
                           f"Invalid value: \"\": {error}"))
    return causes


# -- per api --------------------------------------------------------------------------------------

def schema_for(api: PackageApi, info: ResourceInfo) -> Schema | None:
    """The compiled schema of a custom resource version, or ``None`` when the package has
    none for it (a built-in resource, or a CRD version without a schema)."""
    key = (info.group, info.version, info.resource)
    tables = derived(api).custom_schemas
    if key in tables:
        known: Schema | None = tables[key]
        return known
    node = api.schemas.get(key)
    compiled = tables[key] = Schema(node) if isinstance(node, Mapping) else None
    return compiled
