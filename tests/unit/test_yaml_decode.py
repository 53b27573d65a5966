"""YAML manifests read as kubectl reads them: go-yaml v2 scalars, then JSON values.

Expected values come from go-yaml v2's documented resolution (resolve.go: the bool/null
table, Go's ParseInt/ParseUint with base prefixes, its float pattern, timestamps kept as
text for untyped targets) and sigs.k8s.io/yaml's conversion to JSON (string keys, Go's
float formatting, no Inf/NaN), not from running PyYAML.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.yamljson import (
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    JSONValuesFromEvents,
    ManifestLoader,
    YAMLError,
    load_all,
    resolve_plain,
)

# (unquoted YAML value, the JSON value kubectl sends)
PLAIN_SCALARS: list[tuple[str, Any]] = [
    # numbers: go-yaml resolves 1e3 as a float, which Go's JSON writes as 1000
    ("1e3", 1000),
    ("1E3", 1000),
    ("1.5e3", 1500),
    ("1e-3", 0.001),
    ("2.5", 2.5),
    (".5", 0.5),
    ("-1.", -1),
    ("+1", 1),
    ("-7", -7),
    ("0", 0),
    ("1_000", 1000),  # underscores are dropped before ParseInt
    ("0755", 493),  # a leading 0 is octal (YAML 1.1, Go's base-0 ParseInt)
    ("0o17", 15),
    ("0x1F", 31),
    ("-0x1F", -31),
    ("0b101", 5),
    ("08", 8),  # not octal, but it matches the float pattern: the float 8
    ("9223372036854775807", 2**63 - 1),
    ("18446744073709551615", 2**64 - 1),  # ParseUint takes what ParseInt cannot
    ("18446744073709551616", 18446744073709552000),  # a float64, printed by Go
    ("123456789012345678901234", 1.2345678901234568e23),
    ("1e400", "1e400"),  # ParseFloat's range error: go-yaml keeps the text
    ("1e", "1e"),
    ("1.2.3", "1.2.3"),
    ("0x", "0x"),
    ("0b2", "0b2"),
    ("12:30", "12:30"),  # YAML 1.1 sexagesimal is deliberately not supported by go-yaml
    ("1Gi", "1Gi"),
    ("500m", "500m"),
    # booleans: go-yaml v2 keeps YAML 1.1's words, exact spellings only
    ("true", True), ("True", True), ("TRUE", True),
    ("yes", True), ("Yes", True), ("YES", True), ("y", True), ("Y", True),
    ("on", True), ("On", True), ("ON", True),
    ("false", False), ("False", False), ("FALSE", False),
    ("no", False), ("No", False), ("NO", False), ("n", False), ("N", False),
    ("off", False), ("Off", False), ("OFF", False),
    ("tRUE", "tRUE"), ("yEs", "yEs"), ("oN", "oN"),
    # null
    ("~", None), ("null", None), ("Null", None), ("NULL", None), ("nULL", "nULL"),
    # strings that PyYAML's YAML 1.1 resolver would treat specially
    ("=", "="),  # YAML 1.1's value tag: PyYAML fails, kubectl reads "="
    ("2024-05-01", "2024-05-01"),  # timestamps stay text for untyped targets
    ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
    ("<<", "<<"),  # a merge key only in key position
    ("a=b", "a=b"),
    ("-x", "-x"),
    (".", "."),
    (".abc", ".abc"),
]


@pytest.mark.parametrize(("text", "expected"), PLAIN_SCALARS)
def test_plain_scalars_resolve_like_go_yaml(text: str, expected: Any) -> None:
    (document,) = load_all(f"value: {text}\n")
    value = document["value"]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("value: '1e3'", "1e3"),
        ('value: "yes"', "yes"),
        ("value: '0755'", "0755"),
        ("value: ''", ""),
        ("value: |\n  yes\n", "yes\n"),
        ("value: >-\n  1e3\n", "1e3"),
        ("value: !!str 5", "5"),
        ("value: !!str yes", "yes"),
        ("value: !!int '42'", 42),
        ("value: !!float '1'", 1),
        ("value: !!float 2.5", 2.5),
        ("value: !!bool 'on'", True),
        ("value: !!null ''", None),
        ("value: !!timestamp 2024-05-01", "2024-05-01"),
        ("value: !!binary aGVsbG8=", "hello"),
        ("value: !custom 12", "12"),  # go-yaml ignores tags it does not resolve
        ("value: !custom {a: 1}", {"a": 1}),
        ("value:", None),
        ("value: []", []),
        ("value: {}", {}),
    ],
)
def test_quoted_block_and_tagged_scalars(text: str, expected: Any) -> None:
    (document,) = load_all(text)
    assert document["value"] == expected
    assert type(document["value"]) is type(expected)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("1: a", ["1"]),
        ("yes: a", ["true"]),  # go-yaml resolves the key first; JSON needs a string
        ("n: a", ["false"]),
        ("on: a", ["true"]),
        ("1.5: a", ["1.5"]),
        ("1e3: a", ["1000"]),
        ("0.1: a", ["0.1"]),
        ("1234567.0: a", ["1.234567e+06"]),  # Go's %g with float32 precision
        ("0.00001: a", ["1e-05"]),
        ("1E100: a", [".inf"]),  # beyond float32: +Inf, which sigs.k8s.io/yaml spells .inf
        ("-1e300: a", ["-.inf"]),
        ("0x10: a", ["16"]),
        ("'1': a", ["1"]),
        ("=: a", ["="]),
    ],
)
def test_keys_become_strings_like_sigs_yaml(text: str, keys: list[str]) -> None:
    (document,) = load_all(text)
    assert list(document) == keys


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("value: .inf", "cannot be converted to JSON"),
        ("value: -.Inf", "cannot be converted to JSON"),
        ("value: .nan", "cannot be converted to JSON"),
        ("a: 1\na: 2\n", "duplicate mapping key 'a' at line 2, column 1"),
        ("1: x\n'1': y\n", "duplicate mapping key '1'"),
        ("~: x", "found null"),
        ("? [a]\n: x\n", "found a collection"),
        ("value: !!int abc", "cannot decode the scalar as !!int"),
        ("value: !!bool 1", "cannot decode the scalar as !!bool"),
        ("value: !!binary '%%%'", "not base64"),
        ("value: *missing", "undefined anchor"),
        ("a: &a [1, *a]", "recursive alias"),
        ("a: [1\n", "expected ',' or ']'"),
        ("value: {a: 1", "expected ',' or '}'"),
    ],
)
def test_refused_documents(text: str, message: str) -> None:
    with pytest.raises(YAMLError) as info:
        load_all(text)
    assert message in str(info.value)


def test_errors_never_quote_the_document() -> None:
    with pytest.raises(YAMLError) as info:
        load_all("kind: Secret\nstringData: {password: hunter2\n")
    assert "hunter2" not in str(info.value)
    assert info.value.line is not None


def test_aliases_and_merge_keys() -> None:
    (document,) = load_all(
        "base: &base {cpu: 1, memory: 1Gi}\n"
        "copy: *base\n"
        "merged:\n  <<: *base\n  memory: 2Gi\n"
        "first-wins:\n  <<: [{a: 1}, {a: 2, b: 2}]\n"
        "override:\n  a: 0\n  <<: {a: 1}\n"
    )
    assert document["copy"] == {"cpu": 1, "memory": "1Gi"}
    assert document["merged"] == {"cpu": 1, "memory": "2Gi"}
    assert document["first-wins"] == {"a": 1, "b": 2}
    assert document["override"] == {"a": 1}  # go-yaml v2 applies the merge where it stands
    document["copy"]["cpu"] = 5  # values from an alias are copies
    assert document["base"]["cpu"] == 1


def test_multi_document_streams() -> None:
    assert load_all("") == []
    assert load_all("---\n---\na: 1\n---\n") == [None, {"a": 1}, None]
    assert load_all("a: &x 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
    with pytest.raises(YAMLError, match="undefined anchor"):
        load_all("a: &x 1\n---\nb: *x\n")  # anchors do not cross documents
    assert load_all(b"a: 1\n") == [{"a": 1}]


def test_alias_bombs_are_refused_quickly() -> None:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    started = time.monotonic()
    with pytest.raises(YAMLError, match="too many values through aliases"):
        load_all("\n".join(lines))
    assert time.monotonic() - started < 5


def test_aliases_within_the_budget_are_fine() -> None:
    items = ", ".join(["*a"] * 1000)
    (document,) = load_all(f"a: &a [{', '.join(['x'] * 50)}]\nb: [{items}]\n")
    assert len(document["b"]) == 1000 and MAX_ALIAS_VALUES >= 51 * 1000


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    depth = MAX_DEPTH + 1
    with pytest.raises(YAMLError, match=f"nesting deeper than {MAX_DEPTH}"):
        load_all("[" * depth + "]" * depth)
    with pytest.raises(YAMLError):
        load_all("[" * 100_000)
    ok = MAX_DEPTH - 1
    assert load_all("[" * ok + "]" * ok)


def test_resolve_plain_is_the_single_resolution_rule() -> None:
    assert resolve_plain("1e3") == 1000.0 and type(resolve_plain("1e3")) is float
    assert resolve_plain("0755") == 493
    assert resolve_plain("yes") is True


# --- both PyYAML parsers give the same values; JSON manifests read as JSON -------------


class PurePythonLoader(JSONValuesFromEvents, yaml.SafeLoader):
    """The same value builder over PyYAML's pure-Python parser (no libyaml)."""


def _load_pure(text: str) -> list[Any]:
    loader = PurePythonLoader(text)
    try:
        return list(loader.documents())
    finally:
        loader.dispose()


SAMPLE = "\n".join(f"k{i}: {text}" for i, (text, _) in enumerate(PLAIN_SCALARS)) + (
    "\nq: 'quoted'\nb: |\n  block\nm: {<<: {a: 1}, b: 2}\nl: [&x 1, *x]\n")


def test_libyaml_and_pure_python_parsers_agree() -> None:
    assert ManifestLoader.__mro__[1] is JSONValuesFromEvents
    expected = load_all(SAMPLE)
    assert _load_pure(SAMPLE) == expected
    assert [expected[0][f"k{i}"] for i in range(len(PLAIN_SCALARS))] == [
        value for _, value in PLAIN_SCALARS]


# Text in the Basic Multilingual Plane: json.dumps writes other characters as surrogate
# pairs (\ud83d\ude00), which libyaml -- and go-yaml, its port -- refuse as escapes.
_text = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]), max_size=8)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)


def _as_go_json(value: Any) -> Any:
    """What Go's JSON encoder makes of a value: integral floats are written as integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(Decimal(repr(value)))
    if isinstance(value, list):
        return [_as_go_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_go_json(item) for key, item in value.items()}
    return value


@settings(max_examples=80, deadline=None)
@given(_json_values)
def test_a_json_manifest_reads_as_its_json_value(value: Any) -> None:
    # JSON is YAML: kubectl reads a JSON manifest through the same YAML path.
    assert load_all(json.dumps(value)) == [_as_go_json(value)]
