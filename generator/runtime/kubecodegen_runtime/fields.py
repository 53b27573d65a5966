"""Field selectors: ``a=b,c!=d`` parsing, canonical strings and client-side matching.

Grammar (apimachinery ``fields.ParseSelector``)::

    selector := "" | term ("," term)*
    term     := FIELD ("=" | "==" | "!=") VALUE

``FIELD`` is a dotted path in wire names (``metadata.name``, ``spec.nodeName``,
``status.phase``). In ``VALUE`` the characters ``\\``, ``,`` and ``=`` must be escaped with a
backslash. Empty terms (``a=b,,c=d``) are ignored, as the server does.

The server supports only a few fields per resource (always ``metadata.name`` and
``metadata.namespace``). Client-side, :meth:`FieldSelector.matches` resolves any dotted
path on a struct or dict object; a missing field compares as ``""`` like on the server.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgspec

__all__ = ["FieldOperator", "FieldRequirement", "FieldSelector", "FieldSelectorError",
           "escape_value", "field_value"]


class FieldSelectorError(ValueError):
    """A field selector is malformed; ``position`` is the 0-based offset of the problem."""

    def __init__(self, reason: str, selector: str, position: int) -> None:
        self.reason = reason
        self.selector = selector
        self.position = position
        super().__init__(f"invalid field selector {selector!r}: {reason} at {position}")


class FieldOperator(str, enum.Enum):
    """``==`` parses as :attr:`EQUALS` (the server treats both alike)."""

    EQUALS = "="
    NOT_EQUALS = "!="


_OPERATORS = ("!=", "==", "=")  # longest first: "a==b" is "a" "==" "b", not "a" "=" "=b"


def escape_value(value: str) -> str:
    """Escape ``\\``, ``,`` and ``=`` so ``value`` can stand in a selector term."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """``field operator value`` with ``value`` unescaped."""

    field: str
    operator: FieldOperator
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        if self.operator is FieldOperator.NOT_EQUALS:
            return have != self.value
        return have == self.value

    def __str__(self) -> str:
        op = "!=" if self.operator is FieldOperator.NOT_EQUALS else "="
        return f"{self.field}{op}{escape_value(self.value)}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """A conjunction of field requirements; the empty selector matches everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    @classmethod
    def everything(cls) -> FieldSelector:
        return cls()

    @classmethod
    def parse(cls, text: str) -> FieldSelector:
        """Parse ``a=b,c!=d``; raises :class:`FieldSelectorError` with the position."""
        reqs = [_parse_term(text, term, start) for term, start in _split_terms(text) if term]
        return cls(tuple(sorted(reqs, key=str)))

    @classmethod
    def from_dict(cls, fields: Mapping[str, str]) -> FieldSelector:
        """``field=value`` for every entry."""
        for name in fields:
            if not name:
                raise FieldSelectorError("empty field name", "", 0)
        reqs = (FieldRequirement(k, FieldOperator.EQUALS, v) for k, v in fields.items())
        return cls(tuple(sorted(reqs, key=str)))

    def is_everything(self) -> bool:
        return not self.requirements

    def requires_exact_match(self, field: str) -> str | None:
        """The value ``field`` must equal, if the selector pins it (e.g. ``metadata.name``)."""
        for r in self.requirements:
            if r.field == field and r.operator is not FieldOperator.NOT_EQUALS:
                return r.value
        return None

    def matches_fields(self, fields: Mapping[str, str]) -> bool:
        """Match against an already extracted ``field path -> string`` mapping."""
        return all(r.matches(fields) for r in self.requirements)

    def matches(self, obj: object) -> bool:
        """Match an object (struct or dict) by resolving each field path on it."""
        return all(r.matches({r.field: field_value(obj, r.field)}) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _split_terms(text: str) -> Iterator[tuple[str, int]]:
    """Split on unescaped commas, yielding each raw term and its start offset."""
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == ",":
            yield text[start:i], start
            start = i + 1
        i += 1
    yield text[start:], start


def _parse_term(text: str, term: str, start: int) -> FieldRequirement:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for op in _OPERATORS:
            if term.startswith(op, i):
                field = term[:i]
                if not field:
                    raise FieldSelectorError("empty field name", text, start)
                value = _unescape(text, term[i + len(op) :], start + i + len(op))
                operator = FieldOperator.NOT_EQUALS if op == "!=" else FieldOperator.EQUALS
                return FieldRequirement(field, operator, value)
        i += 1
    raise FieldSelectorError(
        f"term {term!r} has no operator (expected '=', '==' or '!=')", text, start
    )


def _unescape(text: str, raw: str, start: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            if i + 1 >= len(raw):
                raise FieldSelectorError("unterminated escape sequence", text, start + i)
            nxt = raw[i + 1]
            if nxt not in "\\,=":
                raise FieldSelectorError(f"invalid escape sequence '\\{nxt}'", text, start + i)
            out.append(nxt)
            i += 2
            continue
        if ch == "=":
            raise FieldSelectorError("unescaped '=' in value (write '\\=')", text, start + i)
        out.append(ch)
        i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def _attr_by_wire_name(struct_type: type) -> dict[str, str]:
    return {f.encode_name: f.name for f in msgspec.structs.fields(struct_type)}


def field_value(obj: object, path: str) -> str:
    """The string value at a dotted wire-name ``path`` of ``obj`` (``""`` if absent).

    Booleans render as ``true``/``false`` and numbers in decimal, as the server's field
    sets do; a path that ends on a list or mapping yields ``""``.
    """
    current: Any = obj
    for part in path.split("."):
        if current is None:
            return ""
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, msgspec.Struct):
            attr = _attr_by_wire_name(type(current)).get(part)
            current = getattr(current, attr, None) if attr is not None else None
        else:
            return ""
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    if isinstance(current, (str, int, float)):
        return str(current)
    return ""
