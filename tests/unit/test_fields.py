"""Field selectors: parsing, escaping, errors with positions, matching structs and dicts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.fields import (
    FieldOperator,
    FieldRequirement,
    FieldSelector,
    FieldSelectorError,
    escape_value,
    field_value,
)

from .cache_objects import Pod, PodSpec, PodStatus, pod, pod_dict


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("metadata.name=web", "metadata.name=web"),
        ("metadata.name==web", "metadata.name=web"),
        ("status.phase!=Running,metadata.namespace=default",
         "metadata.namespace=default,status.phase!=Running"),
        ("a=b,,c=d", "a=b,c=d"),
        ("a=", "a="),
        (r"a=x\,y\=z\\w", r"a=x\,y\=z\\w"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    selector = FieldSelector.parse(text)
    assert str(selector) == canonical
    assert FieldSelector.parse(canonical) == selector


def test_escaped_value_is_unescaped_in_the_requirement() -> None:
    selector = FieldSelector.parse(r"spec.x=a\,b\=c\\d")
    assert selector.requirements == (
        FieldRequirement("spec.x", FieldOperator.EQUALS, "a,b=c\\d"),
    )


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("a", 0, "term 'a' has no operator"),
        ("x=1,y", 4, "term 'y' has no operator"),
        ("=b", 0, "empty field name"),
        ("a=b,!=c", 4, "empty field name"),
        ("a=b=c", 3, "unescaped '=' in value"),
        ("a==b=c", 4, "unescaped '=' in value"),
        (r"a=b\x", 3, r"invalid escape sequence '\x'"),
        ("a=b\\", 3, "unterminated escape sequence"),
    ],
)
def test_errors(text: str, position: int, reason: str) -> None:
    with pytest.raises(FieldSelectorError) as info:
        FieldSelector.parse(text)
    assert info.value.position == position
    assert reason in info.value.reason
    assert str(info.value) == f"invalid field selector {text!r}: {info.value.reason} at {position}"


@pytest.mark.parametrize("make", [pod, pod_dict], ids=["struct", "dict"])
def test_matches_metadata_on_structs_and_dicts(make: object) -> None:
    obj = make("web-0", "prod", node="n1")  # type: ignore[operator]
    assert FieldSelector.parse("metadata.name=web-0").matches(obj)
    assert FieldSelector.parse("metadata.name=web-0,metadata.namespace=prod").matches(obj)
    assert not FieldSelector.parse("metadata.namespace=dev").matches(obj)
    assert FieldSelector.parse("metadata.namespace!=dev").matches(obj)
    assert FieldSelector.parse("spec.nodeName=n1").matches(obj)
    assert FieldSelector.everything().matches(obj)


def test_missing_fields_compare_as_empty() -> None:
    obj = pod("a", None)
    assert FieldSelector.parse("metadata.namespace=").matches(obj)
    assert FieldSelector.parse("spec.nodeName!=n1").matches(obj)
    assert FieldSelector.parse("status.phase=").matches(obj)
    assert not FieldSelector.parse("no.such.path=x").matches(obj)


def test_field_value_renders_scalars_like_the_server() -> None:
    obj = Pod(spec=PodSpec(host_network=True, priority=7), status=PodStatus(phase="Running"))
    assert field_value(obj, "spec.hostNetwork") == "true"
    assert field_value(obj, "spec.priority") == "7"
    assert field_value(obj, "status.phase") == "Running"
    assert field_value(obj, "spec") == ""  # not a scalar
    assert field_value({"spec": {"hostNetwork": False}}, "spec.hostNetwork") == "false"
    # wire names, not attribute names, address struct fields
    assert field_value(obj, "spec.host_network") == ""


def test_from_dict_and_exact_match() -> None:
    selector = FieldSelector.from_dict({"metadata.namespace": "a,b", "metadata.name": "x"})
    assert str(selector) == r"metadata.name=x,metadata.namespace=a\,b"
    assert selector.requires_exact_match("metadata.namespace") == "a,b"
    assert FieldSelector.parse("metadata.name!=x").requires_exact_match("metadata.name") is None
    assert selector.matches_fields({"metadata.name": "x", "metadata.namespace": "a,b"})


@given(st.dictionaries(st.from_regex(r"\A[a-z]{1,5}(\.[a-z]{1,5}){0,2}\Z"),
                       st.text(max_size=8), max_size=4))
def test_escape_round_trip(fields: dict[str, str]) -> None:
    selector = FieldSelector.from_dict(fields)
    reparsed = FieldSelector.parse(str(selector))
    assert reparsed == selector
    assert reparsed.matches_fields(fields)


def test_escape_value() -> None:
    assert escape_value(r"a\b,c=d") == r"a\\b\,c\=d"
