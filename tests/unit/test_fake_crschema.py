"""Unit tests of the fake's structural-schema steps (``fake/crschema.py``) and of the Go
formatting their messages use (``fake/gofmt.py``).

The wording and the quirks pinned here were read off kube-apiserver 1.20
(tests/integration/test_fake_crschema_vs_server.py compares whole writes with it); the
expected strings of ``gofmt`` are what Go 1.19's ``fmt`` prints.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubecodegen_runtime.fake.crschema import Schema
from kubecodegen_runtime.fake.gofmt import go_float, go_quote, go_sharp, go_value
from kubecodegen_runtime.fake.schema import ScalePaths

ITEM = {"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer"}}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "known": {"type": "string"},
                "items": {"type": "array", "items": ITEM},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                         "properties": {"typed": ITEM}},
                "freelist": {"type": "array", "x-kubernetes-preserve-unknown-fields": True,
                             "items": ITEM},
                "embedded": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "properties": {"spec": {"type": "object"}}},
                "map": {"type": "object", "additionalProperties": ITEM},
                "anymap": {"type": "object", "additionalProperties": True},
                "nullable": {"type": "string", "nullable": True},
                "null_default": {"type": "string", "default": None},
                "with_default": {"type": "integer", "default": 7},
                "deep": {"type": "object", "default": {},
                         "properties": {"inner": {"type": "string", "default": "x"}}},
                "defaulted_items": {"type": "array", "items": {
                    "type": "object", "properties": {"port": {"type": "integer", "default": 80}}}},
            },
        },
    },
}


def coerced(obj: dict[str, Any], schema: dict[str, Any] = SCHEMA) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    Schema(schema).coerce(out)
    return out


# -- pruning --------------------------------------------------------------------------------

def test_root_keeps_type_and_metadata_and_drops_the_rest() -> None:
    obj = coerced({"apiVersion": "g/v1", "kind": "K", "metadata": {"name": "a", "odd": 1},
                   "top": 1, "spec": {"known": "k", "unknown": 2}})
    assert obj["metadata"] == {"name": "a", "odd": 1}  # metadata is not the schema's
    assert "top" not in obj and obj["spec"]["known"] == "k" and "unknown" not in obj["spec"]


def test_nested_objects_list_items_and_map_values_are_pruned() -> None:
    obj = coerced({"spec": {"items": [{"name": "a", "x": 1}],
                            "map": {"k": {"name": "b", "y": 2}},
                            "anymap": {"k": {"gone": 1}, "s": "scalar"}}})
    assert obj["spec"]["items"] == [{"name": "a"}]
    assert obj["spec"]["map"] == {"k": {"name": "b"}}
    # additionalProperties: true has no schema for the values: an object value is emptied
    assert obj["spec"]["anymap"] == {"k": {}, "s": "scalar"}


def test_preserved_nodes_keep_unknown_fields_but_prune_known_ones() -> None:
    obj = coerced({"spec": {"free": {"other": {"a": [1]}, "typed": {"name": "n", "z": 1}},
                            "freelist": [{"name": "n", "kept": True}]}})
    assert obj["spec"]["free"] == {"other": {"a": [1]}, "typed": {"name": "n"}}
    # the items of a preserving list are skip-pruned: their unknown fields stay
    assert obj["spec"]["freelist"] == [{"name": "n", "kept": True}]


def test_embedded_resources_keep_their_type_and_metadata() -> None:
    obj = coerced({"spec": {"embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {"x": 1},
                                         "spec": {"a": 1}, "other": 1}}})
    assert obj["spec"]["embedded"] == {"apiVersion": "v1", "kind": "Pod", "metadata": {"x": 1},
                                       "spec": {}}


# -- nulls and defaults ---------------------------------------------------------------------

def test_nulls_without_default_go_nullable_ones_stay() -> None:
    obj = coerced({"spec": {"known": None, "nullable": None, "null_default": None}})
    assert "known" not in obj["spec"]
    assert obj["spec"]["nullable"] is None
    # a default of null is no default: the null goes, and nothing is filled in
    assert "null_default" not in obj["spec"]


def test_defaults_fill_missing_and_null_fields_then_their_own_content() -> None:
    obj = coerced({"spec": {"with_default": None, "defaulted_items": [{}, {"port": 1}]}})
    spec = obj["spec"]
    assert spec["with_default"] == 7
    assert spec["deep"] == {"inner": "x"}  # defaulted, then defaulted inside
    assert spec["defaulted_items"] == [{"port": 80}, {"port": 1}]
    assert "null_default" not in spec


def test_defaults_are_copies() -> None:
    schema = Schema(SCHEMA)
    first, second = {"spec": {}}, {"spec": {}}
    schema.coerce(first)
    schema.coerce(second)
    first["spec"]["deep"]["inner"] = "changed"
    assert second["spec"]["deep"] == {"inner": "x"}


# -- validation -----------------------------------------------------------------------------

NUMBERS: dict[str, Any] = {"type": "object", "properties": {
    "i": {"type": "integer", "minimum": 1.5, "maximum": 10},
    "f": {"type": "number", "exclusiveMinimum": True, "minimum": 0.5, "multipleOf": 0.5},
    "s": {"type": "string", "maxLength": 2, "pattern": "^[a-z]+$"},
    "e": {"type": "string", "enum": ["a", "b"]},
    "n": {"type": "integer", "enum": [1, 2]},
    "l": {"type": "array", "items": {"type": "integer"}, "maxItems": 1},
    "ios": {"x-kubernetes-int-or-string": True},
}, "required": ["i"]}


@pytest.mark.parametrize(("value", "causes"), [
    ({"i": "x"}, [("FieldValueInvalid", "i", 'Invalid value: "string": i in body must be of '
                   'type integer: "string"')]),
    ({"i": 2.0}, []),  # an integral float is an integer
    # an integer is compared with the bounds cut to integers, as kube-openapi does
    ({"i": 0}, [("FieldValueInvalid", "i", "Invalid value: 0: i in body should be greater "
                 "than or equal to 1")]),
    ({"i": 1}, []),  # 1 < 1.5, but not below int64(1.5)
    ({"i": 11}, [("FieldValueInvalid", "i", "Invalid value: 11: i in body should be less than "
                  "or equal to 10")]),
    ({"i": 2, "f": 0.5}, [("FieldValueInvalid", "f", "Invalid value: 0.5: f in body should be "
                           "greater than 0.5")]),
    ({"i": 2, "f": 0.75}, [("FieldValueInvalid", "f", "Invalid value: 0.75: f in body should "
                            "be a multiple of 0.5")]),
    ({"i": 2, "s": "abc"}, [("FieldValueInvalid", "s", 'Invalid value: "abc": s in body should '
                             "be at most 2 chars long")]),
    ({"i": 2, "s": "A"}, [("FieldValueInvalid", "s", "Invalid value: \"A\": s in body should "
                           "match '^[a-z]+$'")]),
    ({"i": 2, "e": "c"}, [("FieldValueNotSupported", "e", 'Unsupported value: "c": supported '
                           'values: "a", "b"')]),
    ({"i": 2, "n": 3}, [("FieldValueNotSupported", "n", 'Unsupported value: 3: supported '
                         'values: "1", "2"')]),
    ({"i": 2, "n": 2.0}, []),  # numbers compare as numbers
    ({"i": 2, "l": [1, None]}, [
        ("FieldValueInvalid", "l", 'Invalid value: "null": l in body must be of type integer: '
         '"null"'),  # an item's errors name the list
        ("FieldValueInvalid", "l", "Invalid value: 2: l in body should have at most 1 items")]),
    ({"i": 2, "ios": True}, [("FieldValueInvalid", "ios", 'Invalid value: "boolean": ios in '
                              'body must be of type integer,string: "boolean"')]),
    ({}, [("FieldValueRequired", "i", "Required value")]),
])
def test_validation_causes(value: dict[str, Any], causes: list[tuple[str, str, str]]) -> None:
    assert Schema(NUMBERS).problems(value) == causes


def test_object_property_counts_end_the_objects_checks() -> None:
    schema = Schema({"type": "object", "minProperties": 2, "required": ["a"],
                     "properties": {"a": {"type": "string"}, "b": {"type": "string"}}})
    assert schema.problems({"b": 1}) == [
        ("FieldValueInvalid", "", "Invalid value: 2:  in body should have at least 2 properties")]


LISTS: dict[str, Any] = {"type": "object", "properties": {
    "set": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
    "map": {"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
}}


def test_list_types_report_each_repeated_item_once() -> None:
    causes = Schema(LISTS).problems({"set": ["a", "a", "a", "b"],
                                     "map": [{"name": "x"}, {"name": "x"}, {}, {}]})
    assert causes == [
        ("FieldValueDuplicate", "set[1]", 'Duplicate value: "a"'),
        ("FieldValueDuplicate", "map[1]",
         'Duplicate value: map[string]interface {}{"name":"x"}'),
        ("FieldValueDuplicate", "map[3]", "Duplicate value: map[string]interface {}{}"),
    ]


def test_list_types_ratchet_on_update() -> None:
    schema = Schema(LISTS)
    bad = {"set": ["a", "a"]}
    assert schema.problems(bad, old={"set": ["b", "b"]}) == []  # the old one was bad too
    assert schema.problems(bad, old={"set": []}) != []


def test_scale_paths() -> None:
    schema = Schema({"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    paths = ScalePaths(".spec.replicas", ".status.replicas", ".status.selector")
    assert schema.problems({"spec": {"replicas": -1}, "status": {"selector": 3}},
                           scale=paths) == [
        ("FieldValueInvalid", ".spec.replicas",
         "Invalid value: -1: should be a non-negative integer"),
        ("FieldValueInvalid", ".status.selector",
         'Invalid value: "": .status.selector accessor error: 3 is of the type int64, '
         "expected string"),
    ]
    # a status write checks the status paths only
    assert schema.problems({"spec": {"replicas": "x"}}, scale=paths, status_only=True) == []
    assert schema.problems({"spec": {"replicas": 1.5}}, scale=paths)[0][2] == (
        "Invalid value: 0: .spec.replicas accessor error: 1.5 is of the type float64, "
        "expected int64")


# -- Go's formatting ---------------------------------------------------------------------------

def test_go_float_matches_fmt() -> None:
    values = [0.0, 1.0, 1.5, 100.0, 1e6, 123456789.0, 1e20, 1e21, 1.5e21, 0.0001, 0.00001,
              -2.5, 3.14159, 1e-7, 12345.678, 1234567.0]
    # go 1.19: fmt.Printf("%v|", v) for each
    assert "|".join(go_float(v) for v in values) == (
        "0|1|1.5|100|1e+06|1.23456789e+08|1e+20|1e+21|1.5e+21|0.0001|1e-05|-2.5|3.14159|"
        "1e-07|12345.678|1.234567e+06")


def test_go_quote_and_sharp() -> None:
    assert go_quote("a\nb\x01é\u2028\"\\") == '"a\\nb\\x01é\\u2028\\"\\\\"'
    assert go_sharp({"b": 1.5, "a": "x"}) == 'map[string]interface {}{"a":"x", "b":1.5}'
    assert go_sharp([1, "s", None]) == '[]interface {}{1, "s", interface {}(nil)}'
    assert [go_value(v) for v in (None, True, 3, 2.5, "s")] == ["null", "true", "3", "2.5",
                                                                 '"s"']


def test_metadata_messages_quote_as_go() -> None:
    """Every quoted value goes through ``go_quote``: a newline is ``\\n``, as Go's ``%q``."""
    from kubecodegen_runtime.fake.objmeta import label_problems

    (_reason, _field, message), *_ = label_problems({"k": "a\nb"})
    assert message.startswith('Invalid value: "a\\nb": ')
