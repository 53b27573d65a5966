"""Fixups: run on records where the table says, and fail loudly when what they fix is gone."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from kubecodegen.fixups import (
    DocumentFacts,
    Fixup,
    FixupError,
    FixupRule,
    KubernetesVersions,
    document_facts,
    run_fixups,
)
from kubecodegen.fixups.special import special_type
from kubecodegen.fixups.upstream import FIXUP_TABLE, served_crd_schema_copies
from kubecodegen.model.types import Primitive
from kubecodegen.spec import LoadedSpec, load_spec
from kubecodegen.spec.parse import parse_document
from kubecodegen.spec.records import Document, Origin, Schema

CRDS_SPEC = Path(__file__).resolve().parents[1] / "data" / "specs" / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"


@cache
def _parsed(source: str) -> Document:
    return parse_document(load_spec(source))


def _schemas(schema: Schema) -> Iterator[Schema]:
    yield schema
    for child in (*(schema.properties or {}).values(), schema.items, schema.additional_properties):
        if isinstance(child, Schema):
            yield from _schemas(child)


def _all_refs(document: Document) -> set[str]:
    refs = {s.ref for d in document.definitions.values() for s in _schemas(d) if s.ref is not None}
    for item in document.paths.values():
        for op in item.operations.values():
            refs |= set(op.response_refs.values()) | ({op.body_ref} if op.body_ref else set())
    return refs


def test_schema_copies_are_folded_into_their_originals() -> None:
    document = _parsed(str(CRDS_SPEC))
    copies = sorted(d for d in document.definitions if d.endswith("_v2"))
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta_v2" in copies
    assert any(ref.endswith("_v2") for ref in _all_refs(document))
    fixed = run_fixups(document)
    assert fixed.applied == ("served_crd_schema_copies",)
    assert not [d for d in fixed.document.definitions if d.endswith("_v2")]
    assert not [ref for ref in _all_refs(fixed.document) if ref.endswith("_v2")]
    assert set(fixed.document.definitions) == set(document.definitions) - set(copies)
    assert [d for d in document.definitions if d.endswith("_v2")] == copies  # input untouched


def test_a_copy_that_differs_is_kept() -> None:
    raw = copy.deepcopy(load_spec(str(CRDS_SPEC)).document)
    raw["definitions"]["io.k8s.api.autoscaling.v1.Scale_v2"]["properties"]["extra"] = {"type": "string"}
    fixed, changed = served_crd_schema_copies(parse_document(LoadedSpec(str(CRDS_SPEC), raw)))
    assert changed
    assert "io.k8s.api.autoscaling.v1.Scale_v2" in fixed.definitions
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta_v2" not in fixed.definitions


def test_a_copy_whose_description_differs_is_kept() -> None:
    """Folding compares what the generator reads, descriptions (docstrings) included."""
    raw = copy.deepcopy(load_spec(str(CRDS_SPEC)).document)
    raw["definitions"]["io.k8s.api.autoscaling.v1.Scale_v2"]["description"] = "another text"
    fixed, _ = served_crd_schema_copies(parse_document(LoadedSpec(str(CRDS_SPEC), raw)))
    assert "io.k8s.api.autoscaling.v1.Scale_v2" in fixed.definitions


@pytest.mark.parametrize("source", ["builtin:v1.35", "builtin:v1.20"])
def test_builtin_specs_are_listed_for_no_fixup(source: str) -> None:
    document = _parsed(source)
    assert document.origin is Origin.BUILTIN
    assert not [rule for rule in FIXUP_TABLE if rule.matches(document_facts(document))]
    assert run_fixups(document).applied == ()


def test_a_listed_fixup_that_finds_nothing_fails_loudly() -> None:
    """A 1.20 cluster serving custom resources without the copies: the upstream changed."""
    served = dataclasses.replace(_parsed(str(CRDS_SPEC)), origin=Origin.CLUSTER)
    assert run_fixups(served).applied == ("served_crd_schema_copies",)
    folded = run_fixups(served).document
    with pytest.raises(FixupError, match=r"'served_crd_schema_copies' is listed as applying.*"
                                         r"the upstream spec may have changed"):
        run_fixups(folded)


def test_a_file_without_copies_is_no_error() -> None:
    """A file may have been written by hand: the fixup folds what is there, requires nothing."""
    document = _parsed(str(CRDS_SPEC))
    assert document.origin is Origin.FILE
    assert run_fixups(run_fixups(document).document).applied == ()


def test_unchecked_versions_fold_copies_without_requiring_them() -> None:
    document = dataclasses.replace(_parsed(str(CRDS_SPEC)), origin=Origin.CLUSTER)
    newer = dataclasses.replace(document, version="v1.31.0")
    assert run_fixups(newer).applied == ("served_crd_schema_copies",)
    assert run_fixups(run_fixups(newer).document).applied == ()  # nothing left: no error
    unversioned = dataclasses.replace(document, version="unversioned")
    assert run_fixups(unversioned).applied == ("served_crd_schema_copies",)


def test_crd_files_are_not_custom_resources_a_server_published() -> None:
    document = _parsed(str(CRDS_SPEC))
    groups = frozenset(gvk.group for d in document.definitions.values() for gvk in d.group_version_kinds)
    assert document_facts(document).served_custom_resources
    assert not document_facts(dataclasses.replace(document, crd_file_groups=groups)).served_custom_resources


@pytest.mark.parametrize(("version", "expected"), [
    ("v1.20.2", (1, 20)), ("v1.35.0", (1, 35)), ("v1.36.0-alpha.1", (1, 36)), ("1.29", (1, 29)),
    ("unversioned", None), ("v0", None), ("", None)])
def test_the_table_reads_the_kubernetes_version_of_info(version: str, expected: tuple[int, int] | None) -> None:
    document = dataclasses.replace(_parsed("builtin:v1.20"), version=version)
    assert document_facts(document).kubernetes == expected


def test_version_ranges() -> None:
    only_1_20 = KubernetesVersions(since=(1, 20), until=(1, 20))
    assert (1, 20) in only_1_20 and (1, 21) not in only_1_20 and (1, 19) not in only_1_20
    assert None not in only_1_20 and None not in KubernetesVersions()
    assert (1, 5) in KubernetesVersions() and None in KubernetesVersions(unversioned=True)
    assert (1, 20) in KubernetesVersions(unversioned=True)
    assert (1, 19) not in KubernetesVersions(since=(1, 20)) and (1, 21) not in KubernetesVersions(until=(1, 20))


def test_expected_fixup_that_matches_nothing_fails_loudly() -> None:
    stale = Fixup(name="stale", why="upstream fixed it", apply=lambda doc: (doc, 0))
    rule = FixupRule(stale, frozenset(Origin), KubernetesVersions(), None, required=True)
    document = _parsed("builtin:v1.35")
    with pytest.raises(FixupError, match=r"'stale' is listed as applying.*upstream fixed it"):
        run_fixups(document, (rule,))
    optional = dataclasses.replace(rule, required=False)
    assert run_fixups(document, (optional,)).applied == ()
    elsewhere = dataclasses.replace(rule, origins=frozenset({Origin.CLUSTER}))
    assert run_fixups(document, (elsewhere,)).applied == ()  # not listed: not run at all
    assert FIXUP_TABLE  # the registry is not empty


def test_rules_match_on_every_fact() -> None:
    rule = next(r for r in FIXUP_TABLE if r.required)
    facts = DocumentFacts(Origin.CLUSTER, (1, 20), served_custom_resources=True)
    assert rule.matches(facts)
    assert not rule.matches(dataclasses.replace(facts, origin=Origin.BUILTIN))
    assert not rule.matches(dataclasses.replace(facts, origin=Origin.FILE))
    assert not rule.matches(dataclasses.replace(facts, kubernetes=(1, 21)))
    assert not rule.matches(dataclasses.replace(facts, served_custom_resources=False))


def _schema(**keywords: object) -> Schema:
    return Schema("/definitions/x", **keywords)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "schema", "expected"),
    [
        ("io.k8s.apimachinery.pkg.api.resource.Quantity", _schema(type="string"), Primitive.QUANTITY),
        ("io.k8s.apimachinery.pkg.util.intstr.IntOrString", _schema(type="string", format="int-or-string"),
         Primitive.INT_OR_STRING),
        ("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime", _schema(type="string", format="date-time"),
         Primitive.MICRO_TIME),
        ("io.k8s.apimachinery.pkg.runtime.RawExtension", _schema(type="object"), Primitive.OBJECT),
        ("io.k8s.api.core.v1.Pod", _schema(type="object", properties={}), None),
    ],
)
def test_special_types(name: str, schema: Schema, expected: Primitive | None) -> None:
    assert special_type(name, schema) == expected


def test_special_type_with_unexpected_shape_fails() -> None:
    with pytest.raises(FixupError, match=r"Quantity.*unexpected shape"):
        special_type("io.k8s.apimachinery.pkg.api.resource.Quantity",
                     _schema(type="object", properties={"a": _schema()}))


@pytest.mark.parametrize("source", ["builtin:v1.35", "builtin:v1.20", str(CRDS_SPEC)])
def test_every_special_matches_in_every_bundled_spec(source: str) -> None:
    """If upstream renamed or reshaped one of these, this fails instead of generating a struct."""
    definitions = _parsed(source).definitions
    for name in ("io.k8s.apimachinery.pkg.api.resource.Quantity",
                 "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
                 "io.k8s.apimachinery.pkg.runtime.RawExtension",
                 "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool"):
        assert special_type(name, definitions[name]) is not None, name
