"""CRD files: reading (files, folders, multi-document, v1beta1), the malformed-CRD corpus, the
v2 conversion rules, the CLI (exit 2, nothing written) and a bounded fuzzer of the reader."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecodegen.cli import main
from kubecodegen.generate import SpecSource, generate, load_model, model_of
from kubecodegen.model.definitions import ModelError
from kubecodegen.spec import SpecError, load_spec, validate_spec
from kubecodegen.spec.crd_files import parse_crd_documents, read_crd_paths
from kubecodegen.spec.crd_publish import definition_name, merge_crds, schema_for_v2

CORPUS = Path(__file__).parent / "crd_corpus"
CASES: list[dict[str, Any]] = json.loads((CORPUS / "cases.json").read_text())
DATA = Path(__file__).resolve().parents[1] / "data"
_FAST = settings(max_examples=int(os.environ.get("KUBECODEGEN_FUZZ_EXAMPLES", "120")),
                 deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_corpus_base_is_valid() -> None:
    files = read_crd_paths([str(CORPUS / "base.yaml")])
    assert [crd.spec["names"]["kind"] for crd in files.crds] == ["Thing"]


def test_corpus_is_indexed() -> None:
    listed = {case["file"] for case in CASES}
    on_disk = {p.name for p in CORPUS.glob("*.yaml")} - {"base.yaml"}
    assert listed == on_disk and len(listed) >= 20


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_corpus_case(case: dict[str, Any]) -> None:
    """Each malformed file fails naming the file, the document (1-based) and the pointer."""
    path = CORPUS / case["file"]
    with pytest.raises(SpecError) as caught:
        read_crd_paths([str(path)])
    error = caught.value
    expected_source = str(path) if case["document"] is None else f"{path}: document {case['document']}"
    assert error.source == expected_source
    assert error.pointer == case["pointer"]
    assert case["message"] in error.message


@pytest.mark.parametrize("case", CASES[:6] + CASES[-4:], ids=lambda c: c["file"])
def test_cli_exits_2_and_writes_nothing(case: dict[str, Any], tmp_path: Path) -> None:
    for command in (["generate", "--package", "p", "--out", str(tmp_path)], ["inspect"], ["validate"]):
        result = CliRunner().invoke(main, [*command, "--crd", str(CORPUS / case["file"])])
        assert result.exit_code == 2, result.output
        assert case["file"] in result.stderr and "#" + case["pointer"] in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_folder_multi_document_and_notes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text((CORPUS / "base.yaml").read_text())
    other = yaml.safe_load((CORPUS / "base.yaml").read_text())
    other["metadata"]["name"] = "gizmos.corpus.example.com"
    other["spec"]["names"] = {"plural": "gizmos", "kind": "Gizmo"}
    (tmp_path / "b.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [other]}))
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n")
    (tmp_path / "README.md").write_text("not read")
    files = read_crd_paths([str(tmp_path)])
    assert [crd.spec["names"]["kind"] for crd in files.crds] == ["Thing", "Gizmo"]
    assert len(files.notes) == 1 and "Kustomization" in files.notes[0] and "document 1" in files.notes[0]
    result = CliRunner().invoke(main, ["inspect", "--crd", str(tmp_path)])
    assert result.exit_code == 0 and result.stderr.count("note:") == 1
    assert "gizmos" in result.stdout and "things" in result.stdout


def test_the_same_crd_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="also defined by"):
        read_crd_paths([str(CORPUS / "base.yaml"), str(CORPUS / "base.yaml")])


def test_v1beta1_is_brought_to_the_v1_shape() -> None:
    crds, notes = parse_crd_documents((DATA / "crds_offline" / "example.org_gadgets_v1beta1.yaml").read_bytes(), "g")
    gadget, sprocket = (crd.spec for crd in crds)
    assert notes == [] and "validation" not in gadget and "subresources" not in gadget
    assert [v["name"] for v in gadget["versions"]] == ["v1", "v1beta1", "v1alpha1"]
    assert all(v["subresources"]["scale"]["labelSelectorPath"] == ".status.selector" for v in gadget["versions"])
    assert gadget["preserveUnknownFields"] is False and sprocket["preserveUnknownFields"] is True
    assert sprocket["versions"] == [{"name": "v1", "served": True, "storage": True,
                                     "schema": sprocket["versions"][0]["schema"]}]


def test_definition_names_reverse_the_group() -> None:
    assert definition_name("monitoring.coreos.com", "v1", "ServiceMonitor") == "com.coreos.monitoring.v1.ServiceMonitor"
    assert definition_name("cert-manager.io", "v1", "Certificate") == "io.cert-manager.v1.Certificate"


def test_v2_conversion_rules() -> None:
    schema: dict[str, Any] = {
        "type": "object", "required": ["a", "n"], "example": {"a": 1}, "x-kubernetes-validations": [],
        "properties": {
            "a": {"type": "string", "default": "x", "enum": ["x", "y"], "oneOf": [{"pattern": "x"}]},
            "n": {"type": "string", "nullable": True},
            "p": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                  "properties": {"k": {"type": "string"}}},
            "i": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "e": {"type": "object", "x-kubernetes-embedded-resource": True, "required": ["kind"],
                  "properties": {"spec": {"type": "object"}}},
            "f": {"type": "boolean", "nullable": False, "x-kubernetes-embedded-resource": False},
        },
    }
    out = schema_for_v2(schema)
    assert out["required"] == ["a"]  # nullable leaves required; default is stripped here
    assert out["properties"]["a"] == {"type": "string", "enum": ["x", "y"]}
    assert out["properties"]["n"] == {}
    assert out["properties"]["p"] == {"x-kubernetes-preserve-unknown-fields": True}
    assert out["properties"]["i"] == {"x-kubernetes-int-or-string": True}
    assert out["properties"]["f"] == {"type": "boolean"}
    embedded = out["properties"]["e"]
    assert sorted(embedded["properties"]) == ["apiVersion", "kind", "metadata", "spec"]
    assert embedded["required"] == ["kind", "apiVersion"]
    assert "example" not in out and "x-kubernetes-validations" not in out
    assert schema["properties"]["n"] == {"type": "string", "nullable": True}  # input untouched


def test_merge_publishes_served_versions_and_restores_defaults() -> None:
    files = read_crd_paths([str(DATA / "crds_offline")])
    document = merge_crds(load_spec("builtin:v1.20"), files).document
    lever = document["definitions"]["net.example.v2.Lever"]
    assert lever["x-kubernetes-group-version-kind"] == [{"group": "example.net", "kind": "Lever", "version": "v2"}]
    assert lever["properties"]["spec"]["properties"]["policy"]["default"] == "Always"
    assert "net.example.v0.Lever" not in document["definitions"]
    assert document["definitions"]["org.example.v1.Sprocket"] == {
        "type": "object", "x-kubernetes-group-version-kind": [{"group": "example.org", "kind": "Sprocket",
                                                               "version": "v1"}]}
    assert "/apis/example.org/v1/gadgets/{name}/scale" in document["paths"]
    assert "/apis/example.org/v1/gadgets" in document["paths"]  # cluster-scoped: no namespace


def test_crd_alone_keeps_only_the_crd_groups_and_the_required_default_is_optional() -> None:
    _, model = load_model(SpecSource(crds=(str(DATA / "crds_offline"),)))
    assert sorted(g.name for g in model.groups) == ["example.net", "example.org"]
    spec = next(s for s in model.structs.values() if s.name == "LeverSpec" and s.module == "example_net_v2")
    required = {f.wire_name for f in spec.fields if f.required}
    assert required == {"count"}  # policy has a default, owner is nullable


def test_crd_added_to_a_spec_keeps_every_group() -> None:
    _, model = load_model(SpecSource(spec="builtin:v1.20", crds=(str(DATA / "crds_offline"),)))
    names = {g.name for g in model.groups}
    assert {"", "apps", "example.net", "example.org"} <= names


def test_a_crd_clashing_with_the_base_is_refused(tmp_path: Path) -> None:
    crd = yaml.safe_load((CORPUS / "base.yaml").read_text())
    crd["metadata"]["name"] = "roles.rbac.authorization.k8s.io"
    crd["spec"].update(group="rbac.authorization.k8s.io", names={"plural": "roles", "kind": "Role"})
    (tmp_path / "clash.yaml").write_text(yaml.safe_dump(crd))
    with pytest.raises(SpecError, match="already in the base spec"):
        load_model(SpecSource(spec="builtin:v1.20", crds=(str(tmp_path / "clash.yaml"),)))


def test_crd_and_from_cluster_are_alternatives() -> None:
    result = CliRunner().invoke(main, ["inspect", "--from-cluster", "--crd", str(CORPUS / "base.yaml")])
    assert result.exit_code == 2 and "--crd and --from-cluster" in result.stderr


def test_generate_with_crd_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--crd", str(DATA / "crds"), "--package", "myop",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "myop" / "models" / "monitoring_coreos_com_v1.py").is_file()
    generated = generate(SpecSource(crds=(str(DATA / "crds"),)), "myop")
    assert "models/core_v1.py" not in generated.files


# --- fuzzing -----------------------------------------------------------------------

_BASE_TEXT = (CORPUS / "base.yaml").read_text()
_BASE_SPEC = load_spec("builtin:v1.20")


@_FAST
@given(st.binary(max_size=400))
def test_any_bytes_read_or_raise_a_spec_error(data: bytes) -> None:
    try:
        parse_crd_documents(data, "fuzz")
    except SpecError as exc:
        assert exc.source.startswith("fuzz")


_json = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                 max_size=3),
                     max_leaves=12)
_KEYS = ["type", "properties", "items", "required", "nullable", "additionalProperties", "anyOf",
         "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "$ref", "enum", "default"]


@_FAST
@given(st.lists(st.tuples(st.sampled_from(_KEYS), _json), max_size=4), st.integers(0, 2))
def test_mutated_crd_reads_publishes_and_models_or_raises_a_spec_error(
        mutations: list[tuple[str, Any]], depth: int) -> None:
    """A CRD whose schema is mutated either gives a model or a located SpecError, never a crash."""
    crd = yaml.safe_load(_BASE_TEXT)
    node = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for _ in range(depth):
        node = node["properties"].get("spec") or node["properties"].setdefault("spec", {"type": "object"})
        node.setdefault("properties", {})
    for key, value in mutations:
        node[key] = value
    try:
        files = read_crd_paths_from_text(json.dumps(crd))
        document = merge_crds(_BASE_SPEC, files)
    except SpecError as exc:
        assert exc.source.startswith("fuzz")
        return
    assert "com.example.corpus.v1.Thing" in document.document["definitions"]
    try:
        validate_spec(document)
        model = model_of(document, groups=["corpus.example.com"])
    except (SpecError, ModelError):
        return  # a typed error naming a pointer into the published document
    assert [r.kind for r in model.resources()] == ["Thing"]


def read_crd_paths_from_text(text: str) -> Any:
    from kubecodegen.spec.crd_files import CrdFiles
    crds, notes = parse_crd_documents(text, "fuzz")
    return CrdFiles(tuple(crds), tuple(notes), ("fuzz",))
