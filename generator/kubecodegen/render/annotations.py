"""Type expressions of the model → Python annotation strings, with the imports they need."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.types import (
    ArrayOf,
    LiteralOf,
    MapOf,
    Primitive,
    StructRef,
    StructType,
    TypeRef,
    UnionOf,
)
from .env import Code, py_string

_PRIMITIVES: dict[Primitive, tuple[str, str | None]] = {
    Primitive.STRING: ("str", None),
    Primitive.INTEGER: ("int", None),
    Primitive.NUMBER: ("float", None),
    Primitive.BOOLEAN: ("bool", None),
    Primitive.BYTES: ("bytes", None),
    Primitive.TIME: ("datetime", "datetime"),
    Primitive.DATE_TIME_STRING: ("DateTimeString", "DateTimeString"),
    Primitive.MICRO_TIME: ("MicroTime", "MicroTime"),
    Primitive.QUANTITY: ("Quantity", "Quantity"),
    Primitive.INT_OR_STRING: ("IntOrString", "IntOrString"),
    Primitive.ANY: ("Any", "Any"),
    Primitive.OBJECT: ("dict[str, Any]", "Any"),
    Primitive.RAW: ("msgspec.Raw", None),
}


@dataclass
class ModuleImports:
    """What one generated model module must import; filled while annotating."""

    module: str
    names: set[str] = field(default_factory=set)  # Any, datetime, MicroTime, Quantity, IntOrString, ...
    modules: set[str] = field(default_factory=set)  # sibling model modules


def nullable_annotation(ref: TypeRef, structs: dict[str, StructType], imports: ModuleImports) -> str:
    """``Nullable[X]``: ``X`` to type checkers, ``X | None`` to the decoder (see runtime.types)."""
    imports.names.add("Nullable")
    return f"Nullable[{annotation(ref, structs, imports)}]"


def annotation(ref: TypeRef, structs: dict[str, StructType], imports: ModuleImports) -> str:
    if isinstance(ref, Primitive):
        text, needs = _PRIMITIVES[ref]
        if needs:
            imports.names.add(needs)
        return text
    if isinstance(ref, ArrayOf):
        return f"list[{annotation(ref.item, structs, imports)}]"
    if isinstance(ref, MapOf):
        return f"dict[str, {annotation(ref.value, structs, imports)}]"
    if isinstance(ref, StructRef):
        target = structs[ref.struct_id]
        if target.module == imports.module:
            return target.name
        imports.modules.add(target.module)
        return f"{target.module}.{target.name}"
    if isinstance(ref, UnionOf):
        return " | ".join(annotation(option, structs, imports) for option in ref.options)
    if isinstance(ref, LiteralOf):
        imports.names.add("Literal")
        # spec text enters the annotation only as py_string literals (see env.type_expression)
        return "Literal[" + ", ".join(py_string(v) if isinstance(v, str) else str(int(v))
                                      for v in ref.values) + "]"
    raise TypeError(f"unknown type reference {ref!r}")  # pragma: no cover - closed set


def field_default(required: bool, wire: str, py_name: str, empty: str = "None") -> Code:
    """`` = …`` after a field's annotation: the wire name if it differs, and the default.

    ``empty`` is what an unset optional field holds: ``None``, or an empty ``msgspec.Raw()``
    for raw JSON (msgspec cannot decode ``null`` into ``Raw | None``).
    """
    renamed = wire != py_name
    if required:
        return Code(f" = msgspec.field(name={py_string(wire)})" if renamed else "")
    if renamed:
        return Code(f" = msgspec.field(default={empty}, name={py_string(wire)})")
    return Code(f" = {empty}")


def runtime_submodule(rt: str, module: str) -> str:
    """``module`` of the runtime as imported from ``rt`` (a package path, or ``..`` from
    inside the runtime itself)."""
    return f"{rt}{module}" if rt.endswith(".") else f"{rt}.{module}"
