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
from decimal import Decimal

import pytest

from kubecodegen.runtime.quantity import Quantity

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
