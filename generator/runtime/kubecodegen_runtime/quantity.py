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

Arithmetic follows apimachinery's ``Add``/``Sub``/``Neg``/``Mul`` and never concatenates
text: ``Quantity("1") + Quantity("2")`` is ``Quantity("3")``, and adding a plain ``str``
to a quantity (either way round) raises :class:`TypeError`. A result is written in
canonical form (``CanonicalizeBytes``) in the suffix format of the left operand -- or of
the right one when the left is zero -- and keeps its exact value and format even where
its text does not show them (``1Mi + 1k`` prints ``1049576`` yet stays binary SI, so
subtracting ``1k`` again gives ``1Mi``). Results are exact: no rounding, no int64
overflow; sums whose operands differ by more than 4000 orders of magnitude are refused.

Nothing here evaluates input: parsing is a regular expression and integer arithmetic.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache
from typing import Literal, NamedTuple, TypeVar, cast

__all__ = ["Quantity", "QuantityFormat", "WireNumberQuantity"]

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
_MAX_RESULT_BITS = 13_000  # about 3900 decimal digits: results stay printable


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


def _pow10(exponent: int) -> float:
    """``10.0 ** exponent`` correctly rounded, 0 or inf outside the float range (Go's Pow10)."""
    if exponent > 308:
        return math.inf
    if exponent < -323:
        return 0.0
    return float(f"1e{exponent}")


def _check_size(mantissa: int) -> None:
    if mantissa.bit_length() > _MAX_RESULT_BITS:
        raise OverflowError("quantity arithmetic result has more than about 3900 digits")


def _add_amounts(left: _Parsed, right: _Parsed, sign: int) -> tuple[int, int]:
    """``left + sign * right`` as an exact ``(mantissa, exponent)`` pair."""
    if right.mantissa == 0:
        return left.mantissa, left.exponent
    if left.mantissa == 0:
        return sign * right.mantissa, right.exponent
    exponent = min(left.exponent, right.exponent)
    if max(left.exponent, right.exponent) - exponent > _MAX_DIGITS:
        raise OverflowError(
            "quantity arithmetic on values more than 4000 orders of magnitude apart"
        )
    mantissa = left.mantissa * 10 ** (left.exponent - exponent) + \
        sign * right.mantissa * 10 ** (right.exponent - exponent)
    _check_size(mantissa)
    return mantissa, (exponent if mantissa else 0)


def _restore(cls: type[Quantity], text: str, exact: _Parsed | None) -> Quantity:
    """Unpickle: the text as it was, with an arithmetic result's exact amount."""
    if exact is None:
        return str.__new__(cls, text)
    computed = str.__new__(_ComputedQuantity, text)
    computed._exact = exact
    return computed


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

    ``+``, ``-`` (binary and unary) and ``*`` by an ``int`` are apimachinery's
    arithmetic (see the module docstring); ``sum()`` works since ``0`` is accepted as
    a number. The accessors :meth:`value`, :meth:`milli_value`, :meth:`scaled_value`,
    :meth:`as_approximate_float`, :meth:`is_zero` and :meth:`sign` mirror
    ``resource.Quantity``'s.
    """

    __slots__ = ()  # no __dict__: the thousands of quantities in a decoded list stay small

    # The exact amount of a computed quantity whose text alone does not tell it (see
    # _ComputedQuantity); None for text from the wire or the user, which is parsed.
    _exact: _Parsed | None = None

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
        if cls is Quantity:
            return cast(_Q, Quantity._of(parsed))
        return str.__new__(cls, _canonical(parsed))

    @staticmethod
    def _of(parsed: _Parsed) -> Quantity:
        """The quantity for an exact amount, written in canonical form.

        A plain :class:`Quantity` when parsing that text gives back the same amount and
        format (the usual case); otherwise a :class:`_ComputedQuantity` that keeps them.
        """
        exact = parsed._replace(echo=None)
        text = _canonical(exact)
        try:
            reparsed = _parse(text)._replace(echo=None)
        except ValueError:  # pragma: no cover - canonical text always parses
            reparsed = None
        if reparsed == exact:
            return str.__new__(Quantity, text)
        computed = str.__new__(_ComputedQuantity, text)
        computed._exact = exact
        return computed

    def _parsed(self) -> _Parsed:
        exact = self._exact
        return exact if exact is not None else _parse(str.__str__(self))

    def _parsed_or_none(self) -> _Parsed | None:
        try:
            return self._parsed()
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

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Pickle/copy without re-validating, so a decoded, unvalidated value survives,
        # and with the exact amount of an arithmetic result.
        return (_restore, (type(self), str.__str__(self), self._exact))

    # --- accessors (resource.Quantity's) ---------------------------------------------

    def is_zero(self) -> bool:
        """Whether the value is zero."""
        return self._parsed().mantissa == 0

    def sign(self) -> int:
        """-1, 0 or 1: the sign of the value."""
        mantissa = self._parsed().mantissa
        return (mantissa > 0) - (mantissa < 0)

    def scaled_value(self, scale: int) -> int:
        """The value in units of ``10**scale``, rounded away from zero (``ScaledValue``).

        ``scaled_value(-3)`` of ``1500u`` is 2 (milli-units). Python integers do not
        overflow: where apimachinery returns 0 or a wrapped int64 for values beyond
        int64, this returns the exact number.
        """
        parsed = self._parsed()
        shift = parsed.exponent - scale
        if shift >= 0:
            factor: int = 10**shift
            return parsed.mantissa * factor
        divisor: int = 10**-shift
        quotient, remainder = divmod(abs(parsed.mantissa), divisor)
        magnitude = quotient + (1 if remainder else 0)
        return -magnitude if parsed.mantissa < 0 else magnitude

    def round_up(self, scale: int) -> tuple[Quantity, bool]:
        """The value rounded away from zero to a multiple of ``10**scale`` (``RoundUp``).

        Returns the rounded quantity (same format) and whether it is exact: ``9.01``
        at scale -1 is ``(9.1, False)``.
        """
        parsed = self._parsed()
        if parsed.exponent >= scale or parsed.mantissa == 0:
            return self, True
        mantissa = self.scaled_value(scale)
        rounded = Quantity._of(_Parsed(mantissa, scale, parsed.format,
                                       Decimal(f"{mantissa}e{scale}"), None))
        return rounded, rounded._parsed().value == parsed.value

    def value(self) -> int:
        """The value rounded away from zero to an integer (``Value``): ``1500m`` -> 2."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """The value in thousandths, rounded away from zero (``MilliValue``)."""
        return self.scaled_value(-3)

    def as_approximate_float(self) -> float:
        """A float near the value, computed as apimachinery does (``AsApproximateFloat64``).

        The stored mantissa times ``10**exponent`` in float arithmetic; beyond the float
        range the result is an infinity. Use :meth:`to_decimal` for the exact value.
        """
        parsed = self._parsed()
        try:
            base = float(parsed.mantissa)
        except OverflowError:
            base = math.copysign(math.inf, parsed.mantissa)
        if parsed.exponent == 0:
            return base
        return base * _pow10(parsed.exponent)

    # --- arithmetic (resource.Quantity's Add, Sub, Neg, Mul) -------------------------

    def _operand(self, other: object, verb: str) -> _Parsed | None:
        """``other`` as an amount; None for types that are not numbers at all."""
        if isinstance(other, Quantity):
            return other._parsed()
        if isinstance(other, str):
            raise TypeError(
                f"cannot {verb} a Quantity and a str: wrap the text as Quantity({_shown(other)}) "
                "for arithmetic, or use str(quantity) to build text"
            )
        if isinstance(other, int) and not isinstance(other, bool):
            return _finish(other < 0, abs(other), 0, "DecimalSI", None)
        if isinstance(other, Decimal) and other.is_finite():
            return Quantity.from_decimal(other)._parsed()
        return None

    def _combine(self, other: object, subtract: bool, reflected: bool) -> Quantity | None:
        """The sum or difference; None when ``other`` is no number (NotImplemented)."""
        other_parsed = self._operand(other, "subtract" if subtract else "add")
        if other_parsed is None:
            return None
        left, right = (other_parsed, self._parsed()) if reflected else \
            (self._parsed(), other_parsed)
        # apimachinery: the result keeps the left operand's format unless that is zero.
        fmt = right.format if left.mantissa == 0 else left.format
        mantissa, exponent = _add_amounts(left, right, -1 if subtract else 1)
        return Quantity._of(_Parsed(mantissa, exponent, fmt,
                                    Decimal(f"{mantissa}e{exponent}"), None))

    def __add__(self, other: object) -> Quantity:
        result = self._combine(other, subtract=False, reflected=False)
        return NotImplemented if result is None else result

    def __radd__(self, other: object) -> Quantity:
        result = self._combine(other, subtract=False, reflected=True)
        return NotImplemented if result is None else result

    def __sub__(self, other: object) -> Quantity:
        result = self._combine(other, subtract=True, reflected=False)
        return NotImplemented if result is None else result

    def __rsub__(self, other: object) -> Quantity:
        result = self._combine(other, subtract=True, reflected=True)
        return NotImplemented if result is None else result

    def __neg__(self) -> Quantity:
        parsed = self._parsed()
        # Not ``-parsed.value``: Decimal arithmetic rounds to the context's 28 digits.
        value = Decimal(f"{-parsed.mantissa}e{parsed.exponent}")
        return Quantity._of(parsed._replace(mantissa=-parsed.mantissa, value=value))

    def __pos__(self) -> Quantity:
        return self

    def __mul__(self, other: object) -> Quantity:
        """Multiply by an ``int`` (``Mul``); ``str``'s repetition is not available."""
        if isinstance(other, bool) or not isinstance(other, int):
            if isinstance(other, (str, float, Decimal)):
                raise TypeError(f"a Quantity can only be multiplied by an int, not "
                                f"{type(other).__name__}")
            return NotImplemented
        parsed = self._parsed()
        mantissa = parsed.mantissa * other
        _check_size(mantissa)
        exponent = parsed.exponent if mantissa else 0
        return Quantity._of(_Parsed(mantissa, exponent, parsed.format,
                                    Decimal(f"{mantissa}e{exponent}"), None))

    def __rmul__(self, other: object) -> Quantity:
        return self.__mul__(other)

    def __mod__(self, other: object) -> str:
        # "%" would format the quantity's text as a template: never what is meant.
        raise TypeError("a Quantity is not a format string; use str(quantity) % ...")

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


class _ComputedQuantity(Quantity):
    """An arithmetic result whose canonical text does not carry its exact amount.

    ``1Mi + 1k`` prints ``1049576`` but stays binary SI; ``4Ei * 2`` prints ``8Ei``,
    which would parse as the capped ``2**63 - 1``. Only such results pay for the
    instance dict that holds ``_exact``; it behaves as a :class:`Quantity` in every way.
    """

    _exact: _Parsed | None


class WireNumberQuantity(Quantity):
    """A quantity that arrived as a JSON number (``cpu: 2`` in a custom resource).

    The API server stores a custom resource's JSON as sent, so an int-or-string quantity
    that was the number ``2`` must go back as ``2``, not as the string ``"2"``: the
    encoder writes :attr:`number`. In every other way it is a :class:`Quantity` (its text
    is the number's), and arithmetic on it gives plain quantities.
    """

    number: int | float

    @classmethod
    def from_number(cls, number: int | float) -> WireNumberQuantity:
        quantity = str.__new__(cls, str(number) if isinstance(number, int) else repr(number))
        quantity.number = number
        return quantity

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (WireNumberQuantity.from_number, (self.number,))
