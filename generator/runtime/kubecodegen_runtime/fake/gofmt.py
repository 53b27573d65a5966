"""How Go prints the values that kube-apiserver's validation messages quote.

The server's field errors say ``Invalid value: <value>: <detail>``; what ``<value>`` looks
like depends on the Go type of the value (``%q`` for a string, ``%v`` for a number or a
bool, ``%#v`` for a map or a slice). The fake words its errors as the server does, so
these rules live here, once: :func:`go_quote` (``strconv.Quote``), :func:`go_float`
(``%v`` of a float64), :func:`go_value` (``field.Error``'s rendering of a bad value), and
:func:`go_type` (``%T`` of a value decoded from JSON).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_quote(text: str) -> str:
    """``strconv.Quote``: double quotes, C escapes, and ``\\u``/``\\U`` for what is not
    printable."""
    out = ['"']
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def go_float(value: float) -> str:
    """``%v`` of a float64: the shortest digits, in exponent notation from 1e6 or below
    1e-4 (``1e+06``, ``1.5e-05``), ``+Inf``/``-Inf``/``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    # Python's repr is the shortest round-tripping form, as Go's: the same digits
    shortest = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, shortest.digits))
    exponent = len(digits) - 1 + int(shortest.exponent)
    sign = "-" if value < 0 else ""
    if exponent < -4 or exponent >= 6:  # strconv: shortest %g decides with precision 6
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    integer = digits[:exponent + 1].ljust(exponent + 1, "0")
    fraction = digits[exponent + 1:]
    return sign + integer + ("." + fraction if fraction else "")


def go_type(value: Any) -> str:
    """``%T`` of a JSON value as Go's decoder makes it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return "<nil>"


def go_plain(value: Any) -> str:
    """``%v`` of a JSON value (``map[a:1]``, ``[1 2]``, ``<nil>``)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_plain(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_plain(v) for v in value) + "]"
    return str(value)


def go_sharp(value: Any) -> str:
    """``%#v`` of a JSON value held in an ``interface{}`` (maps with sorted keys)."""
    if value is None:
        return "interface {}(nil)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{go_quote(k)}:{go_sharp(value[k])}" for k in sorted(value))
        return "map[string]interface {}{" + inner + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(go_sharp(v) for v in value) + "}"
    return repr(value)


def go_value(value: Any) -> str:
    """How ``field.Error`` shows a bad value: ``null`` for nil, ``%v`` for numbers and
    bools, ``%q`` for strings, ``%#v`` for the rest."""
    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        return go_plain(value)
    if isinstance(value, str):
        return go_quote(value)
    return go_sharp(value)
