"""Swagger definitions → struct types (and the aliases that are inlined instead).

A definition becomes one of:

* a **struct** (an object with properties), rendered as a msgspec ``Struct``;
* a **special** runtime type (``fixups.special``: Quantity, Time, IntOrString …);
* an **alias** inlined at every use (a definition that is just a string, a map, or
  free-form JSON) — recorded as skipped with that reason.

Custom resources publish one definition whose nested objects are inline schemas; each
inline object becomes a struct named after its owner and the property path
(``ServiceMonitor`` → ``ServiceMonitorSpec`` → ``ServiceMonitorSpecEndpoints``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from .. import naming
from ..fixups import special as special_fixups
from ..spec.records import Schema
from .types import (
    NO_MERGE_RULES,
    ArrayOf,
    Field,
    GroupVersionKind,
    LiteralOf,
    MapOf,
    MergeRules,
    NullAs,
    Primitive,
    Skipped,
    StructRef,
    StructType,
    TypeRef,
)

_HOISTED = ("apiVersion", "kind", "metadata")


class ModelError(Exception):
    """The spec says something the model cannot represent; names the JSON pointer."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"#{pointer}: {message}")
        self.pointer = pointer
        self.message = message


def single_gvk(schema: Schema) -> GroupVersionKind | None:
    """The definition's GroupVersionKind if it has exactly one, else None."""
    gvks = schema.group_version_kinds
    return gvks[0] if len(gvks) == 1 else None


def _is_struct_schema(schema: Schema) -> bool:
    return (schema.properties is not None and schema.type in (None, "object")
            and _unrepresentable_name(schema.properties) is None)


class DefinitionsBuilder:
    """Turns the ``definitions`` of one (fixed-up) document into struct types."""

    def __init__(self, definitions: Mapping[str, Schema], module_of: Callable[[str], str],
                 custom_resource_kinds: Collection[GroupVersionKind] = ()) -> None:
        self._definitions = definitions
        # struct ids (definitions and their inline types) whose enums the server enforces
        self._enforced: set[str] = {
            name for name, schema in definitions.items()
            if any(gvk in custom_resource_kinds for gvk in schema.group_version_kinds)}
        self._module_of = module_of
        self.structs: dict[str, StructType] = {}
        self.aliases: dict[str, TypeRef] = {}
        self.skipped: list[Skipped] = []
        self._names: dict[str, set[str]] = {}  # module -> class names taken
        self._class_of: dict[str, tuple[str, str]] = {}  # definition -> (module, class)
        self._specials: set[str] = set()
        self.skipped_fields: list[Skipped] = []
        self._resolving: set[str] = set()
        # inline struct id -> its definition's class and the property path, one word each
        self._name_parts: dict[str, tuple[str, ...]] = {}
        self.inline_order: list[str] = []  # inline struct ids in the order they were named

    def build(self) -> None:
        struct_definitions: list[str] = []
        for name in sorted(self._definitions):
            schema = self._definitions[name]
            special = special_fixups.special_type(name, schema)
            if special is not None:
                self.aliases[name] = special
                self._specials.add(name)
                self.skipped.append(Skipped(name, f"runtime type ({special!r})"))
            elif _is_struct_schema(schema):
                struct_definitions.append(name)
        # Definitions claim their class names before any inline type is named.
        for name in struct_definitions:
            module = self._module_of(naming.definition_namespace(name))
            taken = self._names.setdefault(module, set())
            self._class_of[name] = (module, naming.unique(naming.class_name(
                naming.definition_short_name(name)), taken))
        # Remaining non-struct definitions are inlined where used.
        for name in sorted(self._definitions):
            if name in self._class_of or name in self._specials:
                continue
            alias = self.aliases.get(name)
            if alias is None:
                alias = self._type_of(self._definitions[name], owner=None)
                self.aliases[name] = alias
            self.skipped.append(Skipped(name, f"inlined as {alias!r}"))
        for name in struct_definitions:
            module, class_name = self._class_of[name]
            self._build_struct(name, self._definitions[name], module, class_name,
                               gvk=single_gvk(self._definitions[name]))

    # -- structs -----------------------------------------------------------------

    def _build_struct(self, struct_id: str, schema: Schema, module: str, class_name: str,
                      gvk: GroupVersionKind | None) -> StructRef:
        properties: Mapping[str, Schema] = schema.properties or {}
        required = schema.required
        wire_names = [p for p in _HOISTED if p in properties] + [p for p in properties if p not in _HOISTED]
        py_names = naming.attribute_names(wire_names)
        owner = (struct_id, module, class_name)
        # Types are made in the order of the property names, not of the document, so that
        # the names inline types claim (and number) are the same whichever order a CRD
        # file lists its properties in and a server serves them in (sorted, as Go does).
        types: dict[str, TypeRef] = {}
        for wire in sorted(wire_names):
            types[wire] = self._type_of(properties[wire], owner=(owner, wire))
        fields = []
        for wire in wire_names:
            prop, ftype = properties[wire], types[wire]
            is_required = wire in required and not prop.nullable and not server_defaulted(prop)
            fields.append(Field(wire, py_names[wire], ftype, is_required, prop.description,
                                null_as=go_null_reading(ftype) if is_required else None,
                                merge=merge_rules(prop, self._definitions)))
        if gvk is not None and not {"apiVersion", "kind"} <= set(properties):
            gvk = None
        self.structs[struct_id] = StructType(
            struct_id=struct_id, module=module, name=class_name,
            description=_with_junctions(schema), fields=tuple(fields), gvk=gvk)
        return StructRef(struct_id)

    # -- types -------------------------------------------------------------------

    def _type_of(self, schema: Schema,
                 owner: tuple[tuple[str, str, str], str] | None, suffix: str = "",
                 map_property: str | None = None) -> TypeRef:
        """The type of one schema; ``owner`` (struct, property) names inline objects,
        ``map_property`` is the property whose map values ``schema`` describes, if any."""
        pointer = schema.pointer
        if schema.ref is not None:
            return self._resolve_ref(schema.ref, pointer)
        if schema.int_or_string:
            if special_fixups.is_inline_quantity(schema, map_property):
                return Primitive.QUANTITY
            return Primitive.INT_OR_STRING
        kind = schema.type
        literal = enforced_enum(schema, owner is not None and owner[0][0] in self._enforced)
        if literal is not None:
            return literal
        if kind == "string":
            return _STRING_FORMATS.get(schema.format or "", Primitive.STRING)
        if kind == "integer":
            return Primitive.INTEGER
        if kind == "number":
            return Primitive.NUMBER
        if kind == "boolean":
            return Primitive.BOOLEAN
        if kind == "array":
            if schema.items is None:
                raise ModelError(pointer, "an array schema needs an 'items' schema object")
            return ArrayOf(self._type_of(schema.items, owner, suffix))
        if kind not in (None, "object"):
            raise ModelError(pointer + "/type", f"unsupported type {kind!r}")
        if schema.properties:
            odd = _unrepresentable_name(schema.properties)
            if odd is not None:
                self.skipped_fields.append(Skipped(pointer, _KEPT_AS_JSON.format(name=odd)))
                return Primitive.OBJECT
            if owner is None:
                raise ModelError(pointer, "an inline object schema needs an owning struct")
            (owner_id, module, owner_class), prop = owner
            segment = naming.pascal_case(prop) + suffix
            parts = (*self._name_parts.get(owner_id, (owner_class,)), segment)
            class_name = naming.unique(naming.class_name(naming.inline_class_name(owner_class, parts)),
                                       self._names.setdefault(module, set()))
            struct_id = f"{owner_id}/{prop}{suffix}"
            if owner_id in self._enforced:
                self._enforced.add(struct_id)
            self._name_parts[struct_id] = parts
            self.inline_order.append(struct_id)
            return self._build_struct(struct_id, schema, module, class_name, gvk=None)
        additional = schema.additional_properties
        if isinstance(additional, Schema):
            return MapOf(self._type_of(additional, owner, suffix + "Value",
                                       map_property=owner[1] if owner is not None and not suffix else None))
        if kind == "object" or (schema.preserve_unknown_fields and kind is not None):
            return Primitive.OBJECT
        return Primitive.ANY

    def _resolve_ref(self, target: str, pointer: str) -> TypeRef:
        """The type a reference to the definition ``target`` stands for."""
        if target in self._class_of:
            return StructRef(target)
        if target in self.aliases:
            return self.aliases[target]
        if target not in self._definitions:
            raise ModelError(pointer + "/$ref", f"reference to missing definition {target!r}")
        # An alias referring to another alias not yet resolved: resolve it now.
        if target in self._resolving:
            raise ModelError(pointer + "/$ref", f"reference loop through non-object definition {target!r}")
        self._resolving.add(target)
        try:
            alias = self._type_of(self._definitions[target], owner=None)
        finally:
            self._resolving.discard(target)
        self.aliases[target] = alias
        return alias


def _with_junctions(schema: Schema) -> str:
    """The description, plus what ``oneOf``/``anyOf`` require (CRD schemas, from OpenAPI v3 or
    the CRD itself): the server rejects an object that breaks them, and no Python type can
    say "exactly one of these fields", so the docstring does."""
    notes = []
    for word, branches in (("Exactly one", schema.one_of_required), ("At least one", schema.any_of_required)):
        if branches and all(branches):
            options = " | ".join(" + ".join(names) for names in branches)
            notes.append(f"{word} of these must be set (the server enforces it): {options}.")
    return "\n\n".join(part for part in (schema.description, *notes) if part)


def enforced_enum(schema: Schema, custom_resource: bool) -> LiteralOf | None:
    """Spec quirk: which ``enum`` lists become ``Literal[...]`` types; the one place it is decided.

    Only a custom resource's (``custom_resource``: the schema belongs to a kind served from a
    CustomResourceDefinition, see ``Document.custom_resource_kinds``): the apiextensions
    server validates every write against the CRD's ``enum``, so a stored object holds one of
    the listed values — unless the CRD narrowed the list after it was stored; such an object
    no longer decodes, and an informer reports it instead of dying (``cache/tolerant.py``).

    Never a built-in type's: their OpenAPI ``enum`` lists come from Go ``+enum`` markers,
    are not what the server validates, and grow between releases (a package generated
    from 1.35 must still decode the new value a 1.36 server sends), so they stay ``str``.

    Only plain strings and integers (``Schema.enum_literals``; no format: a ``byte`` or
    ``date-time`` string keeps its wire type); a list with anything else (``null``,
    booleans, numbers) keeps the plain type.
    """
    if not custom_resource or schema.enum_literals is None or schema.format or schema.int_or_string:
        return None
    return LiteralOf(schema.enum_literals)


def merge_rules(prop: Schema, definitions: Mapping[str, Schema]) -> MergeRules:
    """Spec quirk: the merge extensions of one property, including the ones its type carries.

    The property's own ``x-kubernetes-list-type`` / ``-list-map-keys`` / ``-map-type`` /
    ``-patch-strategy`` / ``-patch-merge-key`` are kept as they are. Go's
    ``+structType=atomic`` is published on the referenced *definition* instead
    (``LabelSelector``, ``ObjectReference``, ``NodeSelector``, ... carry
    ``x-kubernetes-map-type: atomic``), so where the property says nothing its ``map_type``
    is the definition's: the one of the object it refers to, or for a list the one of its
    items (a list has no map type of its own). structured-merge-diff reads it the same way:
    an atomic struct is replaced whole wherever it is used.
    """
    map_type = prop.map_type
    if map_type is None:
        holder = prop.items if prop.items is not None else prop  # what holds the object
        referenced = definitions.get(holder.ref) if holder.ref is not None else None
        map_type = holder.map_type if holder is not prop else None
        if map_type is None and referenced is not None:
            map_type = referenced.map_type
    rules = MergeRules(list_type=prop.list_type, list_map_keys=prop.list_map_keys, map_type=map_type,
                       patch_strategy=prop.patch_strategy, patch_merge_key=prop.patch_merge_key)
    return NO_MERGE_RULES if rules == NO_MERGE_RULES else rules


def server_defaulted(prop: Schema) -> bool:
    """Spec quirk: a property both ``required`` and with a schema ``default`` (external-secrets'
    Password ``allowRepeat``, OpenTelemetryCollector ``managementState``) is filled in by the
    server when absent, so the manifests those projects publish leave it out. It is an
    optional field for us: unset, it is absent on the wire and the server applies the default.
    """
    return prop.has_default


def go_null_reading(ref: TypeRef) -> NullAs | None:
    """How ``null`` in a required field of type ``ref`` reads, or None if Go never writes one.

    Spec quirk: ``required`` only means the Go field has no ``omitempty``, and Go encodes a
    nil slice, map or ``[]byte``, a zero Time/MicroTime and an empty RawExtension as
    ``null``: EndpointSlice ``endpoints: []`` is stored and served as ``null``, so is every
    new HPA's ``status.conditions`` and the ``eventTime`` of events recorded through
    core/v1. Go's decoder reads that ``null`` as nil. A list, map, free-form object or
    bytes reads as the empty one (typed as the container, so reading it needs no None
    check; sent back, the server stores it exactly as nil, see ``NullAs``); a time has no
    equivalent empty value and reads honestly as None.

    The one container where empty and nil differ is a RawExtension (``{}`` is stored as
    an empty object, not as nil); the API's required ones (WatchEvent ``object``, DRA
    ``parameters``) are never nil in what a server sends, so it reads as ``{}`` too.

    Strings, numbers, booleans, quantities and int-or-strings are Go values that never
    encode as ``null``. Object-valued fields stay non-null too: a Go struct value always
    encodes as an object, and the required *pointers* of the API (workload ``selector``,
    ScaleIO ``secretRef``, IPAddress ``parentRef``) are validated as set by the server, so a
    stored object never has ``null`` there; typing all 80-odd of them ``X | None`` would make
    ``deployment.spec.template.spec`` unreadable without checks for a case that never occurs.
    """
    if isinstance(ref, ArrayOf):
        return NullAs.EMPTY_LIST
    if isinstance(ref, MapOf) or ref is Primitive.OBJECT:
        return NullAs.EMPTY_MAP
    if ref is Primitive.BYTES:
        return NullAs.EMPTY_BYTES
    if ref in (Primitive.TIME, Primitive.MICRO_TIME):
        return NullAs.NONE
    return None


_KEPT_AS_JSON = ("kept as free-form JSON (a dict, every key preserved): the property name "
                 "{name!r} cannot be a msgspec field (a quote, backslash, control character "
                 "or lone surrogate)")


def representable_wire_name(name: str) -> bool:
    """Spec quirk guard: msgspec refuses a field whose JSON name contains ``"``, ``\\`` or a
    control character, and a lone surrogate cannot be encoded at all. An object schema with
    such a property (possible only in hostile or broken CRD schemas) is therefore typed as
    a free-form dict: less typing, but no key is lost when the object is sent back.
    """
    return not any(ch in '"\\' or ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF for ch in name)


def _unrepresentable_name(properties: Mapping[str, Schema]) -> str | None:
    return next((name for name in properties if not representable_wire_name(name)), None)


#: String formats with a wire format of their own; every other format is a plain string.
_STRING_FORMATS = {"byte": Primitive.BYTES, "date-time": Primitive.DATE_TIME_STRING,
                   "int-or-string": Primitive.INT_OR_STRING}
