"""Label selectors: grammar, validation errors with positions, matching, canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.labels import (
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
    ("in in in", 6, "unexpected 'in': expected '(' after 'in'"),
    ("a in", 4, "unexpected end of string: expected '(' after 'in'"),
    ("a>9223372036854775808", 2, "expected a 64-bit integer"),
    ("a<99999999999999999999", 2, "expected a 64-bit integer"),
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
    with pytest.raises(LabelSelectorError, match="operator '~=' is not supported"):
        Requirement.create("a", "~=", ["x"])
    with pytest.raises(LabelSelectorError, match="operator 'badop' is not supported"):
        Requirement.create("x", "badop")
    with pytest.raises(LabelSelectorError, match="need an integer value"):
        Requirement.create("a", Operator.GREATER_THAN, ["9223372036854775808"])
    assert str(Requirement.create("a", Operator.GREATER_THAN, ["9223372036854775807"])) == (
        "a>9223372036854775807"
    )


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
    # A trailing newline is not part of a valid name ("$" in a regex would let it through).
    for bad in ("a\n", "example.com\n/a", "a/b\n"):
        with pytest.raises(LabelSelectorError):
            validate_label_key(bad)
    with pytest.raises(LabelSelectorError):
        validate_label_value("v\n")


# -- properties -----------------------------------------------------------------------------

_ALNUM = "abcxyz019"
_name = st.one_of(
    st.text(_ALNUM, min_size=1, max_size=1),
    st.builds(lambda a, mid, b: a + mid + b, st.sampled_from(_ALNUM),
              st.text(_ALNUM + "._-", max_size=6), st.sampled_from(_ALNUM)),
)
_keyword = st.sampled_from(["in", "notin"])
_key = st.one_of(_name, _keyword)
_value = st.one_of(st.just(""), _name, _keyword)


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    key = draw(_key)
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


@given(st.text(alphabet="ab=!(),<> inot", max_size=20))
def test_parser_only_raises_label_selector_errors(text: str) -> None:
    try:
        selector = Selector.parse(text)
    except LabelSelectorError as err:
        assert err.position is not None and 0 <= err.position <= len(text)
    else:
        assert Selector.parse(str(selector)) == selector


# -- keywords as keys (apimachinery reads the key position with keywords off) -------------

KEYWORD_KEYS = [
    # (selector, expected requirements)
    ("notin=in", (Requirement("notin", Operator.EQUALS, ("in",)),)),
    ("in=x", (Requirement("in", Operator.EQUALS, ("x",)),)),
    ("!in", (Requirement("in", Operator.DOES_NOT_EXIST),)),
    ("in in (a)", (Requirement("in", Operator.IN, ("a",)),)),
    ("notin notin (in,notin)", (Requirement("notin", Operator.NOT_IN, ("in", "notin")),)),
    ("in", (Requirement("in", Operator.EXISTS),)),
    ("a,in,!notin", (Requirement("a", Operator.EXISTS), Requirement("in", Operator.EXISTS),
                     Requirement("notin", Operator.DOES_NOT_EXIST))),
    ("in>3", (Requirement("in", Operator.GREATER_THAN, ("3",)),)),
    ("in!=notin", (Requirement("in", Operator.NOT_EQUALS, ("notin",)),)),
    ("example.com/in==in", (Requirement("example.com/in", Operator.DOUBLE_EQUALS, ("in",)),)),
]


@pytest.mark.parametrize(("text", "expected"), KEYWORD_KEYS)
def test_keywords_are_plain_words_as_keys(text: str, expected: tuple[Requirement, ...]) -> None:
    selector = Selector.parse(text)
    assert selector.requirements == expected
    assert Selector.parse(str(selector)) == selector


def test_keyword_keys_match_like_upstream() -> None:
    assert Selector.parse("notin=in").matches({"notin": "in"})
    assert not Selector.parse("notin=in").matches({"in": "notin"})
    assert Selector.parse("!in").matches({"notin": "x"})
    assert Selector.parse("in in (a)").matches({"in": "a"})


def test_comparison_uses_int64_like_strconv() -> None:
    # Labels beyond int64, or with Python-only integer spellings, never compare.
    sel = Selector.parse("a>1")
    assert sel.matches({"a": "9223372036854775807"})
    assert not sel.matches({"a": "9223372036854775808"})
    assert not sel.matches({"a": "1_000"})
    assert not sel.matches({"a": " 5"})
    assert not sel.matches({"a": "5\n"})
    assert not sel.matches({"a": "\u0665"})  # ARABIC-INDIC DIGIT FIVE: int() reads it, Go does not
    assert Selector.parse("a<0").matches({"a": "-3"})


# -- apimachinery's parser tables (pkg/labels/selector_test.go), restated here -------------
# Each case is (selector, canonical string or None when the parse must fail). The expected
# canonical forms follow from upstream's rules: requirements sorted by key, set values
# sorted and de-duplicated, "()" and empty list slots meaning the empty value.

UPSTREAM_PARSE = [
    ("x=a,y=b,z=c", "x=a,y=b,z=c"),
    ("", ""),
    ("x!=a,y=b", "x!=a,y=b"),
    ("x=", "x="),
    ("x= ", "x="),
    ("x=,z= ", "x=,z="),
    ("x= ,z= ", "x=,z="),
    ("!x", "!x"),
    ("x>1", "x>1"),
    ("x>1,z<5", "x>1,z<5"),
    ("x=a||y=b", None),
    ("x==a==b", None),
    ("!x=a", None),
    ("x<a", None),
    ("\rx", "x"),
    ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"),
    ("this-is-another-dns.domain.com/key-with-dash in (so,what)",
     "this-is-another-dns.domain.com/key-with-dash in (so,what)"),
    ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
     "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"),
    ("foo  in\t (abc)", "foo in (abc)"),
    ("x notin\n (abc)", "x notin (abc)"),
    ("x  notin\t\t\t(abc,def)", "x notin (abc,def)"),
    ("x in (abc,def)", "x in (abc,def)"),
    ("x in (abc,)", "x in (,abc)"),
    ("x in (abc,abc)", "x in (abc)"),
    ("x in ()", "x in ()"),
    ("x in (a,,)", "x in (,a)"),
    ("x in (a,,,)", "x in (,a)"),
    ("x in (a,,,,,,)", "x in (,a)"),
    ("x in (a,,a,,a,,a,,)", "x in (,a)"),
    ("x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"),
    ("x,y in (a)", "x,y in (a)"),
    ("x=a", "x=a"),
    ("x<7", "x<7"),
    ("x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"),
    ("x,,y", None),
    (",x,y", None),
    ("x nott in (y)", None),
    ("x notin ( )", "x notin ()"),
    ("x notin (, a)", "x notin (,a)"),
    ("a in (xyz),", None),
    ("a in (xyz)b notin ()", None),
    ("a ", "a"),
    ("a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"),
    ("a in (xyz abc)", None),
    ("a notin(", None),
    ("a (", None),
    ("(", None),
    ("x=a,a=x", "a=x,x=a"),
    ("a=x,x=a", "a=x,x=a"),
    # lexer: the longest symbol wins, anything else is part of an identifier
    ("a==b", "a==b"),
    ("a!=b", "a!=b"),
    ("~", None),  # an identifier, but not a valid label key
    ("a=~", None),
    ("a===b", None),  # "==" then "=": a second operator
    ("a>=1", None),  # ">" then "="
    ("a<=1", None),
    ("a=!b", None),
    ("== != (), = notin", None),
]


@pytest.mark.parametrize(("text", "canonical"), UPSTREAM_PARSE)
def test_upstream_parser_table(text: str, canonical: str | None) -> None:
    if canonical is None:
        with pytest.raises(LabelSelectorError):
            Selector.parse(text)
        return
    selector = Selector.parse(text)
    assert str(selector) == canonical
    assert Selector.parse(canonical) == selector


UPSTREAM_MATCHES = [
    ("", {"x": "y"}, True),
    ("x=y", {"x": "y"}, True),
    ("x=y,z=w", {"x": "y", "z": "w"}, True),
    ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
    ("notin=in", {"notin": "in"}, True),
    ("x", {"x": "z"}, True),
    ("!x", {"y": "z"}, True),
    ("x>1", {"x": "2"}, True),
    ("x<1", {"x": "0"}, True),
    ("x=z", {}, False),
    ("x=y", {"x": "z"}, False),
    ("x=y,z=w", {"x": "w", "z": "w"}, False),
    ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
    ("x", {"y": "z"}, False),
    ("!x", {"x": "z"}, False),
    ("x>1", {"x": "0"}, False),
    ("x<1", {"x": "2"}, False),
    ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}, True),
    ("foo=blah", {"foo": "bar", "baz": "blah"}, False),
    ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}, False),
    ("x in (foo),y notin (alpha)", {"x": "foo", "y": "baz"}, True),
    ("x in (foo),y in (alpha)", {"x": "foo", "y": "baz"}, False),
    ("x notin (),y", {"y": ""}, True),
    ("!x,y", {"y": ""}, True),
    ("x notin (),!y", {"y": ""}, False),
    ("x in ()", {"y": "baz"}, False),
    ("z>1", {"z": "2"}, True),
    ("z>1", {"z": "v2"}, False),
    ("x,y in (a)", {"x": "1", "y": "a"}, True),
]


@pytest.mark.parametrize(("text", "labels", "expected"), UPSTREAM_MATCHES)
def test_upstream_matching_table(text: str, labels: dict[str, str], expected: bool) -> None:
    assert Selector.parse(text).matches(labels) is expected


UPSTREAM_CONSTRUCTOR = [
    # (key, operator, values, error fragment or None)
    ("x1", Operator.IN, [], "need at least one value"),
    ("x2", Operator.NOT_IN, [], "need at least one value"),
    ("x3", Operator.IN, ["foo"], None),
    ("x4", Operator.NOT_IN, ["foo"], None),
    ("x5", Operator.EQUALS, ["foo", "bar"], "exactly one value"),
    ("x6", Operator.EXISTS, [], None),
    ("x7", Operator.DOES_NOT_EXIST, [], None),
    ("x8", Operator.EXISTS, ["foo"], "take no values"),
    ("x11", Operator.GREATER_THAN, ["1"], None),
    ("x12", Operator.LESS_THAN, ["6"], None),
    ("x13", Operator.GREATER_THAN, [], "exactly one value"),
    ("x14", Operator.GREATER_THAN, ["bar"], "need an integer value"),
    ("x15", Operator.LESS_THAN, ["bar"], "need an integer value"),
    ("a" * 254, Operator.EXISTS, [], "invalid label key"),
    ("x16", Operator.EQUALS, ["a" * 254], "invalid label value"),
    ("x17", Operator.EQUALS, ["a b"], "invalid label value"),
    ("x18", "unsupportedOp", [], "is not supported"),
]


@pytest.mark.parametrize(("key", "operator", "values", "error"), UPSTREAM_CONSTRUCTOR)
def test_upstream_requirement_constructor_table(key: str, operator: Operator | str,
                                                values: list[str], error: str | None) -> None:
    if error is None:
        req = Requirement.create(key, operator, values)
        assert Selector.parse(str(req)) == Selector((req,))
        return
    with pytest.raises(LabelSelectorError, match=error):
        Requirement.create(key, operator, values)


UPSTREAM_TO_STRING = [
    ([("x", Operator.IN, ["abc", "def"]), ("y", Operator.NOT_IN, ["jkl"]), ("z", Operator.EXISTS, [])],
     "x in (abc,def),y notin (jkl),z"),
    ([("x", Operator.NOT_IN, ["abc", "def"]), ("y", Operator.NOT_EQUALS, ["jkl"]),
      ("z", Operator.DOES_NOT_EXIST, [])],
     "x notin (abc,def),y!=jkl,!z"),
    ([("x", Operator.NOT_IN, ["abc"]), ("y", Operator.IN, ["jkl", "mno"]),
      ("z", Operator.NOT_IN, [""])],
     "x notin (abc),y in (jkl,mno),z notin ()"),
    ([("x", Operator.EQUALS, ["abc"]), ("y", Operator.DOUBLE_EQUALS, ["jkl"]),
      ("z", Operator.NOT_EQUALS, ["a"]), ("z", Operator.EXISTS, [])],
     "x=abc,y==jkl,z!=a,z"),
    ([("x", Operator.GREATER_THAN, ["2"]), ("y", Operator.LESS_THAN, ["8"]),
      ("z", Operator.EXISTS, [])],
     "x>2,y<8,z"),
]


@pytest.mark.parametrize(("parts", "expected"), UPSTREAM_TO_STRING)
def test_upstream_to_string_table(parts: list[tuple[str, Operator, list[str]]],
                                  expected: str) -> None:
    selector = Selector._of(Requirement.create(k, op, v) for k, op, v in parts)
    assert str(selector) == expected
    assert Selector.parse(expected) == selector
