"""Quantity: apimachinery's grammar, rounding, canonical form and value comparison.

Expected values come from apimachinery's documented semantics (pkg/api/resource): the
suffix tables, "1.5 will be serialized as 1500m", "1.5Gi as 1536Mi", "0.9n becomes
1n", "8Ei parses as 2^63-1", and its parse/emit test tables.
"""

from __future__ import annotations

import copy
import json
import pickle
import random
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.quantity import Quantity

# --- parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "fmt"),
    [
        ("0", Decimal(0), "DecimalSI"),
        ("1", Decimal(1), "DecimalSI"),
        ("500m", Decimal("0.5"), "DecimalSI"),
        ("250u", Decimal("0.00025"), "DecimalSI"),
        ("5n", Decimal("5e-9"), "DecimalSI"),
        ("8k", Decimal(8000), "DecimalSI"),
        ("7M", Decimal(7 * 10**6), "DecimalSI"),
        ("6G", Decimal(6 * 10**9), "DecimalSI"),
        ("5T", Decimal(5 * 10**12), "DecimalSI"),
        ("2P", Decimal(2 * 10**15), "DecimalSI"),
        ("1E", Decimal(10**18), "DecimalSI"),
        ("1Ki", Decimal(1024), "BinarySI"),
        ("7Mi", Decimal(7 * 2**20), "BinarySI"),
        ("6Gi", Decimal(6 * 2**30), "BinarySI"),
        ("5Ti", Decimal(5 * 2**40), "BinarySI"),
        ("4Pi", Decimal(4 * 2**50), "BinarySI"),
        ("3Ei", Decimal(3 * 2**60), "BinarySI"),
        ("1e3", Decimal(1000), "DecimalExponent"),
        ("1E-3", Decimal("0.001"), "DecimalExponent"),
        ("1.3E+6", Decimal(1_300_000), "DecimalExponent"),
        ("-1.5", Decimal("-1.5"), "DecimalSI"),
        ("+1k", Decimal(1000), "DecimalSI"),
        (".5", Decimal("0.5"), "DecimalSI"),
        ("1.", Decimal(1), "DecimalSI"),
        ("1.G", Decimal(10**9), "DecimalSI"),
        ("100.035k", Decimal(100035), "DecimalSI"),
        ("0.5Ki", Decimal(512), "BinarySI"),
        ("18446744073709551616", Decimal(2**64), "DecimalSI"),  # not capped: decimal
        (" 2Gi ", Decimal(2 * 2**30), "BinarySI"),  # the server's JSON decoding trims
    ],
)
def test_parses_value_and_format(text: str, value: Decimal, fmt: str) -> None:
    quantity = Quantity(text)
    assert quantity.to_decimal() == value
    assert quantity.suffix_format == fmt
    assert str(quantity) == text  # the text itself is never rewritten


@pytest.mark.parametrize(
    ("text", "value", "fmt"),
    [
        ("0.9n", Decimal("1e-9"), "DecimalSI"),  # finer than nano rounds away from zero
        ("3.001n", Decimal("4e-9"), "DecimalSI"),
        ("-3.001n", Decimal("-4e-9"), "DecimalSI"),
        ("0.00000012345", Decimal("124e-9"), "DecimalSI"),
        ("1e-20", Decimal("1e-9"), "DecimalExponent"),
        ("8Ei", Decimal(2**63 - 1), "BinarySI"),  # binary values are capped at int64
        ("-9223372036854775807Ki", Decimal(-(2**63 - 1)), "BinarySI"),
        (".000000000001Ki", Decimal("2e-9"), "DecimalSI"),  # tiny binary turns decimal
    ],
)
def test_rounds_and_caps_like_the_server(text: str, value: Decimal, fmt: str) -> None:
    quantity = Quantity(text)
    assert quantity.to_decimal() == value
    assert quantity.suffix_format == fmt


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12Q", "invalid quantity '12Q': unknown suffix 'Q'"),
        ("", "invalid quantity '': empty string"),
        ("   ", "empty string"),
        ("1.1.M", "unknown suffix '.M'"),
        ("0.1mi", "unknown suffix 'mi'"),
        ("1i", "unknown suffix 'i'"),
        ("1KI", "unknown suffix 'KI'"),
        ("1e", "unknown suffix 'e'"),
        ("-3.01e-", "unknown suffix 'e-'"),
        ("1e5.5", "unknown suffix 'e5.5'"),
        ("1 Ki", "unknown suffix ' Ki'"),
        ("Ki", "expected a number before the suffix 'Ki'"),
        ("abc", "expected a number before the suffix 'abc'"),
        ("+", "expected a number"),
        (".", "expected a number"),
        ("\u0661", "expected a number"),  # ARABIC-INDIC DIGIT ONE is not a digit here
        ("1e99999999999", "exponent in 'e99999999999' is out of range"),
        ("1" * 4001, "more than 4000 digits"),
    ],
)
def test_rejects_bad_input_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid quantity") as info:
        Quantity(text)
    assert message in str(info.value)


def test_error_message_shortens_huge_input() -> None:
    with pytest.raises(ValueError) as info:
        Quantity("1" * 100 + "Q")
    assert len(str(info.value)) < 250


def test_constructor_takes_only_strings() -> None:
    with pytest.raises(TypeError, match="from_decimal"):
        Quantity(5)  # type: ignore[arg-type]


# --- canonical form -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1024Mi", "1Gi"),
        ("1000m", "1"),
        ("0.5", "500m"),
        ("1.5", "1500m"),
        ("1.5Gi", "1536Mi"),
        ("307200Ki", "300Mi"),
        ("1025024Mi", "1001Gi"),
        ("5000m", "5"),
        ("1000M", "1G"),
        ("0.001T", "1G"),
        ("1.08", "1080m"),
        ("1080000000n", "1080m"),
        ("1.2345", "1234500u"),
        (".001Ki", "1024m"),
        (".000000001Ki", "1024n"),
        ("0.5Ki", "512"),  # binary values below 1024 are written in decimal
        ("1.1Ki", "1126400m"),  # a fractional binary value cannot keep a binary suffix
        ("1.0Ki", "1Ki"),
        ("-1024Mi", "-1Gi"),
        (".001e12", "1e9"),
        ("0.001e0", "1e-3"),
        ("1000e-12", "1e-9"),
        ("12e2", "1200"),
        ("00", "0"),
        ("-0", "0"),
        ("0Ki", "0"),
        ("0.9n", "1n"),
        ("8Ei", "9223372036854775807"),
        ("1000000000000000000", "1E"),
        ("999999999999999999.1", "999999999999999999100m"),
        ("1000E", "1e21"),  # beyond the largest suffix: fall back to an exponent
        (" 1 ", "1"),
        # apimachinery keeps input that already has a canonical shape, verbatim
        ("100m", "100m"),
        ("1e3", "1e3"),
        ("300e6", "300e6"),
        ("1025Ki", "1025Ki"),
        ("+1", "+1"),
        ("01", "01"),
        ("1.500", "1.500"),
        ("+3Ki", "+3Ki"),
        ("007Mi", "007Mi"),
        ("+7Ti", "+7Ti"),
        ("+100Ti", "100Ti"),  # too many digits for the int64 fast path: recomputed
        ("+1Ei", "1Ei"),
    ],
)
def test_canonical_matches_apimachinery(text: str, canonical: str) -> None:
    assert Quantity(text).canonical() == canonical


def _random_quantity(rng: random.Random) -> str:
    sign = rng.choice(["", "", "-", "+"])
    whole = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 20)))
    fraction = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 12)))
    number = whole + ("." + fraction if fraction or not whole else "")
    if not any(ch.isdigit() for ch in number):
        number = "7" + number
    suffix = rng.choice(["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi",
                         "Ti", "Pi", "Ei", "e3", "e-7", "E+12", "e0"])
    return sign + number + suffix


def test_canonical_keeps_the_value_and_is_stable() -> None:
    rng = random.Random(20240501)
    for _ in range(3000):
        original = Quantity(_random_quantity(rng))
        canonical = Quantity(original.canonical())
        assert canonical == original, (str(original), str(canonical))
        assert canonical.canonical() == str(canonical), str(original)


# --- comparison and hashing -----------------------------------------------------------


def test_equality_is_by_value() -> None:
    assert Quantity("1Gi") == Quantity("1073741824")
    assert Quantity("500m") == Quantity("0.5")
    assert Quantity("1Gi") == "1024Mi"  # a plain str is parsed
    assert "1024Mi" == Quantity("1Gi")  # noqa: SIM300 - the reflected side must parse too
    assert Quantity("1k") == 1000
    assert Quantity("1500m") == Decimal("1.5")
    assert Quantity("1") != Quantity("2")
    assert not (Quantity("1Gi") != "1024Mi")  # noqa: SIM202 - __ne__ is overridden too


def test_equality_with_unparsable_or_foreign_values_is_false() -> None:
    assert Quantity("1") != "lots"
    assert Quantity("1") != 1.0  # floats are not compared
    assert Quantity("1") != True  # noqa: E712 - bools are not numbers here
    assert Quantity("1") != None  # noqa: E711


def test_hash_is_consistent_with_equality() -> None:
    assert hash(Quantity("1Gi")) == hash(Quantity("1073741824")) == hash(Quantity("1024Mi"))
    assert hash(Quantity("0.5")) == hash(Quantity("500m"))
    assert len({Quantity("1Gi"), Quantity("1024Mi"), Quantity("1073741824")}) == 1
    assert hash(Quantity("1k")) == hash(1000)


def test_ordering_is_by_value() -> None:
    assert Quantity("500m") < Quantity("1")
    assert Quantity("1Gi") > Quantity("1G")
    assert Quantity("1Gi") >= "1024Mi"
    assert Quantity("1Gi") <= "1024Mi"
    assert Quantity("-1") < 0
    values = ["2", "1Gi", "100m", "1G", "-5", "1e-3"]
    assert sorted(Quantity(v) for v in values) == ["-5", "1e-3", "100m", "2", "1G", "1Gi"]


def test_ordering_against_bad_values_raises() -> None:
    with pytest.raises(ValueError, match="invalid quantity 'lots'"):
        _ = Quantity("1") < "lots"
    with pytest.raises(TypeError):
        _ = Quantity("1") < 1.5


# --- str behaviour --------------------------------------------------------------------


def test_reads_and_prints_as_the_wire_string() -> None:
    quantity = Quantity("500m")
    assert isinstance(quantity, str)
    assert str(quantity) == "500m" and type(str(quantity)) is str
    assert f"{quantity}" == "500m"
    assert json.dumps({"cpu": quantity}) == '{"cpu": "500m"}'
    assert repr(quantity) == "Quantity('500m')"


# --- from_decimal ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (Decimal("1.5"), "DecimalSI", "1500m"),
        (Decimal("0.5"), "DecimalSI", "500m"),
        (1536 * 2**20, "BinarySI", "1536Mi"),
        (2**30, "BinarySI", "1Gi"),
        (512, "BinarySI", "512"),
        (5 * 10**8, "DecimalExponent", "500e6"),
        (0.1, "DecimalSI", "100m"),
        (-2, "DecimalSI", "-2"),
        (0, "BinarySI", "0"),
        (Decimal("1e-12"), "DecimalSI", "1n"),
        (10**30, "BinarySI", str(2**63 - 1)),
    ],
)
def test_from_decimal(value: Decimal | int | float, fmt: str, text: str) -> None:
    quantity = Quantity.from_decimal(value, fmt)  # type: ignore[arg-type]
    assert str(quantity) == text
    assert isinstance(quantity, Quantity)


def test_from_decimal_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown quantity format 'Binary'"):
        Quantity.from_decimal(1, "Binary")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Quantity.from_decimal(Decimal("NaN"))
    with pytest.raises(TypeError):
        Quantity.from_decimal(True)
    with pytest.raises(TypeError):
        Quantity.from_decimal("1")  # type: ignore[arg-type]


# --- unvalidated wire values ----------------------------------------------------------


def test_wire_values_are_checked_only_when_used() -> None:
    raw = Quantity.from_wire("lots")
    assert raw == "lots" and raw == Quantity.from_wire("lots")
    assert raw != Quantity("1")
    assert hash(raw) == hash("lots")
    with pytest.raises(ValueError, match="invalid quantity 'lots'"):
        raw.to_decimal()
    with pytest.raises(ValueError, match="invalid quantity 'lots'"):
        raw.canonical()


def test_pickle_and_copy_keep_unvalidated_values() -> None:
    for quantity in (Quantity("1Gi"), Quantity.from_wire("lots")):
        for clone in (pickle.loads(pickle.dumps(quantity)), copy.deepcopy(quantity),
                      copy.copy(quantity)):
            assert type(clone) is Quantity
            assert str.__eq__(clone, quantity)


# --- arithmetic: apimachinery's Add/Sub/Neg/Mul (pkg/api/resource/quantity_test.go) ----------


def _q(mantissa: int, exponent: int, fmt: str = "DecimalSI") -> Quantity:
    """apimachinery's test helper decQuantity(mantissa, exponent, format), restated."""
    return Quantity.from_decimal(Decimal(f"{mantissa}e{exponent}"), fmt)  # type: ignore[arg-type]


def test_plus_is_arithmetic_not_concatenation() -> None:
    total = Quantity("1") + Quantity("2")
    assert str(total) == "3" and total == 3
    assert type(total) is Quantity


@pytest.mark.parametrize(
    "operation",
    [
        lambda: Quantity("1") + "2",
        lambda: "2" + Quantity("1"),
        lambda: Quantity("1") - "2",
        lambda: "2" - Quantity("1"),
        lambda: Quantity("2") * "3",
        lambda: Quantity("2") * 1.5,
        lambda: Quantity("2") * Quantity("3"),
        lambda: Quantity("2") % "x",
        lambda: Quantity("1") + 1.5,
    ],
)
def test_mixing_with_text_raises(operation: object) -> None:
    assert callable(operation)
    with pytest.raises(TypeError):
        operation()


ADD = [
    # (a, b, a + b as text, its suffix format)
    (_q(10, 0), _q(1, 1), "20", "DecimalSI"),
    (_q(10, 0), _q(1, 0, "BinarySI"), "11", "DecimalSI"),
    (_q(10, 0, "BinarySI"), _q(1, 0), "11", "BinarySI"),
    (Quantity("0"), _q(50, 0), "50", "DecimalSI"),
    (_q(50, 0), Quantity("0"), "50", "DecimalSI"),
    (Quantity("0"), Quantity("0"), "0", "DecimalSI"),
    # zero keeps the other side's suffix, in either order
    (Quantity("100m"), Quantity("0"), "100m", "DecimalSI"),
    (Quantity("0"), Quantity("100m"), "100m", "DecimalSI"),
    (Quantity("1Gi"), Quantity("0"), "1Gi", "BinarySI"),
    (Quantity("0"), Quantity("1Gi"), "1Gi", "BinarySI"),
    # canonical form of the result
    (Quantity("1Gi"), Quantity("1Gi"), "2Gi", "BinarySI"),
    (Quantity("512Mi"), Quantity("512Mi"), "1Gi", "BinarySI"),
    (Quantity("1Mi"), Quantity("1k"), "1049576", "BinarySI"),
    (Quantity("1Ki"), Quantity("0.5"), "1024500m", "BinarySI"),  # a fraction: decimal text
    (Quantity("500m"), Quantity("500m"), "1", "DecimalSI"),
    (Quantity("1e3"), Quantity("1e3"), "2e3", "DecimalExponent"),
    (Quantity("1k"), Quantity("1Ki"), "2024", "DecimalSI"),
    (Quantity("1E"), Quantity("999E"), "1e21", "DecimalSI"),  # beyond E: exponent kept
    (Quantity("1n"), Quantity("1"), "1000000001n", "DecimalSI"),
]


@pytest.mark.parametrize(("a", "b", "text", "fmt"), ADD)
def test_add(a: Quantity, b: Quantity, text: str, fmt: str) -> None:
    total = a + b
    assert str(total) == text
    assert total.suffix_format == fmt
    with localcontext(Context(prec=200)):
        assert total.to_decimal() == a.to_decimal() + b.to_decimal()
    assert Quantity(text) == total  # the text means the value


SUB = [
    (_q(10, 0), _q(1, 1), "0", "DecimalSI"),
    (_q(10, 0), _q(1, 0, "BinarySI"), "9", "DecimalSI"),
    (_q(10, 0, "BinarySI"), _q(1, 0), "9", "BinarySI"),
    (Quantity("0"), _q(50, 0), "-50", "DecimalSI"),
    (_q(50, 0), Quantity("0"), "50", "DecimalSI"),
    (Quantity("0"), Quantity("0"), "0", "DecimalSI"),
    (Quantity("100m"), Quantity("0"), "100m", "DecimalSI"),
    (Quantity("0"), Quantity("100m"), "-100m", "DecimalSI"),
    (Quantity("1Gi"), Quantity("0"), "1Gi", "BinarySI"),
    (Quantity("0"), Quantity("1Gi"), "-1Gi", "BinarySI"),
    (Quantity("1Gi"), Quantity("512Mi"), "512Mi", "BinarySI"),
    (Quantity("1"), Quantity("1500m"), "-500m", "DecimalSI"),
]


@pytest.mark.parametrize(("a", "b", "text", "fmt"), SUB)
def test_sub(a: Quantity, b: Quantity, text: str, fmt: str) -> None:
    difference = a - b
    assert str(difference) == text
    assert difference.suffix_format == fmt
    with localcontext(Context(prec=200)):
        assert difference.to_decimal() == a.to_decimal() - b.to_decimal()


def test_format_survives_a_chain_of_operations() -> None:
    # 1Mi + 1k prints without a suffix, but stays binary: taking 1k away gives 1Mi back.
    assert str(Quantity("1Mi") + Quantity("1k") - Quantity("1k")) == "1Mi"
    # likewise a decimal-exponent value passing through 5
    assert str(Quantity("1e3") - Quantity("995") + Quantity("995")) == "1e3"


def test_results_are_exact_beyond_the_binary_cap() -> None:
    # Parsing caps binary SI at 2**63 - 1; arithmetic does not (apimachinery switches
    # to an arbitrary-precision decimal).
    doubled = Quantity("4Ei") * 2
    assert str(doubled) == "8Ei"
    assert doubled.to_decimal() == 2**63
    assert doubled.value() == 2**63
    assert Quantity("8Ei").value() == 2**63 - 1


NEG = [
    (_q(901, -2), "-9010m"),
    (_q(0, 0), "0"),
    (_q(10, 0, "BinarySI"), "-10"),
    (_q(-10, 0, "BinarySI"), "10"),
    (Quantity("1Gi"), "-1Gi"),
    (Quantity("-1.5Gi"), "1536Mi"),
    (Quantity("1e3"), "-1e3"),
    (Quantity("123456789012345678901234567890123"), "-123456789012345678901234567890123"),
]


@pytest.mark.parametrize(("a", "text"), NEG)
def test_neg(a: Quantity, text: str) -> None:
    negated = -a
    assert str(negated) == text
    assert negated.suffix_format == a.suffix_format
    assert -negated == a
    assert str(a) != text or a.is_zero()  # the operand is not mutated


MUL = [
    (_q(10, 0), 10, "100"),
    (_q(10, 0), 1, "10"),
    (_q(10, 0, "BinarySI"), 1, "10"),
    (Quantity("0"), 50, "0"),
    (_q(50, 0), 0, "0"),
    (_q(10, 0), -10, "-100"),
    (_q(-50, 0), -50, "2500"),
    (_q(2**63 - 1, 0), 0, "0"),
    (_q(2**63 - 1, 0), -1, str(-(2**63 - 1))),
    (_q(2**63 - 1, 0), 2, str(2 * (2**63 - 1))),  # beyond int64: exact
    (_q(2**63 - 1, 0), 10, "92233720368547758070"),
    (_q(-(2**63), 0), -1, str(2**63)),
    (Quantity("512Mi"), 2, "1Gi"),
    (Quantity("100m"), 3, "300m"),
]


@pytest.mark.parametrize(("a", "factor", "text"), MUL)
def test_mul(a: Quantity, factor: int, text: str) -> None:
    assert str(a * factor) == text
    assert str(factor * a) == text
    with localcontext(Context(prec=200)):
        assert (a * factor).to_decimal() == a.to_decimal() * factor


CMP = [
    ("0", "0", 0),
    ("100m", "50m", 1),
    ("50m", "100m", -1),
    ("10000T", "100Gi", 1),
    ("1Ki", "1024", 0),
    ("-1", "1n", -1),
]


@pytest.mark.parametrize(("x", "y", "expected"), CMP)
def test_compare(x: str, y: str, expected: int) -> None:
    a, b = Quantity(x), Quantity(y)
    assert ((a > b) - (a < b)) == expected
    assert (a == b) is (expected == 0)
    assert (a - b).sign() == expected


def test_sum_and_in_place_operators() -> None:
    requests = [Quantity("100m"), Quantity("250m"), Quantity("1")]
    assert str(sum(requests)) == "1350m"
    total = Quantity("1Gi")
    total += Quantity("1Gi")
    total -= Quantity("512Mi")
    assert str(total) == "1536Mi"
    assert str(Quantity("1") + 2) == "3" and str(2 - Quantity("500m")) == "1500m"
    assert str(Quantity("1") + Decimal("0.5")) == "1500m"


def test_huge_exponent_gaps_are_refused_not_computed() -> None:
    with pytest.raises(OverflowError):
        _ = Quantity("1e2000000000") + Quantity("1")
    with pytest.raises(OverflowError):
        _ = Quantity("1") * 10**5000


# --- accessors -----------------------------------------------------------------------


SCALED_VALUE = [
    # (from scale, to scale, expected): NewScaledQuantity(1, from).ScaledValue(to)
    (-9, -9, 1), (-9, -6, 1), (-9, -3, 1), (-9, 0, 1),
    (-6, -9, 1000), (-6, -6, 1), (-6, -3, 1), (-6, 0, 1),
    (-3, -9, 1000 * 1000), (-3, -6, 1000), (-3, -3, 1), (-3, 0, 1),
    (0, -9, 1000 * 1000 * 1000), (0, -6, 1000 * 1000), (0, -3, 1000), (0, 0, 1),
    (2, -2, 100 * 100),
]


@pytest.mark.parametrize(("from_scale", "to_scale", "expected"), SCALED_VALUE)
def test_scaled_value(from_scale: int, to_scale: int, expected: int) -> None:
    assert _q(1, from_scale).scaled_value(to_scale) == expected


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [
        ("1", 1, 1000),
        ("1500m", 2, 1500),
        ("1500u", 1, 2),
        ("-1500m", -2, -1500),  # away from zero
        ("-1500u", -1, -2),
        ("1Ki", 1024, 1024000),
        ("0", 0, 0),
        ("1n", 1, 1),
        ("1e3", 1000, 1000000),
        ("8Ei", 2**63 - 1, (2**63 - 1) * 1000),
    ],
)
def test_value_and_milli_value(text: str, value: int, milli: int) -> None:
    quantity = Quantity(text)
    assert quantity.value() == value
    assert quantity.milli_value() == milli
    assert quantity.is_zero() is (value == 0)


@pytest.mark.parametrize(
    ("mantissa", "exponent", "fmt", "text"),
    [  # NewMilliQuantity / NewQuantity: text after construction
        (1, -3, "DecimalSI", "1m"),
        (1000, -3, "DecimalSI", "1"),
        (1234000, -3, "DecimalSI", "1234"),
        (1024, -3, "BinarySI", "1024m"),  # a fraction: shown as decimal SI
        (1000000, -3, "DecimalExponent", "1e3"),
        (1024 * 1024, -3, "BinarySI", "1048576m"),
        (1, 0, "DecimalSI", "1"),
        (1000, 0, "DecimalSI", "1k"),
        (1234000, 0, "DecimalSI", "1234k"),
        (1024, 0, "BinarySI", "1Ki"),
        (1000000, 0, "DecimalExponent", "1e6"),
        (1024 * 1024, 0, "BinarySI", "1Mi"),
    ],
)
def test_new_quantity_text(mantissa: int, exponent: int, fmt: str, text: str) -> None:
    quantity = _q(mantissa, exponent, fmt)
    assert str(quantity) == text
    assert Quantity(text).scaled_value(exponent) == mantissa


@pytest.mark.parametrize(
    ("text", "scale", "rounded", "exact"),
    [
        ("9.01", -3, "9010m", True),
        ("9.01", -2, "9010m", True),
        ("9.01", -1, "9100m", False),
        ("9.01", 0, "10", False),
        ("9.01", 1, "10", False),
        ("9.01", 2, "100", False),
        ("-9.01", -3, "-9010m", True),
        ("-9.01", -1, "-9100m", False),
        ("-9.01", 0, "-10", False),
        ("-9.01", 2, "-100", False),
    ],
)
def test_round_up(text: str, scale: int, rounded: str, exact: bool) -> None:
    result, was_exact = Quantity(text).round_up(scale)
    assert result == Quantity(rounded)
    assert was_exact is exact


APPROXIMATE_FLOAT = [
    (_q(0, 0), 0.0), (_q(0, 0, "DecimalExponent"), 0.0), (_q(0, 0, "BinarySI"), 0.0),
    (_q(1, 0), 1.0), (_q(1, 0, "DecimalExponent"), 1.0), (_q(1, 0, "BinarySI"), 1.0),
    *[(_q(m, e, fmt), expected)
      for fmt in ("BinarySI", "DecimalSI", "DecimalExponent")
      for m, e, expected in [
          (1024, 0, 1024.0), (8 * 1024, 0, 8.0 * 1024), (7 * 1024 * 1024, 0, 7.0 * 1024 * 1024),
          (7 * 1024 * 1024, 1, 7.0 * 1024 * 1024 * 10),
          (7 * 1024 * 1024, 4, 7.0 * 1024 * 1024 * 10000),
          (7 * 1024 * 1024, 8, 7.0 * 1024 * 1024 * 100000000),
          (7 * 1024 * 1024, -1, 7.0 * 1024 * 1024 * 1e-1),  # "* 10**-1", not "/ 10"
          (7 * 1024 * 1024, -8, 7.0 * 1024 * 1024 / 100000000),
      ]],
    (Quantity("8Ei"), float(2**63 - 1)),
    (_q(12, 18), 1.2e19),
    (_q(12, 500), float("inf")),
    (_q(-12, 500), float("-inf")),
    (Quantity("2Ki"), 2048.0),
    (Quantity("1.1Ki"), 1126.4),
    (Quantity("1Mi"), 1.048576e06),
    (Quantity("2Gi"), 2.147483648e09),
]


@pytest.mark.parametrize(("quantity", "expected"), APPROXIMATE_FLOAT)
def test_as_approximate_float(quantity: Quantity, expected: float) -> None:
    assert quantity.as_approximate_float() == expected


# --- properties ----------------------------------------------------------------------

_amounts = st.builds(
    lambda m, e, fmt: _q(m, e, fmt),
    st.integers(-(2**63), 2**63 - 1), st.integers(-9, 9),
    st.sampled_from(["DecimalSI", "BinarySI", "DecimalExponent"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_amounts, min_size=1, max_size=20))
def test_add_then_sub_cancels(amounts: list[Quantity]) -> None:
    total = Quantity("0")
    for amount in amounts:
        total = total + amount
    with localcontext(Context(prec=200)):  # Decimal's default 28 digits would round
        expected = sum((a.to_decimal() for a in amounts), Decimal(0))
    assert total.to_decimal() == expected
    for amount in amounts:
        total = total - amount
    assert total.is_zero() and str(total) == "0"


@settings(max_examples=60, deadline=None)
@given(_amounts, _amounts)
def test_arithmetic_text_round_trips(a: Quantity, b: Quantity) -> None:
    for result in (a + b, a - b, -a, a * 3):
        # The text sent to the server means the exact value (below the binary cap).
        if abs(result.to_decimal()) < 2**62:
            assert Quantity(str(result)) == result
        negated = -result
        assert -negated == result


def test_plain_quantities_stay_slim() -> None:
    # Decoded lists hold thousands of quantities: no instance dict (24 bytes more each).
    for quantity in (Quantity("1Gi"), Quantity.from_wire("500m"), Quantity("1") + Quantity("2")):
        assert not hasattr(quantity, "__dict__")
    computed = Quantity("1Mi") + Quantity("1k")  # its text does not say it is binary SI
    assert computed.suffix_format == "BinarySI" and isinstance(computed, Quantity)
    clone = pickle.loads(pickle.dumps(computed))
    assert str(clone - Quantity("1k")) == "1Mi"


def test_a_quantity_sent_as_a_json_number_is_encoded_back_as_that_number() -> None:
    """Custom resources may hold an int-or-string quantity as a number (``cpu: 2``); the
    server stores it verbatim, so a typed round trip must not turn it into ``"2"``."""
    import msgspec

    from kubecodegen_runtime import codec

    class Limits(msgspec.Struct):
        limits: dict[str, Quantity]

    wire = b'{"limits":{"a":2,"b":0.5,"c":"500m","d":"2"}}'
    decoded = msgspec.json.decode(wire, type=Limits, dec_hook=codec.dec_hook)
    assert msgspec.json.encode(decoded, enc_hook=codec.enc_hook) == wire
    assert decoded.limits["a"] == "2" and decoded.limits["a"].milli_value() == 2000
    assert decoded.limits["b"].milli_value() == 500
    total = decoded.limits["a"] + decoded.limits["d"]
    assert type(total) is not type(decoded.limits["a"]) and total == "4"
    assert msgspec.json.encode(total, enc_hook=codec.enc_hook) == b'"4"'
    for copied in (pickle.loads(pickle.dumps(decoded.limits)), copy.deepcopy(decoded.limits)):
        assert msgspec.json.encode(Limits(copied), enc_hook=codec.enc_hook) == wire
