"""``resource.Quantity``: a string on the wire with an exact decimal meaning.

A :class:`Quantity` *is* a ``str`` -- it prints, compares in ``in`` checks against the
server's text and encodes exactly as the server sent it -- but equality, ordering and
hashing use its numeric value, so ``Quantity("1Gi") == Quantity("1073741824")``.

Parsing follows apimachinery's ``ParseQuantity`` (pkg/api/resource/quantity.go), because
the server's reading of a string is the only one that matters:

* grammar: optional sign, digits with an optional fraction (``1.``, ``.5`` allowed), then
  one suffix -- binary SI ``Ki Mi Gi Ti Pi Ei``, decimal SI ``n u m "" k M G T P E`` or a
  decimal exponent ``e``/``E`` with a signed integer; surrounding whitespace is ignored,
  as the server's JSON decoding trims it;
* values finer than ``1n`` are rounded away from zero to ``1n`` (a request for a tiny
  amount still gets something);
* binary SI values are capped at ``2**63 - 1`` in magnitude (``8Ei`` is ``2**63 - 1``);
* a binary SI value strictly between -1 and 1 switches to the decimal SI format.

Deliberate differences: apimachinery's scanner also takes a bare suffix, a lone sign or
``"."`` as zero; here a number needs at least one digit. Exponents must fit in 32 bits
(the server silently wraps them) and numbers are limited to 4000 digits.

:meth:`Quantity.canonical` reproduces the server's serialization, including its habit
of echoing an input that is already in a canonical shape (``"+1"`` stays ``"+1"``).

Nothing here evaluates input: parsing is a regular expression and integer arithmetic.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Literal, NamedTuple, TypeVar

__all__ = ["Quantity", "QuantityFormat"]

QuantityFormat = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

_DECIMAL_SI: dict[str, int] = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}
_DECIMAL_SI_BY_EXPONENT = {exp: suffix for suffix, exp in _DECIMAL_SI.items()}
_BINARY_SI: dict[str, int] = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_SI_BY_POWER = {exp // 10: suffix for suffix, exp in _BINARY_SI.items()}
_FORMATS: frozenset[str] = frozenset(("DecimalSI", "BinarySI", "DecimalExponent"))

_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)", re.DOTALL)
_EXPONENT = re.compile(r"[eE]([+-]?[0-9]+)")

_NANO = -9  # the finest decimal exponent a quantity keeps
_MAX_BINARY = 2**63 - 1  # apimachinery's cap for binary SI values
_MAX_DIGITS = 4000  # stays below CPython's int/str conversion limit
_INT32 = 2**31
_INT64_MAX = 2**63 - 1
_SUFFIX_HELP = "n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3"


class _Parsed(NamedTuple):
    """A parsed quantity: ``mantissa * 10**exponent`` (already rounded and capped)."""

    mantissa: int
    exponent: int
    format: QuantityFormat
    value: Decimal
    echo: str | None  # the input, when the server would serialize it unchanged


def _shown(text: str) -> str:
    """The input as quoted in error messages, cut short so huge inputs stay readable."""
    return repr(text if len(text) <= 64 else text[:61] + "...")


def _invalid(text: str, why: str) -> ValueError:
    return ValueError(f"invalid quantity {_shown(text)}: {why}")


def _round_to_nano(magnitude: int, exponent: int) -> tuple[int, int]:
    """Round ``magnitude * 10**exponent`` (``magnitude >= 0``) up to a multiple of 1n."""
    if exponent >= _NANO:
        return magnitude, exponent
    drop = _NANO - exponent
    if magnitude == 0:
        return 0, 0
    if len(str(magnitude)) <= drop:  # the whole value is below 1n
        return 1, _NANO
    quotient, remainder = divmod(magnitude, 10**drop)
    return quotient + (1 if remainder else 0), _NANO


def _finish(negative: bool, magnitude: int, exponent: int, fmt: QuantityFormat,
            echo: str | None) -> _Parsed:
    """Apply the rounding and capping rules shared by parsing and :meth:`from_decimal`."""
    magnitude, exponent = _round_to_nano(magnitude, exponent)
    if magnitude == 0:
        exponent = 0
    if fmt == "BinarySI":
        # Binary values never have a positive exponent here (they are integers scaled
        # down by a fraction), so the comparisons stay small.
        scale = 10 ** max(0, -exponent)
        if magnitude > _MAX_BINARY * scale:
            magnitude, exponent, scale = _MAX_BINARY, 0, 1
        if 0 < magnitude < scale:
            fmt = "DecimalSI"
    mantissa = -magnitude if negative else magnitude
    return _Parsed(mantissa, exponent, fmt, Decimal(f"{mantissa}e{exponent}"), echo)


@lru_cache(maxsize=4096)
def _parse(text: str) -> _Parsed:
    """Parse one quantity string; cached because clusters repeat the same few values."""
    stripped = text.strip()
    if not stripped:
        raise _invalid(text, "empty string")
    match = _NUMBER.fullmatch(stripped)
    if match is None:  # pragma: no cover - the pattern matches every string
        raise _invalid(text, "not a number")
    sign, whole, fraction, suffix = match.groups()
    fraction = fraction or ""
    if not whole and not fraction:
        if suffix and suffix[0] not in "+-.":
            raise _invalid(text, f"expected a number before the suffix {suffix!r}")
        raise _invalid(text, "expected a number such as 100, 0.5 or 1.5Gi")
    if len(whole) + len(fraction) > _MAX_DIGITS:
        raise _invalid(text, f"more than {_MAX_DIGITS} digits")

    fmt: QuantityFormat
    if suffix in _DECIMAL_SI:
        fmt, power = "DecimalSI", _DECIMAL_SI[suffix]
    elif suffix in _BINARY_SI:
        fmt, power = "BinarySI", _BINARY_SI[suffix]
    else:
        exp_match = _EXPONENT.fullmatch(suffix)
        if exp_match is None:
            raise _invalid(text, f"unknown suffix {suffix!r} (expected {_SUFFIX_HELP})")
        if len(exp_match.group(1)) > 12 or not -_INT32 <= int(exp_match.group(1)) < _INT32:
            raise _invalid(text, f"exponent in {suffix!r} is out of range")
        fmt, power = "DecimalExponent", int(exp_match.group(1))

    negative = sign == "-"
    digits = (whole + fraction).lstrip("0")
    magnitude = int(digits) if digits else 0
    echo = "0" if stripped == "0" else _server_echo(stripped, whole, fraction, fmt, power)
    if fmt == "BinarySI":
        return _finish(negative, magnitude << power, -len(fraction), fmt, echo)
    return _finish(negative, magnitude, power - len(fraction), fmt, echo)


def _server_echo(text: str, whole: str, fraction: str, fmt: QuantityFormat,
                 power: int) -> str | None:
    """The input itself when apimachinery would keep it as its serialization.

    ``ParseQuantity`` has a fast path for values that fit an int64 with at most 18
    significant digits; when such a value already looks canonical (no fraction in a
    binary value, no trailing ``000`` and a suffix step of three in a decimal one) it
    keeps the original text, and ``MarshalJSON`` sends that text back verbatim.
    """
    numerator = whole.lstrip("0") or "0"
    shifted = numerator + fraction
    if fmt == "BinarySI":
        if fraction:
            return None
        precision = 15 - len(numerator) - (power * 3) // 10 - 1
        scale = 0
    else:
        precision = 18 - len(shifted)
        scale = power - len(fraction)
    if precision < 0 or scale < _NANO:
        return None
    value = int(shifted)
    if fmt == "BinarySI":
        if value << power > _INT64_MAX:
            return None
        return text if value & 0x07 else None
    if scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0":
        return text
    return None


def _canonical(parsed: _Parsed) -> str:
    """apimachinery's ``CanonicalizeBytes``: the largest suffix with an integer mantissa."""
    if parsed.echo is not None:
        return parsed.echo
    mantissa, exponent, fmt = parsed.mantissa, parsed.exponent, parsed.format
    if mantissa == 0:
        return "0"
    if fmt == "BinarySI":
        if -1024 < parsed.value < 1024:
            fmt = "DecimalSI"
        else:
            scale = 10 ** max(0, -exponent)
            whole, rest = divmod(abs(mantissa), scale)
            if rest:
                fmt = "DecimalSI"  # a fraction cannot be written with a binary suffix
            else:
                whole *= 10 ** max(0, exponent)
                power = 0
                while whole % 1024 == 0 and power < 6:
                    whole //= 1024
                    power += 1
                sign = "-" if mantissa < 0 else ""
                return f"{sign}{whole}{_BINARY_SI_BY_POWER.get(power, '')}"
    # Decimal: move factors of ten into the exponent, then lower the exponent to a
    # multiple of three so it names a suffix (or an e-exponent in steps of three).
    digits = str(abs(mantissa))
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    step = exponent % 3
    digits = stripped + "0" * step
    exponent -= step
    sign = "-" if mantissa < 0 else ""
    if fmt == "DecimalSI" and exponent in _DECIMAL_SI_BY_EXPONENT:
        return f"{sign}{digits}{_DECIMAL_SI_BY_EXPONENT[exponent]}"
    # DecimalExponent, or a DecimalSI value beyond the largest suffix (1000E -> 1e21).
    # Released apimachinery drops the exponent in that last case ("1000E" -> "1"), which
    # changes the value; writing the exponent keeps it.
    return f"{sign}{digits}" if exponent == 0 else f"{sign}{digits}e{exponent}"


_Q = TypeVar("_Q", bound="Quantity")


class Quantity(str):
    """A Kubernetes quantity (``"500m"``, ``"1.5Gi"``) that compares by value.

    ``Quantity(text)`` validates ``text`` and raises :class:`ValueError` naming the
    problem. Values decoded from the API are not re-validated (decoding a 3000-pod
    list must stay fast, and a custom resource may hold text the server never parsed);
    a malformed decoded value raises when it is used as a number, compares equal only
    to the identical text, and hashes as that text.

    Equality with a plain ``str`` parses the other side, with ``int``/``Decimal`` it
    compares numerically; floats are not compared (they would be approximate). Note
    that a ``Quantity`` and an equal plain ``str`` hash differently, so do not mix
    them as keys of one dict.
    """

    __slots__ = ()

    def __new__(cls: type[_Q], value: str) -> _Q:
        if not isinstance(value, str):
            raise TypeError(
                f"Quantity() takes a string such as '500m', not {type(value).__name__}; "
                "use Quantity.from_decimal() for numbers"
            )
        _parse(str(value))
        return str.__new__(cls, value)

    @classmethod
    def from_wire(cls: type[_Q], text: str) -> _Q:
        """Wrap ``text`` without validating it (used by the decoder)."""
        return str.__new__(cls, text)

    @classmethod
    def from_decimal(cls: type[_Q], value: Decimal | int | float,
                     format: QuantityFormat = "DecimalSI") -> _Q:
        """The quantity for a number, written as the server would write it.

        ``format`` picks the suffix family (``"DecimalSI"`` gives ``500m``,
        ``"BinarySI"`` gives ``512Mi``, ``"DecimalExponent"`` gives ``5e8``). Floats are
        taken by their shortest repr (``0.1`` means 0.1); precision finer than ``1n`` is
        rounded away from zero, as the server does.
        """
        if format not in _FORMATS:
            raise ValueError(
                f"unknown quantity format {format!r}: expected DecimalSI, BinarySI or "
                "DecimalExponent"
            )
        if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
            raise TypeError(f"Quantity.from_decimal() takes a number, not {type(value).__name__}")
        number = value if isinstance(value, Decimal) else Decimal(repr(value))
        if not number.is_finite():
            raise ValueError(f"a quantity must be a finite number, not {value!r}")
        sign, digit_tuple, exponent = number.as_tuple()
        assert isinstance(exponent, int)  # finite numbers have an integer exponent
        magnitude = int("".join(map(str, digit_tuple))) if digit_tuple else 0
        if format == "BinarySI" and exponent > 0:
            # The binary rules (cap, small values) work on integers scaled down by a
            # power of ten, so a positive exponent is folded into the integer first.
            # Past 10**20 any non-zero value is above the cap, so the power is bounded.
            magnitude, exponent = magnitude * 10 ** min(exponent, 20), 0
        parsed = _finish(bool(sign), magnitude, exponent, format, None)
        return str.__new__(cls, _canonical(parsed))

    def _parsed(self) -> _Parsed:
        return _parse(str.__str__(self))

    def _parsed_or_none(self) -> _Parsed | None:
        try:
            return _parse(str.__str__(self))
        except ValueError:
            return None

    def to_decimal(self) -> Decimal:
        """The exact value the server stores for this text (after its rounding rules)."""
        return self._parsed().value

    @property
    def suffix_format(self) -> QuantityFormat:
        """The suffix family the server keeps for this value when re-serializing it."""
        return self._parsed().format

    def canonical(self) -> str:
        """The text the API server would send back for this quantity (``"1024Mi"`` -> ``"1Gi"``)."""
        return _canonical(self._parsed())

    def __repr__(self) -> str:
        return f"Quantity({str.__repr__(self)})"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # Pickle/copy through from_wire so that a decoded, unvalidated value survives.
        return (type(self).from_wire, (str.__str__(self),))

    # --- comparison by value ---------------------------------------------------------

    def _other_value(self, other: object) -> Decimal | None:
        """The numeric value of ``other``; ``None`` when it is not comparable."""
        if isinstance(other, str):
            return _parse(str.__str__(other)).value
        if isinstance(other, Decimal):
            return other
        if isinstance(other, int) and not isinstance(other, bool):
            return Decimal(other)
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (str, Decimal, int)) or isinstance(other, bool):
            return NotImplemented
        mine = self._parsed_or_none()
        if mine is None:  # malformed wire text: only the identical text is equal
            return isinstance(other, str) and str.__eq__(self, other)
        try:
            theirs = self._other_value(other)
        except ValueError:
            return False
        return theirs is not None and mine.value == theirs

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        parsed = self._parsed_or_none()
        return str.__hash__(self) if parsed is None else hash(parsed.value)

    def _compare(self, other: object) -> tuple[Decimal, Decimal] | None:
        if not isinstance(other, (str, Decimal, int)) or isinstance(other, bool):
            return None
        theirs = self._other_value(other)
        return (self.to_decimal(), theirs) if theirs is not None else None

    def __lt__(self, other: object) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]
