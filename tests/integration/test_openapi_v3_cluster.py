"""OpenAPI v3 input against real servers: the modern (1.36) server serves ``/openapi/v3``, 1.20 does not.

A CRD with an enum (strings and integers), a nullable, a defaulted and oneOf/anyOf properties is
installed on the modern server; ``--from-cluster`` reads v3 by default (the notes name the
documents read), gives ``Literal[...]`` for the enums and a typed nullable, and the same
resources as the same server's v2. Documents saved from the server (as ``kubectl get --raw``
would) are read back through ``--spec FILE`` and ``--spec DIR``; the CRD file through ``--crd``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubecodegen.cli import main
from kubecodegen.generate import SpecSource, generate
from kubecodegen.model.types import LiteralOf, Primitive, StructType
from kubecodegen.spec.cluster import load_spec_from_cluster
from tests.harness.cluster import TestCluster

from .cr_machinery import install_crd

GROUP = "v3probe.example.com"
WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP, "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
        "versions": [{
            "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                "type": "object", "required": ["size", "mode"],
                "properties": {
                    "size": {"type": "string", "enum": ["small", "large"]},
                    "mode": {"type": "string", "default": "auto", "enum": ["auto", "manual"]},
                    "note": {"type": "string", "nullable": True},
                    "count": {"type": "integer", "enum": [1, 2, 3]},
                    "byName": {"type": "string"}, "byId": {"type": "integer"}},
                "oneOf": [{"required": ["byName"]}, {"required": ["byId"]}],
                "anyOf": [{"required": ["size"]}, {"required": ["note"]}]}}}}}]}}


@pytest.fixture(scope="module")
def widget_server(modern_cluster: TestCluster) -> TestCluster:
    install_crd(modern_cluster.admin_client(), WIDGET_CRD)
    return modern_cluster


def _invoke(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result


def _inspect(args: list[str]) -> tuple[list[dict[str, Any]], str]:
    result = _invoke(["inspect", *args, "-o", "json"])
    return json.loads(result.stdout), result.stderr


def _resources_only(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "unrendered_properties"} for row in rows]


def _spec_struct(source: SpecSource) -> StructType:
    model = generate(source, "widgets", groups=[GROUP]).model
    return next(s for s in model.structs.values() if s.name == "WidgetSpec")


def _types(struct: StructType) -> dict[str, Any]:
    return {f.wire_name: (f.type, f.required) for f in struct.fields}


def test_v3_is_read_by_default_and_gives_the_resources_of_v2(widget_server: TestCluster) -> None:
    kubeconfig = ["--from-cluster", "--kubeconfig", str(widget_server.admin_kubeconfig)]
    auto, auto_notes = _inspect(kubeconfig)
    v3, v3_notes = _inspect([*kubeconfig, "--openapi", "v3"])
    v2, v2_notes = _inspect([*kubeconfig, "--openapi", "v2"])
    assert f"/openapi/v3/apis/{GROUP}/v1" in auto_notes and "read OpenAPI v3, " in auto_notes
    assert "/openapi/v3/apis/apiextensions.k8s.io/v1" in v3_notes
    assert "read OpenAPI v2" in v2_notes and "/openapi/v3" not in v2_notes
    assert auto == v3 == v2
    assert {row["resource"] for row in v3} >= {"widgets", "customresourcedefinitions"}
    spec = load_spec_from_cluster(str(widget_server.admin_kubeconfig))
    assert any(source.endswith(f"/openapi/v3/apis/{GROUP}/v1") for source in spec.openapi_documents)


def test_v3_gives_literal_enums_and_keeps_what_v2_loses(widget_server: TestCluster, tmp_path: Path) -> None:
    kubeconfig = str(widget_server.admin_kubeconfig)
    v3 = _types(_spec_struct(SpecSource(from_cluster=True, kubeconfig=kubeconfig, openapi="v3")))
    assert v3["size"] == (LiteralOf(("small", "large")), True)
    assert v3["count"] == (LiteralOf((1, 2, 3)), False)
    assert v3["mode"] == (LiteralOf(("auto", "manual")), False)  # required, but defaulted
    assert v3["note"] == (Primitive.STRING, False)  # nullable keeps its type in v3
    assert v3["byName"] == (Primitive.STRING, False)  # oneOf/anyOf branches only constrain
    # v2 read with the cluster's CRD objects: their defaults and nullable types are put back
    v2 = _types(_spec_struct(SpecSource(from_cluster=True, kubeconfig=kubeconfig, openapi="v2")))
    assert v2 == v3
    # the v2 document alone (saved to a file) lost them: the nullable is untyped, the
    # defaulted property required, and nothing says the kinds are custom resources
    saved = tmp_path / "openapi-v2.json"
    saved.write_bytes(widget_server.admin_client().get("/openapi/v2").content)
    bare = _types(_spec_struct(SpecSource(spec=str(saved))))
    assert bare["note"] == (Primitive.ANY, False)
    assert bare["mode"] == (Primitive.STRING, True)
    assert bare["size"] == (Primitive.STRING, True)
    # a built-in type's v3 enum (from a Go marker) stays a plain str: it may grow
    model = generate(SpecSource(from_cluster=True, kubeconfig=kubeconfig), "crds",
                     groups=["apiextensions.k8s.io"]).model
    rule = next(s for s in model.structs.values() if s.name == "ValidationRule")
    assert {f.wire_name: f.type for f in rule.fields}["reason"] is Primitive.STRING
    document = widget_server.admin_client().get("/openapi/v3/apis/apiextensions.k8s.io/v1").json()
    assert document["components"]["schemas"][
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule"]["properties"]["reason"]["enum"]
    files = generate(SpecSource(from_cluster=True, kubeconfig=kubeconfig), "widgets", groups=[GROUP]).files
    module = files["models/v3probe_example_com_v1.py"].decode()
    assert 'size: Literal["small", "large"]' in module and "Literal" in module.split("class")[0]


def test_crd_file_agrees_with_the_v3_cluster(widget_server: TestCluster, tmp_path: Path) -> None:
    crd_file = tmp_path / "widget.json"
    crd_file.write_text(json.dumps(WIDGET_CRD))
    offline, _ = _inspect(["--crd", str(crd_file)])
    cluster, _ = _inspect(["--from-cluster", "--kubeconfig", str(widget_server.admin_kubeconfig),
                           "--group", GROUP])
    # the rows but ``unrendered_properties``: the 1.36 server's meta/v1 (ListMeta.shardInfo)
    # beyond the runtime's, which is the base spec's, not the CRD's
    assert _resources_only(offline) == _resources_only(cluster)
    assert any(row["unrendered_properties"] for row in cluster)
    assert all(row["unrendered_properties"] == {} for row in offline)
    v3 = _types(_spec_struct(SpecSource(from_cluster=True, kubeconfig=str(widget_server.admin_kubeconfig))))
    crd = _types(_spec_struct(SpecSource(crds=(str(crd_file),))))
    assert crd == v3  # the same Literal types, typed nullable and optional defaulted property
    # oneOf/anyOf (kept by v3, put back from the CRD for --crd and v2) end up in the docstring
    described = {_spec_struct(source).description for source in (
        SpecSource(crds=(str(crd_file),)),
        SpecSource(from_cluster=True, kubeconfig=str(widget_server.admin_kubeconfig), openapi="v3"),
        SpecSource(from_cluster=True, kubeconfig=str(widget_server.admin_kubeconfig), openapi="v2"))}
    assert described == {"Exactly one of these must be set (the server enforces it): byName | byId.\n\n"
                         "At least one of these must be set (the server enforces it): size | note."}


def test_saved_v3_documents_read_through_spec(widget_server: TestCluster, tmp_path: Path) -> None:
    """``--spec FILE`` (one group-version's document) and ``--spec DIR`` (every document the
    index lists, saved the way ``kubectl get --raw`` prints them) give what the cluster gives."""
    folder = tmp_path / "v3"
    folder.mkdir()
    admin = widget_server.admin_client()
    index = admin.get("/openapi/v3").json()
    (folder / "index.json").write_text(json.dumps(index))  # skipped: it is the index
    for name, entry in index["paths"].items():
        (folder / (name.replace("/", "_") + ".json")).write_bytes(
            admin.get(entry["serverRelativeURL"]).content)
    kubeconfig = ["--from-cluster", "--kubeconfig", str(widget_server.admin_kubeconfig)]
    assert _inspect(["--spec", str(folder)])[0] == _inspect(kubeconfig)[0]
    single = folder / f"apis_{GROUP}_v1.json"
    assert _inspect(["--spec", str(single)])[0] == _inspect([*kubeconfig, "--group", GROUP])[0]
    # the CRD's document says it is one (its title): the enums are Literal from the file too
    assert _types(_spec_struct(SpecSource(spec=str(single)))) == \
        _types(_spec_struct(SpecSource(from_cluster=True, kubeconfig=str(widget_server.admin_kubeconfig))))


def test_v1_20_serves_no_v3_and_falls_back_to_v2(cluster: TestCluster) -> None:
    kubeconfig = ["--from-cluster", "--kubeconfig", str(cluster.admin_kubeconfig)]
    auto, notes = _inspect(kubeconfig)
    assert "read OpenAPI v2" in notes and "read OpenAPI v3" not in notes
    assert auto == _inspect([*kubeconfig, "--openapi", "v2"])[0]
    assert any(row["resource"] == "pods" for row in auto)
    forced = CliRunner().invoke(main, ["inspect", *kubeconfig, "--openapi", "v3"])
    assert forced.exit_code == 2
    assert "/openapi/v3" in forced.stderr and "HTTP 404" in forced.stderr
