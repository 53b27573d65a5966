"""The generated fake clientset: ``<pkg>/fake.py`` and its tables ``<pkg>/_fake_api.py``.

The tables are checked against their inputs, not against hard-coded copies: every merge
extension of the bundled specs and of the corpus CRDs is found again in ``TYPES`` by
following the kind's root and the property path, and ``RESOURCES`` is compared with the
clientset's own constants. The fake server's behaviour is tested in the runtime's tests.
"""

from __future__ import annotations

import ast
import copy
import gzip
import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecodegen.generate import SpecSource, load_model, write
from kubecodegen.model.types import ApiModel
from kubecodegen.render.plan import plan_package
from kubecodegen.render.write import render
from kubecodegen.spec.crd_publish import crd_scales
from kubecodegen.spec.records import CrdScale
from kubecodegen_runtime.fake.schema import Field, ScalePaths
from kubecodegen_runtime.meta import ResourceInfo
from tests.generated_packages import GENERATED, import_reference

CRDS = Path(__file__).resolve().parents[1] / "data" / "crds"
SERVICE_MONITORS = CRDS / "prometheus-operator__monitoring.coreos.com_servicemonitors.yaml"
KAFKA_NODE_POOLS = CRDS / "strimzi__045-Crd-kafkanodepool.yaml"
FAKE_FILES = ("_fake_api.py", "fake.py")
_MERGE_KEYS = {"x-kubernetes-list-type": "list_type", "x-kubernetes-list-map-keys": "list_map_keys",
               "x-kubernetes-map-type": "map_type", "x-kubernetes-patch-strategy": "patch_strategy",
               "x-kubernetes-patch-merge-key": "patch_merge_key"}


def fake_files(source: str | SpecSource, package: str = "fakepkg", *, vendor: bool = False
               ) -> tuple[ApiModel, dict[str, bytes]]:
    """The model and the two fake files of a package (nothing else is rendered)."""
    _, model = load_model(source)
    planned = [f for f in plan_package(model, package, "test", vendor) if f.path in FAKE_FILES]
    return model, render(planned, workers=1)


def tables(source: bytes) -> dict[str, Any]:
    """Run a rendered ``_fake_api.py`` (it imports only the runtime) and return its globals."""
    namespace: dict[str, Any] = {}
    exec(compile(source, "_fake_api.py", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def crd_package() -> tuple[ApiModel, dict[str, bytes]]:
    return fake_files(SpecSource(crds=(str(CRDS),)))


def _builtin_document(version: str) -> dict[str, Any]:
    path = resources.files("kubecodegen") / "specs" / f"{version}.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))


# --- built-in specs (the committed reference packages) ---------------------------------------

def test_pod_spec_containers_carry_every_merge_extension() -> None:
    api = import_reference("kube_v1_35._fake_api")
    assert api.TYPES["io.k8s.api.core.v1.PodSpec"]["containers"] == Field(
        type="io.k8s.api.core.v1.Container", container="list", list_type="map", list_map_keys=("name",),
        patch_strategy="merge", patch_merge_key="name")


def test_container_ports_are_a_list_map_of_two_keys() -> None:
    api = import_reference("kube_v1_35._fake_api")
    ports = api.TYPES["io.k8s.api.core.v1.Container"]["ports"]
    assert ports.list_map_keys == ("containerPort", "protocol") and ports.list_type == "map"
    assert ports.type == "io.k8s.api.core.v1.ContainerPort" and ports.container == "list"


def test_finalizers_merge_as_a_set_of_strings() -> None:
    api = import_reference("kube_v1_35._fake_api")
    finalizers = api.TYPES["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["finalizers"]
    assert finalizers.patch_strategy == "merge" and finalizers.container == "list" and finalizers.type is None


def test_an_atomic_definition_makes_the_properties_holding_it_atomic() -> None:
    """``+structType=atomic`` is on the definition (LabelSelector, LocalObjectReference)."""
    api = import_reference("kube_v1_35._fake_api")
    assert api.TYPES["io.k8s.api.apps.v1.DeploymentSpec"]["selector"] == Field(
        type="io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", map_type="atomic")
    assert api.TYPES["io.k8s.api.core.v1.PodSpec"]["imagePullSecrets"].map_type == "atomic"
    assert api.TYPES["io.k8s.api.core.v1.PodSpec"]["nodeSelector"] == Field(container="map", map_type="atomic")


def test_free_form_objects_are_maps_and_scalars_are_left_out() -> None:
    api = import_reference("kube_v1_35._fake_api")
    revision = api.TYPES["io.k8s.api.apps.v1.ControllerRevision"]
    assert revision["data"] == Field(container="map")  # a RawExtension
    assert "revision" not in revision and "apiVersion" not in revision


@pytest.mark.parametrize(("package", "version"), [("kube_v1_35", "v1.35"), ("kube_v1_20", "v1.20")])
def test_every_merge_extension_of_the_spec_is_in_types(package: str, version: str) -> None:
    """Each definition property's ``x-kubernetes-*`` merge extensions, read from the bundled
    document itself, are those of its Field; a property without any holds none."""
    api = import_reference(f"{package}._fake_api")
    _, model = load_model(f"builtin:{version}")
    definitions = _builtin_document(version)["definitions"]
    checked = 0
    for name, schema in definitions.items():
        if name not in model.structs:
            continue
        for prop, sub in (schema.get("properties") or {}).items():
            expected = {attr: tuple(sub[key]) if attr == "list_map_keys" else sub[key]
                        for key, attr in _MERGE_KEYS.items() if key in sub}
            field = api.TYPES.get(name, {}).get(prop)
            if not expected:
                assert field is None or (field.list_type, field.list_map_keys, field.patch_strategy,
                                         field.patch_merge_key) == (None, (), None, None), (name, prop)
                continue
            assert field is not None, (name, prop)
            assert {attr: getattr(field, attr) for attr in expected} == expected, (name, prop)
            checked += 1
    assert checked > 50  # 1.35: 400-odd; 1.20 predates most list-type markers


@pytest.mark.parametrize("package", ["kube_v1_35", "kube_v1_20"])
def test_resources_are_the_clientsets_constants(package: str) -> None:
    api = import_reference(f"{package}._fake_api")
    clientset = import_reference(f"{package}.clientset")
    constants = []
    for info in pkgutil.iter_modules(clientset.__path__, f"{package}.clientset."):
        module = importlib.import_module(info.name)
        constants += [value for value in vars(module).values() if isinstance(value, ResourceInfo)]
    def gvr(r: ResourceInfo) -> tuple[str, str, str]:
        return (r.group, r.version, r.resource)

    assert sorted(api.RESOURCES, key=gvr) == sorted(constants, key=gvr)
    assert len(api.RESOURCES) == len({gvr(r) for r in api.RESOURCES}) > 50


@pytest.mark.parametrize(("package", "version"), [("kube_v1_35", "v1.35.0"), ("kube_v1_20", "v1.20.2")])
def test_roots_version_and_no_custom_resources_in_builtins(package: str, version: str) -> None:
    api = import_reference(f"{package}._fake_api")
    assert version == api.KUBERNETES_VERSION
    assert not api.CUSTOM and not api.SCALE
    assert api.ROOTS[("apps", "v1", "Deployment")] == "io.k8s.api.apps.v1.Deployment"
    assert api.ROOTS[("", "v1", "Pod")] == "io.k8s.api.core.v1.Pod"
    for resource in api.RESOURCES:
        assert (resource.group, resource.version, resource.kind) in api.ROOTS, resource
    referenced = {f.type for fields in api.TYPES.values() for f in fields.values() if f.type is not None}
    _, model = load_model(f"builtin:{version.rsplit('.', 1)[0]}")
    assert referenced | set(api.ROOTS.values()) <= set(model.structs)


# --- CRDs ---------------------------------------------------------------------------------

def _extension_nodes(schema: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                           dict[str, Any]]]:
    """Every property of a CRD schema (recursively, through list items) with its path."""
    for name, sub in (schema.get("properties") or {}).items():
        yield (*path, name), sub
        inner = sub.get("items") if sub.get("type") == "array" else sub
        if isinstance(inner, dict) and inner.get("properties"):
            yield from _extension_nodes(inner, (*path, name))


def _crds() -> Iterator[dict[str, Any]]:
    for path in sorted(CRDS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
                yield document


def test_every_crd_list_map_and_map_type_is_found_by_walking_from_the_root(
        crd_package: tuple[ApiModel, dict[str, bytes]]) -> None:
    """For each served version of each corpus CRD: follow ROOTS and the property path through
    TYPES (shared shapes included) and find the node's list type, keys and map type; every
    object on the way has its own Fields."""
    model, files = crd_package
    api = tables(files["_fake_api.py"])
    checked = 0
    for crd in _crds():
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served"):
                continue
            root = api["ROOTS"][(spec["group"], version["name"], spec["names"]["kind"])]
            schema = version["schema"]["openAPIV3Schema"]
            for path, node in _extension_nodes(schema):
                key: str | None = root
                field = None
                for step in path:
                    assert key is not None and key in model.structs, (path, key)
                    field = api["TYPES"].get(key, {}).get(step)
                    key = field.type if field is not None else None
                expected = {attr: tuple(node[k]) if attr == "list_map_keys" else node[k]
                            for k, attr in _MERGE_KEYS.items() if k in node}
                if node.get("type") in ("object", "array") and (node.get("properties") or node.get("items")):
                    assert field is not None, path
                if expected:
                    assert field is not None, path
                    assert {attr: getattr(field, attr) for attr in expected} == expected, path
                    checked += 1
    assert checked >= 10


def test_nested_inline_objects_have_keys_and_fields(crd_package: tuple[ApiModel, dict[str, bytes]]) -> None:
    model, files = crd_package
    api = tables(files["_fake_api.py"])
    root = api["ROOTS"][("monitoring.coreos.com", "v1", "ServiceMonitor")]
    assert root == "com.coreos.monitoring.v1.ServiceMonitor"
    endpoints = api["TYPES"][api["TYPES"][root]["spec"].type]["endpoints"]
    assert endpoints.container == "list" and endpoints.type is not None
    assert endpoints.type.startswith(root + "/") and endpoints.type in model.structs
    conditions = api["TYPES"][api["TYPES"][api["TYPES"][root]["status"].type]["bindings"].type]["conditions"]
    assert conditions.list_type == "map" and conditions.list_map_keys == ("type",)


def test_custom_resources_and_scale_paths_come_from_the_crds(
        crd_package: tuple[ApiModel, dict[str, bytes]]) -> None:
    _, files = crd_package
    api = tables(files["_fake_api.py"])
    assert api["CUSTOM"] == {(crd["spec"]["group"], crd["spec"]["names"]["plural"]) for crd in _crds()}
    assert api["SCALE"] == {("kafka.strimzi.io", "kafkanodepools"): ScalePaths(
        spec_replicas=".spec.replicas", status_replicas=".status.replicas", label_selector=".status.labelSelector")}
    assert api["KUBERNETES_VERSION"] == "v1.35.0"  # --crd alone: the default spec's meta/v1


SPECS = Path(__file__).resolve().parents[1] / "data" / "specs"


def test_a_saved_v2_document_names_no_crds_so_custom_groups_are_custom(
        crd_package: tuple[ApiModel, dict[str, bytes]]) -> None:
    """/openapi/v2 saved from a 1.20 server with the six corpus CRDs: nothing in it says which
    kinds are custom, so the resources of non-built-in groups are; the same six as ``--crd``."""
    _, files = fake_files(str(SPECS / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"))
    api = tables(files["_fake_api.py"])
    assert api["CUSTOM"] == tables(crd_package[1]["_fake_api.py"])["CUSTOM"]
    assert api["KUBERNETES_VERSION"] == "v1.20.2" and api["SCALE"] == {}  # no CRD objects: defaults
    assert len(api["RESOURCES"]) > 50 + len(api["CUSTOM"])


def test_a_spec_that_names_no_release_has_no_kubernetes_version() -> None:
    _, files = fake_files(str(SPECS / "kubernetes_release-1.36.json.gz"))  # info.version: unversioned
    assert tables(files["_fake_api.py"])["KUBERNETES_VERSION"] == ""


def _crd_documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def test_a_scale_without_a_selector_path_has_none(tmp_path: Path) -> None:
    crd = _crd_documents(KAFKA_NODE_POOLS)[0]
    for version in crd["spec"]["versions"]:
        version.get("subresources", {}).get("scale", {}).pop("labelSelectorPath", None)
        version.get("subresources", {}).get("scale", {})["specReplicasPath"] = ".spec.size"
    (tmp_path / "crd.yaml").write_text(yaml.safe_dump(crd))
    _, files = fake_files(SpecSource(spec="builtin:v1.35", crds=(str(tmp_path / "crd.yaml"),)))
    api = tables(files["_fake_api.py"])
    assert api["SCALE"] == {("kafka.strimzi.io", "kafkanodepools"): ScalePaths(
        spec_replicas=".spec.size", status_replicas=".status.replicas", label_selector=None)}
    assert api["CUSTOM"] == {("kafka.strimzi.io", "kafkanodepools")}  # the built-ins are not custom
    assert ("apps", "deployments") not in api["SCALE"]  # built-in workloads: the defaults


def test_scale_paths_of_a_clusters_crd_objects_skip_what_is_malformed() -> None:
    """``--from-cluster`` reads the CRD objects unvalidated: odd ones are skipped."""
    good = {"spec": {"group": "g.io", "names": {"plural": "things"}, "versions": [
        {"name": "v1", "served": True, "subresources": {"scale": {
            "specReplicasPath": ".spec.n", "statusReplicasPath": ".status.n"}}},
        {"name": "v2", "served": False, "subresources": {"scale": {
            "specReplicasPath": ".spec.n", "statusReplicasPath": ".status.n"}}},
        {"name": "v3", "served": True, "subresources": {"scale": {"specReplicasPath": 7}}},
        {"name": "v4", "served": True, "subresources": {"status": {}}}]}}
    odd = [None, [], {"spec": []}, {"spec": {"group": 1}}, {"spec": {"group": "g", "names": {}, "versions": []}}]
    assert crd_scales([*odd, good, good]) == (CrdScale("g.io", "v1", "things", ".spec.n", ".status.n", None),)


def test_inline_shapes_differing_only_in_merge_rules_are_not_shared(tmp_path: Path) -> None:
    """Two copies of one shape share a class (model/shapes.py) only if they also merge alike."""
    item = {"type": "object", "properties": {"name": {"type": "string"}}}
    tags = {"type": "array", "items": item, "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"]}
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "a": {"type": "object", "properties": {"tags": tags}},
        "b": {"type": "object", "properties": {"tags": {**tags, "x-kubernetes-list-type": "atomic",
                                                         "x-kubernetes-list-map-keys": []}}},
        "c": {"type": "object", "properties": {"tags": copy.deepcopy(tags)}}}}}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "shapes.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "shapes", "kind": "Shape"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": schema}}]}}
    (tmp_path / "crd.yaml").write_text(yaml.safe_dump(crd))
    _, files = fake_files(SpecSource(crds=(str(tmp_path / "crd.yaml"),)))
    types = tables(files["_fake_api.py"])["TYPES"]
    spec = types["com.example.v1.Shape/spec"]
    a, b, c = (types[spec[name].type]["tags"] for name in "abc")
    assert spec["a"].type == spec["c"].type != spec["b"].type
    assert a.list_type == "map" and a.list_map_keys == ("name",) and b.list_type == "atomic"
    assert a == c


# --- hostile input ------------------------------------------------------------------------

HOSTILE_NAME = "'''+open('pwned','w').name+'''"
HOSTILE_TEXT = '"""; __import__("os").system("touch pwned") #\n{{ 7*7 }}'


def test_hostile_property_names_and_extension_values_stay_string_literals(tmp_path: Path) -> None:
    item = {"type": "object", "properties": {HOSTILE_NAME: {"type": "string"}}}
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        HOSTILE_NAME: {"type": "array", "items": item, "x-kubernetes-list-type": "map",
                       "x-kubernetes-list-map-keys": [HOSTILE_NAME]},
        "m": {"type": "object", "additionalProperties": {"type": "string"}, "x-kubernetes-map-type": "granular"},
    }}}}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "evils.evil.example.com"},
           "spec": {"group": "evil.example.com", "scope": "Namespaced", "names": {"plural": "evils", "kind": "Evil"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "subresources": {"scale": {"specReplicasPath": HOSTILE_TEXT,
                                                             "statusReplicasPath": HOSTILE_NAME}},
                                  "schema": {"openAPIV3Schema": schema}}]}}
    (tmp_path / "crd.json").write_text(json.dumps(crd))
    from kubecodegen.generate import generate

    write(generate(SpecSource(crds=(str(tmp_path / "crd.json"),)), "evilpkg"), tmp_path / "out")
    code = ("import json, sys\nsys.path.insert(0, sys.argv[1])\nimport evilpkg.fake as f\n"
            "api = f.package_api()\n"
            "spec = api.types['com.example.evil.v1.Evil/spec']\n"
            f"tags = spec[{HOSTILE_NAME!r}]\n"
            "scale = api.scale[('evil.example.com', 'evils')]\n"
            "print(json.dumps([tags.list_map_keys, spec['m'].map_type, scale.spec_replicas, scale.status_replicas,"
            " tags.type, sorted(api.types.get(tags.type, {}))]))\n")
    run = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path / "out")], cwd=tmp_path,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    keys, map_type, spec_path, status_path, item_key, item_fields = json.loads(run.stdout)
    assert keys == [HOSTILE_NAME] and map_type == "granular"  # validation allows no other text there
    assert (spec_path, status_path) == (HOSTILE_TEXT, HOSTILE_NAME)
    assert item_key == f"com.example.evil.v1.Evil/spec/{HOSTILE_NAME}"  # a key, never an identifier
    assert item_fields == []  # the item's only property is a scalar: no entry
    assert not list(tmp_path.glob("**/pwned"))


# --- the files: deterministic, lazy, vendored -----------------------------------------------

def test_same_input_same_bytes_whatever_the_property_order(tmp_path: Path) -> None:
    def reordered(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: reordered(node[key]) for key in reversed(list(node))}
        if isinstance(node, list):
            return [reordered(item) for item in node]
        return node

    documents = _crd_documents(SERVICE_MONITORS)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump_all(documents))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump_all([reordered(d) for d in documents], sort_keys=False))
    _, first = fake_files(SpecSource(crds=(str(tmp_path / "a.yaml"),)))
    _, again = fake_files(SpecSource(crds=(str(tmp_path / "a.yaml"),)))
    _, other = fake_files(SpecSource(crds=(str(tmp_path / "b.yaml"),)))
    assert first == again == other


def test_the_docstring_example_uses_the_packages_own_kinds(
        crd_package: tuple[ApiModel, dict[str, bytes]]) -> None:
    source = (GENERATED / "kube_v1_35" / "fake.py").read_text()
    assert 'cs = Clientset(Pod(metadata=ObjectMeta(name="a", namespace="default")))' in source
    assert 'cs.core_v1.pods("default").get("a")' in source
    crd_source = crd_package[1]["fake.py"].decode()
    assert "from fakepkg.models.meta_v1 import ObjectMeta" in crd_source
    assert "Pod" not in crd_source


def test_a_vendored_package_uses_its_own_runtime_copy(tmp_path: Path) -> None:
    from kubecodegen.generate import generate

    generated = generate(SpecSource(crds=(str(SERVICE_MONITORS),)), "vend", vendor_runtime=True)
    for name in FAKE_FILES:
        source = generated.files[name].decode()
        assert "kubecodegen_runtime" not in source and "from ._runtime.fake" in source
    write(generated, tmp_path)
    code = ("import sys\nsys.path.insert(0, sys.argv[1])\nimport vend.fake\n"
            f"exec({_example_code(generated.files['fake.py'].decode())!r}, (ns := {{}}))\n"
            "cs = ns['cs']\nvend.fake.AsyncClientset(tracker=cs.tracker)\n"
            "print(type(cs.fake).__module__, 'kubecodegen_runtime' in sys.modules, cs.actions()[-1].verb)\n")
    run = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path)], cwd=tmp_path, capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    # a ServiceMonitor needs its spec: this package's example only lists
    assert run.stdout.split() == ["vend._runtime.fake.server", "False", "list"]


def _example_code(source: str) -> str:
    """The example of a generated ``fake.py``'s docstring (the block after ``::``), as code."""
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert docstring is not None
    return textwrap.dedent(docstring.split("::\n\n", 1)[1].split("\n\n``", 1)[0])


def test_the_docstring_example_runs() -> None:
    import_reference("kube_v1_35")  # puts generated/ on the path
    namespace: dict[str, Any] = {}
    exec(_example_code((GENERATED / "kube_v1_35" / "fake.py").read_text()), namespace)
    assert [action.verb for action in namespace["cs"].actions()] == ["get"]


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=GENERATED, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_nothing_fake_loads_until_used() -> None:
    """``import kube_v1_35`` (and its clientset) loads neither file; ``fake`` loads the tables
    on the first ``package_api()``, once."""
    loaded = _run("import sys, kube_v1_35; kube_v1_35.Clientset; "
                  "print(sorted(m for m in sys.modules if 'fake' in m))")
    assert loaded == "[]"
    loaded = _run("import sys, kube_v1_35.fake as f; a = 'kube_v1_35._fake_api' in sys.modules; "
                  "api = f.package_api(); print(a, 'kube_v1_35._fake_api' in sys.modules, api is f.package_api())")
    assert loaded == "False True True"


def test_the_fake_clientsets_are_the_real_ones_over_one_store() -> None:
    fake = import_reference("kube_v1_35.fake")
    client = import_reference("kube_v1_35.client")
    core = import_reference("kube_v1_35.models.core_v1")
    meta = import_reference("kube_v1_35.models.meta_v1")
    cs = fake.Clientset(core.ConfigMap(metadata=meta.ObjectMeta(name="a", namespace="default")))
    assert isinstance(cs, client.Clientset) and cs.fake.api is fake.package_api()
    other = fake.AsyncClientset(tracker=cs.tracker)
    assert isinstance(other, client.AsyncClientset) and other.tracker is cs.tracker
    assert cs.actions() == []
