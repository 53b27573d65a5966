"""``--crd FILE`` offline gives what ``--from-cluster`` gives after installing FILE on a real server.

The six real CRDs of tests/data/crds plus the ones in tests/data/crds_offline (a v1beta1 CRD
with a shared schema, cluster scope, a scale subresource with a selector and a version that is
not served; a namespaced v1beta1 CRD that keeps unknown fields; a v1 CRD with nullable,
defaulted, oneOf, embedded-resource and preserve-unknown-fields properties and an unserved
version, next to a ConfigMap) are installed on kube-apiserver 1.20.2; then the published
definitions and paths, ``inspect -o json`` and the generated files are compared.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubecodegen.cli import main
from kubecodegen.fixups import document_facts, run_fixups
from kubecodegen.fixups.upstream import FIXUP_TABLE
from kubecodegen.generate import SpecSource, generate
from kubecodegen.model.types import ApiModel
from kubecodegen.spec import load_spec
from kubecodegen.spec.cluster import load_spec_from_cluster
from kubecodegen.spec.crd_files import read_crd_paths
from kubecodegen.spec.crd_publish import crd_groups, merge_crds
from kubecodegen.spec.crd_yaml import load_all
from kubecodegen.spec.parse import parse_document
from kubecodegen.spec.records import Origin
from tests.integration.test_crds_from_cluster import _for_v1_20

DATA = Path(__file__).resolve().parents[1] / "data"
GROUPS = ["batch.tutorial.kubebuilder.io", "cert-manager.io", "example.net", "example.org",
          "kafka.strimzi.io", "monitoring.coreos.com"]
PLURALS = ["cronjobs", "certificates", "clusterissuers", "levers", "gadgets", "sprockets",
           "kafkanodepools", "servicemonitors", "prometheusrules"]


@pytest.fixture(scope="module")
def crd_dir(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CRD files as installed (1.20 needs cert-manager's ``default: ""`` adapted), one
    folder; the originals are installed through the API version they declare."""
    folder = tmp_path_factory.mktemp("crds")
    client = cluster.admin_client()
    files = sorted((DATA / "crds").glob("*.yaml")) + sorted((DATA / "crds_offline").glob("*.yaml"))
    for file in files:
        documents = [_for_v1_20(doc) for doc in load_all(file.read_bytes()) if doc is not None]
        (folder / (file.stem + ".json" if len(documents) == 1 else file.name)).write_text(
            json.dumps(documents[0]) if len(documents) == 1
            else "\n---\n".join(json.dumps(doc) for doc in documents))
        for doc in documents:
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            version = doc["apiVersion"].split("/")[1]
            response = client.post(f"/apis/apiextensions.k8s.io/{version}/customresourcedefinitions", json=doc)
            assert response.status_code in (201, 409), response.text
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        paths = client.get("/openapi/v2").json()["paths"]
        if all(any(p.endswith(f"/{plural}") for p in paths) for plural in PLURALS):
            time.sleep(2)  # the last CRD's versions are published one after the other
            return folder
        time.sleep(1)
    raise AssertionError("CRD schemas never appeared in /openapi/v2")


def _unsuffixed(node: Any) -> Any:
    """The served document's private ``*_v2`` copies of meta types named as the originals."""
    if isinstance(node, dict):
        return {k: (v.replace("_v2", "") if k == "$ref" else _unsuffixed(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_unsuffixed(v) for v in node]
    return node


def _without_parameter_texts(item: dict[str, Any]) -> dict[str, Any]:
    """Parameter descriptions are the server's prose, which the offline spec does not copy."""
    def strip(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in p.items() if k != "description"} for p in params]
    result = {m: ({**op, "parameters": strip(op.get("parameters", []))} if m != "parameters" else strip(op))
              for m, op in item.items()}
    for op in result.values():
        if isinstance(op, dict):
            op.pop("description", None)
    return result


def _crd_part(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    groups = tuple(f"/apis/{g}/" for g in GROUPS)
    paths = {p: _without_parameter_texts(_unsuffixed(item)) for p, item in document["paths"].items()
             if p.startswith(groups)}
    gvk_defs = {}
    for name, schema in document["definitions"].items():
        entries = schema.get("x-kubernetes-group-version-kind", [])
        if any(e.get("group") in GROUPS for e in entries):
            gvk_defs[name] = _unsuffixed(schema)
    return paths, gvk_defs


def test_published_definitions_and_paths_are_the_servers(cluster: Any, crd_dir: Path) -> None:
    served = load_spec_from_cluster(str(cluster.admin_kubeconfig))
    offline = merge_crds(load_spec("builtin:v1.20"), read_crd_paths([str(crd_dir)]))
    served_paths, served_defs = _crd_part(served.document)
    offline_paths, offline_defs = _crd_part(offline.document)
    assert sorted(offline_defs) == sorted(served_defs)
    for name in served_defs:
        assert offline_defs[name] == served_defs[name], name
    assert sorted(offline_paths) == sorted(served_paths)
    for path in served_paths:
        assert offline_paths[path] == served_paths[path], path
    assert "/apis/example.org/v1alpha1/gadgets" not in offline.document["paths"]  # not served


def test_the_cluster_document_meets_the_fixup_table(cluster: Any, crd_dir: Path) -> None:
    """The table's one required row (1.20 with custom resources: ``*_v2`` meta copies) is
    a claim about this very server: it holds, and the records the model gets have none."""
    served = load_spec_from_cluster(str(cluster.admin_kubeconfig))
    document = parse_document(served)
    facts = document_facts(document)
    assert (document.origin, facts.kubernetes, facts.served_custom_resources) == (Origin.CLUSTER, (1, 20), True)
    assert [rule.fixup.name for rule in FIXUP_TABLE if rule.required and rule.matches(facts)] == \
        ["served_crd_schema_copies"]
    assert any(name.endswith("_v2") for name in document.definitions)
    fixed = run_fixups(document)
    assert fixed.applied == ("served_crd_schema_copies",)
    assert not any(name.endswith("_v2") for name in fixed.document.definitions)
    files = read_crd_paths([str(crd_dir)])
    offline = parse_document(merge_crds(load_spec("builtin:v1.20"), files))
    assert run_fixups(offline).applied == ()  # --crd publishes no copies: nothing to fold
    served_names, offline_names = set(fixed.document.definitions), set(offline.definitions)
    assert offline_names <= served_names
    # anything else is a kind of the CRDs other tests installed in this shared cluster
    others = {gvk.group for name in served_names - offline_names
              for gvk in fixed.document.definitions[name].group_version_kinds}
    assert all(fixed.document.definitions[name].group_version_kinds for name in served_names - offline_names)
    assert others.isdisjoint(crd_groups(files))


def _inspect(args: list[str]) -> Any:
    result = CliRunner().invoke(main, ["inspect", *args, "-o", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _resources_only(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without ``unrendered_properties``: what the base spec's meta/v1 has beyond
    the runtime's (the 1.20 server's ``ObjectMeta.clusterName``), not the CRDs' resources."""
    return [{k: v for k, v in row.items() if k != "unrendered_properties"} for row in rows]


def test_inspect_json_is_identical(cluster: Any, crd_dir: Path) -> None:
    groups = [arg for g in GROUPS for arg in ("--group", g)]
    from_cluster = _inspect(["--from-cluster", "--kubeconfig", str(cluster.admin_kubeconfig), *groups])
    assert len(from_cluster) == 12
    assert _inspect(["--spec", "builtin:v1.20", "--crd", str(crd_dir), *groups]) == from_cluster
    # alone, the CRDs sit on the default spec, whose meta/v1 is the runtime's: same
    # resources, and nothing of meta/v1 left out (the served 1.20 ObjectMeta has clusterName)
    alone = _inspect(["--crd", str(crd_dir)])
    assert _resources_only(alone) == _resources_only(from_cluster)
    assert all(row["unrendered_properties"] == {} for row in alone)
    cluster_name = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta/clusterName"
    assert all(list(row["unrendered_properties"]) in ([cluster_name], []) for row in from_cluster)
    # every kind with a typed class uses ObjectMeta; Sprocket has none (no schema published)
    assert {row["kind"] for row in from_cluster if not row["unrendered_properties"]} == {"Sprocket"}
    files = [arg for f in sorted(crd_dir.iterdir()) for arg in ("--crd", str(f))]
    assert _inspect(files) == alone


def test_crd_schemas_are_the_same_read_from_the_files_or_the_cluster(cluster: Any, crd_dir: Path) -> None:
    """All records, the untyped Sprocket's legacy ``preserveUnknownFields`` root included: the
    server serves each CRD back with what Go omits left out, which the reading drops too."""
    from_cluster = load_spec_from_cluster(str(cluster.admin_kubeconfig))
    offline = merge_crds(load_spec("builtin:v1.20"), read_crd_paths([str(crd_dir)]))
    ours = [s for s in from_cluster.crd_schemas if s.group in GROUPS]
    assert ours == list(offline.crd_schemas)
    assert {s.resource for s in ours} == set(PLURALS)
    sprocket = next(s for s in ours if s.resource == "sprockets")
    assert json.loads(sprocket.schema)["x-kubernetes-preserve-unknown-fields"] is True


def _struct_shapes(model: ApiModel, modules: set[str]) -> dict[str, Any]:
    return {s.name + "@" + s.module: [(f.wire_name, f.py_name, repr(f.type), f.required) for f in s.fields]
            for s in model.structs.values() if s.module in modules}


def test_generated_package_is_identical(cluster: Any, crd_dir: Path) -> None:
    from_cluster = generate(SpecSource(from_cluster=True, kubeconfig=str(cluster.admin_kubeconfig)),
                            "crds", groups=GROUPS)
    with_base = generate(SpecSource(spec="builtin:v1.20", crds=(str(crd_dir),)), "crds", groups=GROUPS)
    assert sorted(with_base.files) == sorted(from_cluster.files)
    different = [name for name in from_cluster.files if with_base.files[name] != from_cluster.files[name]]
    assert different == []
    assert any("example_org_v1beta1" in name for name in from_cluster.files)
    # The fake clientset's tables: custom resources, and scale paths read from the CRD objects
    # the cluster lists (v1beta1's CRD-wide subresources included), as from the files.
    tables: dict[str, Any] = {}
    exec(compile(from_cluster.files["_fake_api.py"], "_fake_api.py", "exec"), tables)
    assert tables["CUSTOM"] == {(r.group, r.resource) for r in tables["RESOURCES"]}
    assert {plural for _, plural in tables["CUSTOM"]} == set(PLURALS) - {"sprockets"}  # untyped: no client
    assert set(tables["SCALE"]) == {("example.net", "levers"), ("example.org", "gadgets"),
                                    ("kafka.strimzi.io", "kafkanodepools")}
    assert tables["SCALE"][("example.net", "levers")].spec_replicas == ".spec.count"
    assert tables["SCALE"][("example.net", "levers")].label_selector is None
    assert tables["SCALE"][("example.org", "gadgets")].label_selector == ".status.selector"
    # CRD validation schemas (the files above are byte-identical, so these are the offline ones
    # too): every typed served version has one; unserved versions (gadgets v1alpha1, levers v0)
    # none; v1beta1's CRD-wide validation reaches each version
    assert set(tables["SCHEMAS"]) == {(r.group, r.version, r.resource) for r in tables["RESOURCES"]}
    assert ("example.org", "v1alpha1", "gadgets") not in tables["SCHEMAS"]
    assert ("example.net", "v0", "levers") not in tables["SCHEMAS"]
    assert tables["SCHEMAS"][("example.org", "v1", "gadgets")] == tables["SCHEMAS"][("example.org", "v1beta1",
                                                                                     "gadgets")]
    # Alone, on the default (newer) spec: the CRDs' own types, fields, wire names and
    # required flags are the same; meta/v1 is the newer release's.
    alone = generate(SpecSource(crds=(str(crd_dir),)), "crds")
    crd_modules = {m for m in from_cluster.model.modules if m != "meta_v1" and not m.startswith("autoscaling")}
    assert len(crd_modules) >= 9
    assert _struct_shapes(alone.model, crd_modules) == _struct_shapes(from_cluster.model, crd_modules)
    assert any("ConfigMap" in note for note in alone.notes)


def test_offline_package_drives_the_server(cluster: Any, crd_dir: Path, tmp_path: Path, namespace: str) -> None:
    """The package made from the files alone works against the server that installed them:
    a cluster-scoped v1beta1 kind through its scale subresource, a namespaced kind's status."""
    import importlib
    import sys

    from kubecodegen.generate import write

    write(generate(SpecSource(crds=(str(crd_dir),)), "offline_crds"), tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module("offline_crds")
        org = importlib.import_module("offline_crds.models.example_org_v1")
        net = importlib.import_module("offline_crds.models.example_net_v2")
        meta = importlib.import_module("offline_crds.models.meta_v1")
        with package.Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
            gadgets = cs.example_org_v1.gadgets()
            gadgets.create(org.Gadget(metadata=meta.ObjectMeta(name="g1"),
                                      spec=org.GadgetSpec(replicas=1, mode="fast", port="http")))
            scale = gadgets.get_scale("g1")
            scale.spec.replicas = 3
            gadgets.update_scale("g1", scale)
            assert gadgets.get("g1").spec.replicas == 3
            levers = cs.example_net_v2.levers(namespace)
            created = levers.create(net.Lever(metadata=meta.ObjectMeta(name="l1"),
                                              spec=net.LeverSpec(count=2, owner="me")))
            assert created.spec.policy == "Always"  # required with a default: the server fills it
            created.status = net.LeverStatus(count=2, phase="Ready")
            assert levers.update_status(created).status.phase == "Ready"
            gadgets.delete("g1")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "offline_crds" or m.startswith("offline_crds.")]:
            del sys.modules[name]
