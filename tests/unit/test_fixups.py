"""Fixups: each applies where expected and fails loudly when it no longer matches."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from kubecodegen.fixups import Fixup, FixupError, run_fixups
from kubecodegen.fixups.special import special_type
from kubecodegen.fixups.upstream import UPSTREAM_FIXUPS, served_crd_schema_copies
from kubecodegen.model.types import Primitive
from kubecodegen.spec import load_spec

CRDS_SPEC = Path(__file__).resolve().parents[1] / "data" / "specs" / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"


def test_schema_copies_are_folded_into_their_originals() -> None:
    document = copy.deepcopy(load_spec(str(CRDS_SPEC)).document)
    copies = sorted(d for d in document["definitions"] if d.endswith("_v2"))
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta_v2" in copies
    assert run_fixups(document) == ["served_crd_schema_copies"]
    assert not [d for d in document["definitions"] if d.endswith("_v2")]
    text = str(document)
    assert "_v2'" not in text  # no reference to a copy survives


def test_a_copy_that_differs_is_kept() -> None:
    document = copy.deepcopy(load_spec(str(CRDS_SPEC)).document)
    document["definitions"]["io.k8s.api.autoscaling.v1.Scale_v2"]["properties"]["extra"] = {"type": "string"}
    served_crd_schema_copies(document)
    assert "io.k8s.api.autoscaling.v1.Scale_v2" in document["definitions"]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta_v2" not in document["definitions"]


def test_specs_without_copies_need_no_fixup() -> None:
    document = copy.deepcopy(load_spec("builtin:v1.35").document)
    assert run_fixups(document) == []


def test_expected_fixup_that_matches_nothing_fails_loudly() -> None:
    stale = Fixup(name="stale", why="upstream fixed it", expected=lambda doc: True, apply=lambda doc: 0)
    with pytest.raises(FixupError, match="'stale' was expected to apply"):
        run_fixups({"definitions": {}}, (stale,))
    assert UPSTREAM_FIXUPS  # the registry is not empty


@pytest.mark.parametrize(
    ("name", "schema", "expected"),
    [
        ("io.k8s.apimachinery.pkg.api.resource.Quantity", {"type": "string"}, Primitive.QUANTITY),
        ("io.k8s.apimachinery.pkg.util.intstr.IntOrString", {"type": "string", "format": "int-or-string"},
         Primitive.INT_OR_STRING),
        ("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime", {"type": "string", "format": "date-time"},
         Primitive.MICRO_TIME),
        ("io.k8s.apimachinery.pkg.runtime.RawExtension", {"type": "object"}, Primitive.OBJECT),
        ("io.k8s.api.core.v1.Pod", {"type": "object", "properties": {}}, None),
    ],
)
def test_special_types(name: str, schema: dict[str, Any], expected: Primitive | None) -> None:
    assert special_type(name, schema) == expected


def test_special_type_with_unexpected_shape_fails() -> None:
    with pytest.raises(FixupError, match=r"Quantity.*unexpected shape"):
        special_type("io.k8s.apimachinery.pkg.api.resource.Quantity", {"type": "object", "properties": {"a": {}}})


@pytest.mark.parametrize("source", ["builtin:v1.35", "builtin:v1.20", str(CRDS_SPEC)])
def test_every_special_matches_in_every_bundled_spec(source: str) -> None:
    """If upstream renamed or reshaped one of these, this fails instead of generating a struct."""
    definitions = load_spec(source).document["definitions"]
    for name in ("io.k8s.apimachinery.pkg.api.resource.Quantity",
                 "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
                 "io.k8s.apimachinery.pkg.runtime.RawExtension",
                 "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool"):
        assert special_type(name, definitions[name]) is not None, name
