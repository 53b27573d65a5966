"""Label selectors: grammar, validation errors with positions, matching, canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen.runtime.labels import (
    LabelSelectorError,
    Operator,
    Requirement,
    Selector,
    as_selector,
    validate_label_key,
    validate_label_value,
)

# -- parsing and canonical strings ---------------------------------------------------------

CANONICAL = [
    ("", ""),
    ("a=b", "a=b"),
    ("a==b", "a==b"),
    ("a!=b", "a!=b"),
    ("a", "a"),
    ("!a", "!a"),
    ("  a  =  b  ", "a=b"),
    ("a=", "a="),
    ("x in (b,a)", "x in (a,b)"),
    ("x notin (c, b ,a)", "x notin (a,b,c)"),
    ("x in (a,a)", "x in (a)"),
    ("x in ()", "x in ()"),
    ("x in (,a)", "x in (,a)"),
    ("x in(a)", "x in (a)"),
    ("env in (in,notin)", "env in (in,notin)"),
    ("a>1", "a>1"),
    ("a<10", "a<10"),
    ("z=1,a=2,m", "a=2,m,z=1"),
    ("example.com/app=web", "example.com/app=web"),
    ("a.b-c_d=e.f-g_h", "a.b-c_d=e.f-g_h"),
    ("!a,b notin (x)", "!a,b notin (x)"),
]


@pytest.mark.parametrize(("text", "canonical"), CANONICAL)
def test_canonical_string_round_trips(text: str, canonical: str) -> None:
    selector = Selector.parse(text)
    assert str(selector) == canonical
    assert Selector.parse(canonical) == selector


def test_parse_builds_the_expected_requirements() -> None:
    selector = Selector.parse("tier notin (db), !legacy, app in (web,api), ver>2")
    assert selector.requirements == (
        Requirement("app", Operator.IN, ("api", "web")),
        Requirement("legacy", Operator.DOES_NOT_EXIST),
        Requirement("tier", Operator.NOT_IN, ("db",)),
        Requirement("ver", Operator.GREATER_THAN, ("2",)),
    )


# -- invalid selectors: message and position ----------------------------------------------

INVALID = [
    # (selector, position, reason fragment)
    ("a in (x))", 8, "unexpected ')': expected ',' or end of string"),
    ("a b", 2, "unexpected 'b': expected an operator"),
    ("a=b c", 4, "unexpected 'c': expected ',' or end of string"),
    ("!a=b", 2, "unexpected '=': expected ',' or end of string after '!key'"),
    ("a in x", 5, "unexpected 'x': expected '(' after 'in'"),
    ("a notin (a b)", 11, "unexpected 'b': expected ',' or ')'"),
    ("a in (x", 7, "unexpected end of string: expected a value, ',' or ')'"),
    ("a in (=)", 6, "unexpected '=': expected a value, ',' or ')'"),
    (",a", 0, "unexpected ',': expected a label key or '!'"),
    ("a,", 2, "unexpected end of string: expected a label key or '!' after ','"),
    ("a,,b", 2, "unexpected ',': expected a label key or '!' after ','"),
    ("a==(", 3, "unexpected '(': expected a value after '=='"),
    ("in=b", 0, "unexpected 'in': expected a label key or '!'"),
    ("!", 1, "unexpected end of string: expected a label key"),
    ("a>x", 2, "invalid value 'x' for '>'"),
    ("a<1.5", 2, "invalid value '1.5' for '<'"),
    ("a=-b", 2, "invalid label value '-b' for key 'a'"),
    ("a=b-", 2, "invalid label value 'b-' for key 'a'"),
    ("a=" + "v" * 64, 2, "must be no more than 63 characters"),
    ("k" * 64 + "=v", 0, "name part must be no more than 63 characters"),
    ("x/y/z=1", 0, "found more than one '/'"),
    ("A.com/b=1", 0, "prefix part must be a lowercase RFC 1123 subdomain"),
    ("/b=1", 0, "prefix part must be non-empty"),
    ("a.com/=1", 0, "name part must be non-empty"),
    ("-a=1", 0, "name part must consist of alphanumeric characters"),
    ("a in (x,y z)", 10, "unexpected 'z': expected ',' or ')'"),
    ("x=1 y=2", 4, "unexpected 'y': expected ',' or end of string"),
]


@pytest.mark.parametrize(("text", "position", "reason"), INVALID)
def test_invalid_selectors_report_reason_and_position(text: str, position: int,
                                                      reason: str) -> None:
    with pytest.raises(LabelSelectorError) as info:
        Selector.parse(text)
    err = info.value
    assert err.position == position
    assert reason in err.reason
    assert err.selector == text
    message = str(err)
    assert message.startswith(f"invalid label selector {text!r}: ")
    assert f" at {position}" in message


def test_position_is_placed_after_the_first_clause() -> None:
    with pytest.raises(LabelSelectorError) as info:
        Selector.parse("app in (web))")
    assert str(info.value) == (
        "invalid label selector 'app in (web))': unexpected ')' at 12: "
        "expected ',' or end of string"
    )


# -- matching -------------------------------------------------------------------------------

MATCHES = [
    ("", {}, True),
    ("", {"a": "b"}, True),
    ("a=b", {"a": "b"}, True),
    ("a=b", {"a": "c"}, False),
    ("a=b", {}, False),
    ("a==b", {"a": "b"}, True),
    ("a!=b", {"a": "c"}, True),
    ("a!=b", {}, True),
    ("a!=b", {"a": "b"}, False),
    ("a in (x,y)", {"a": "y"}, True),
    ("a in (x,y)", {"a": "z"}, False),
    ("a in (x,y)", {}, False),
    ("a notin (x,y)", {}, True),
    ("a notin (x,y)", {"a": "x"}, False),
    ("a notin (x,y)", {"a": "z"}, True),
    ("a", {"a": ""}, True),
    ("a", {"b": "x"}, False),
    ("!a", {"b": "x"}, True),
    ("!a", {"a": "x"}, False),
    ("a=", {"a": ""}, True),
    ("a in ()", {"a": ""}, True),
    ("a>1", {"a": "2"}, True),
    ("a>1", {"a": "1"}, False),
    ("a>1", {}, False),
    ("a>1", {"a": "x"}, False),
    ("a<10", {"a": "9"}, True),
    ("a<10", {"a": "10"}, False),
    ("a>-0", {"a": "1"}, None),  # "-0" is not a valid label value: parse error
    ("a=b,c!=d", {"a": "b", "c": "e"}, True),
    ("a=b,c!=d", {"a": "b", "c": "d"}, False),
]


@pytest.mark.parametrize(("text", "labels", "expected"), MATCHES)
def test_matches(text: str, labels: dict[str, str], expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(LabelSelectorError):
            Selector.parse(text)
        return
    assert Selector.parse(text).matches(labels) is expected


# -- construction helpers -------------------------------------------------------------------


def test_everything_matches_all_and_renders_empty() -> None:
    assert Selector.everything().is_everything()
    assert str(Selector.everything()) == ""
    assert Selector.everything().matches({"x": "y"})
    assert Selector.parse("") == Selector.everything()


def test_from_dict_is_sorted_and_validated() -> None:
    selector = Selector.from_dict({"tier": "web", "app": "shop"})
    assert str(selector) == "app=shop,tier=web"
    assert selector.matches({"app": "shop", "tier": "web", "x": "1"})
    assert not selector.matches({"app": "shop"})
    with pytest.raises(LabelSelectorError, match="invalid label value 'bad value'"):
        Selector.from_dict({"app": "bad value"})


def test_from_label_selector_dict_and_struct_forms() -> None:
    wire = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    selector = Selector.from_label_selector(wire)
    assert str(selector) == "app=web,!legacy,tier in (be,fe)"

    class Expr:
        def __init__(self, key: str, operator: str, values: list[str] | None = None):
            self.key, self.operator, self.values = key, operator, values

    class LS:
        def __init__(self) -> None:
            self.match_labels = {"app": "web"}
            self.match_expressions = [Expr("zone", "Exists")]

    assert str(Selector.from_label_selector(LS())) == "app=web,zone"
    assert Selector.from_label_selector({}).is_everything()


@pytest.mark.parametrize(
    ("label_selector", "message"),
    [
        (None, "a LabelSelector is required"),
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
         "matchExpressions[0]: operator 'Gt' is not one of"),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
         "matchExpressions[0]: 'a': 'in' and 'notin' need at least one value"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
         "matchExpressions[0]: 'a': exists and does-not-exist take no values"),
        ({"matchExpressions": [{"operator": "Exists"}]}, "matchExpressions[0]: key is missing"),
    ],
)
def test_from_label_selector_errors(label_selector: object, message: str) -> None:
    with pytest.raises(LabelSelectorError) as info:
        Selector.from_label_selector(label_selector)
    assert message in str(info.value)


def test_requirement_create_validates() -> None:
    assert str(Requirement.create("a", "in", ["y", "x", "y"])) == "a in (x,y)"
    with pytest.raises(LabelSelectorError, match="equality needs exactly one value"):
        Requirement.create("a", Operator.EQUALS, ["x", "y"])
    with pytest.raises(LabelSelectorError, match="need an integer value"):
        Requirement.create("a", Operator.LESS_THAN, ["x"])
    with pytest.raises(ValueError):
        Requirement.create("a", "~=", ["x"])


def test_as_selector_accepts_the_natural_inputs() -> None:
    assert as_selector(None).is_everything()
    assert str(as_selector("b=1,a=2")) == "a=2,b=1"
    assert str(as_selector({"a": "2"})) == "a=2"
    sel = Selector.parse("a")
    assert as_selector(sel) is sel


def test_key_and_value_validators() -> None:
    validate_label_key("app.kubernetes.io/name")
    validate_label_value("")
    validate_label_value("a" * 63)
    with pytest.raises(LabelSelectorError, match="must be no more than 253 characters"):
        validate_label_key("a" * 254 + "/b")
    with pytest.raises(LabelSelectorError, match="invalid label value"):
        validate_label_value("a" * 64)


# -- properties -----------------------------------------------------------------------------

_ALNUM = "abcxyz019"
_name = st.one_of(
    st.text(_ALNUM, min_size=1, max_size=1),
    st.builds(lambda a, mid, b: a + mid + b, st.sampled_from(_ALNUM),
              st.text(_ALNUM + "._-", max_size=6), st.sampled_from(_ALNUM)),
)
_value = st.one_of(st.just(""), _name)


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    key = draw(_name)
    op = draw(st.sampled_from(list(Operator)))
    if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
        return Requirement.create(key, op)
    if op in (Operator.IN, Operator.NOT_IN):
        return Requirement.create(key, op, draw(st.lists(_value, min_size=1, max_size=4)))
    if op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        return Requirement.create(key, op, [str(draw(st.integers(0, 10**6)))])
    return Requirement.create(key, op, [draw(_value)])


@given(st.lists(requirements(), max_size=5))
def test_str_parse_round_trip_property(reqs: list[Requirement]) -> None:
    selector = Selector._of(reqs)
    assert Selector.parse(str(selector)) == selector


@given(st.lists(requirements(), max_size=4),
       st.dictionaries(_name, _value, max_size=4))
def test_matching_survives_round_trip(reqs: list[Requirement], labels: dict[str, str]) -> None:
    selector = Selector._of(reqs)
    assert Selector.parse(str(selector)).matches(labels) == all(r.matches(labels) for r in reqs)


@given(st.text(alphabet="ab=!(),<> in", max_size=20))
def test_parser_only_raises_label_selector_errors(text: str) -> None:
    try:
        selector = Selector.parse(text)
    except LabelSelectorError as err:
        assert err.position is not None and 0 <= err.position <= len(text)
    else:
        assert Selector.parse(str(selector)) == selector
