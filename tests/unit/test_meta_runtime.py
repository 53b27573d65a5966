"""apimachinery meta/v1 lives in the runtime: one class per definition in every package.

The runtime's ``apis/meta_v1.py`` is generated from the newest bundled spec and checked for
drift; generated packages re-export it; an input whose meta/v1 differs from the runtime's
gets its extra definitions generated locally and its extra properties reported.
"""

from __future__ import annotations

import copy
import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner

import kubecodegen_runtime.apis.meta_v1 as runtime_meta
from kubecodegen.cli import main
from kubecodegen.generate import SpecSource, generate, generate_runtime_meta, load_model, write
from kubecodegen.render.meta_runtime import (
    META_V1_NAMESPACE,
    is_meta_v1,
    newest_builtin_spec,
    plan_meta,
    shared_meta,
)
from kubecodegen.spec import available_builtin_versions, load_spec
from kubecodegen_runtime import errors
from kubecodegen_runtime.rest.response import error_from
from tests.generated_packages import import_reference

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "generator" / "runtime" / "kubecodegen_runtime"
CRD = ROOT / "tests" / "data" / "crds" / "prometheus-operator__monitoring.coreos.com_servicemonitors.yaml"
PREFIX = META_V1_NAMESPACE + "."


def _scripts_generated() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module("generated")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def _meta_definitions(spec: str) -> dict[str, dict[str, Any]]:
    return {name: schema for name, schema in load_spec(spec).document["definitions"].items()
            if name.startswith(PREFIX) and schema.get("properties")}


# -- the runtime's copy ------------------------------------------------------------------


def test_the_runtime_copy_comes_from_the_newest_bundled_spec() -> None:
    versions = available_builtin_versions()
    assert newest_builtin_spec() == f"builtin:{max(versions, key=lambda v: [int(p) for p in v[1:].split('.')])}"
    header = (RUNTIME / "apis" / "meta_v1.py").read_text().splitlines()[0]
    spec_version = load_spec(newest_builtin_spec()).document["info"]["version"]
    assert header.endswith(f"from Kubernetes {spec_version}. DO NOT EDIT.")
    # package-relative imports only: the vendored `_runtime` copy must keep working
    source = (RUNTIME / "apis" / "meta_v1.py").read_text()
    assert "from ..model import" in source and "kubecodegen_runtime" not in source


def test_every_meta_v1_struct_definition_is_in_the_runtime() -> None:
    wanted = {name.removeprefix(PREFIX) for name in _meta_definitions(newest_builtin_spec())}
    assert {"ObjectMeta", "ListMeta", "Status", "StatusDetails", "StatusCause", "OwnerReference",
            "ManagedFieldsEntry", "LabelSelector", "LabelSelectorRequirement", "Condition",
            "DeleteOptions", "Preconditions", "WatchEvent", "APIGroup", "APIResource"} <= wanted
    assert set(runtime_meta.__all__) == wanted
    for name in wanted:
        assert isinstance(getattr(runtime_meta, name), type)


def test_the_catalogue_is_what_the_installed_runtime_defines() -> None:
    """What packages re-export is derived from the bundled spec; it must be exactly what the
    runtime module (generated from that spec, drift-checked) defines, field for field."""
    catalogue = shared_meta()
    assert set(catalogue.classes.values()) == set(runtime_meta.__all__)
    for definition, name in catalogue.classes.items():
        cls = getattr(runtime_meta, name)
        wire = {f.encode_name for f in msgspec.structs.fields(cls)}
        assert wire == catalogue.properties[definition], definition


@pytest.fixture
def runtime_copy(tmp_path: Path) -> Path:
    copy_dir = tmp_path / "kubecodegen_runtime"
    shutil.copytree(RUNTIME, copy_dir, ignore=shutil.ignore_patterns("__pycache__"))
    return copy_dir


def test_the_drift_check_fails_when_the_runtime_module_is_edited(runtime_copy: Path) -> None:
    script = _scripts_generated()
    assert script.stale_runtime_meta(RUNTIME) == []  # the committed file is current
    assert script.stale_runtime_meta(runtime_copy) == []
    path = runtime_copy / "apis" / "meta_v1.py"
    path.write_text(path.read_text().replace("class ObjectMeta(Model", "class ObjectMeta2(Model"))
    assert script.stale_runtime_meta(runtime_copy) == ["apis/meta_v1.py"]
    path.unlink()
    assert script.stale_runtime_meta(runtime_copy) == ["apis/meta_v1.py"]
    (runtime_copy / "apis" / "other.py").write_text("# hand-written, not the generator's\n")
    script.write_runtime_meta(runtime_copy)
    assert script.stale_runtime_meta(runtime_copy) == []
    assert path.read_bytes() == (RUNTIME / "apis" / "meta_v1.py").read_bytes()
    assert set(generate_runtime_meta()) == {"apis/meta_v1.py", "applyconfigurations/meta_v1.py"}
    applied = runtime_copy / "applyconfigurations" / "meta_v1.py"
    applied.write_text(applied.read_text().replace("class ObjectMeta(", "class ObjectMeta2("))
    assert script.stale_runtime_meta(runtime_copy) == ["applyconfigurations/meta_v1.py"]
    script.write_runtime_meta(runtime_copy)
    assert applied.read_bytes() == (RUNTIME / "applyconfigurations" / "meta_v1.py").read_bytes()


# -- one class everywhere ----------------------------------------------------------------


def test_reference_packages_re_export_the_runtime_classes() -> None:
    new = importlib.import_module(import_reference("kube_v1_35").__name__ + ".models.meta_v1")
    old = importlib.import_module(import_reference("kube_v1_20").__name__ + ".models.meta_v1")
    assert set(old.__all__) <= set(new.__all__) == set(runtime_meta.__all__)
    for name in old.__all__:
        assert getattr(old, name) is getattr(new, name) is getattr(runtime_meta, name), name
    core = importlib.import_module("kube_v1_20.models.core_v1")
    pod = core.Pod(metadata=new.ObjectMeta(name="p"))  # a 1.35 ObjectMeta in a 1.20 Pod
    decoded = import_reference("kube_v1_20").scheme.decode(msgspec.json.encode(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}))
    assert type(decoded.metadata) is type(pod.metadata) is runtime_meta.ObjectMeta


def test_one_status_class_for_errors_scheme_and_delete() -> None:
    assert errors.Status is runtime_meta.Status
    assert errors.StatusDetails is runtime_meta.StatusDetails
    assert errors.StatusCause is runtime_meta.StatusCause
    body = msgspec.json.encode({
        "kind": "Status", "apiVersion": "v1", "metadata": {"resourceVersion": "7"},
        "status": "Failure", "reason": "NotFound", "code": 404, "message": "configmaps \"x\" not found",
        "details": {"name": "x", "kind": "configmaps", "causes": [{"reason": "R", "field": "f"}]}})
    err = error_from(404, (("content-type", "application/json"),), body)
    assert isinstance(err, errors.NotFound) and type(err.body) is runtime_meta.Status
    assert err.body.metadata == runtime_meta.ListMeta(resource_version="7")
    assert err.causes == [runtime_meta.StatusCause(reason="R", field="f")]
    for package in ("kube_v1_35", "kube_v1_20"):
        decoded = import_reference(package).scheme.decode(body)
        assert type(decoded) is runtime_meta.Status and decoded == err.body


@pytest.fixture
def crd_package(tmp_path: Path) -> Iterator[Any]:
    write(generate(SpecSource(crds=(str(CRD),)), "meta_crds"), tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("meta_crds")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "meta_crds" or m.startswith("meta_crds.")]:
            del sys.modules[name]


def test_a_crd_package_shares_meta_and_its_scheme_merges(crd_package: Any) -> None:
    kube = import_reference("kube_v1_35")
    meta = importlib.import_module("meta_crds.models.meta_v1")
    mon = importlib.import_module("meta_crds.models.monitoring_coreos_com_v1")
    assert meta.ObjectMeta is importlib.import_module("kube_v1_35.models.meta_v1").ObjectMeta
    assert meta.ObjectMeta is importlib.import_module("kube_v1_20.models.meta_v1").ObjectMeta
    monitor = mon.ServiceMonitor(metadata=meta.ObjectMeta(name="m"),
                                 spec=mon.ServiceMonitorSpec(selector=mon.ServiceMonitorSpecSelector(), endpoints=[]))
    status_key = ("", "v1", "Status")
    assert crd_package.scheme.type_for(status_key) is kube.scheme.type_for(status_key) is errors.Status
    merged = kube.scheme.merge(crd_package.scheme)
    assert merged.type_for(status_key) is errors.Status
    again = merged.decode(merged.encode(monitor))
    assert type(again) is mon.ServiceMonitor and type(again.metadata) is runtime_meta.ObjectMeta
    assert merged.type_for(("monitoring.coreos.com", "v1", "DeleteOptions")) is runtime_meta.DeleteOptions


# -- an input whose meta/v1 differs from the runtime's ------------------------------------


def test_properties_the_runtime_lacks_are_found_by_diffing_the_specs() -> None:
    """The expectation is computed from the two bundled specs, not written down."""
    old, new = _meta_definitions("builtin:v1.20"), _meta_definitions(newest_builtin_spec())
    expected = sorted((name, prop) for name, schema in old.items() if name in new
                      for prop in schema["properties"] if prop not in new[name]["properties"])
    assert (PREFIX + "ObjectMeta", "clusterName") in expected
    _, model = load_model("builtin:v1.20")
    plan = plan_meta(model)
    assert [(m.definition, m.wire_name) for m in plan.missing] == expected
    assert plan.local == ()
    assert set(plan.shared) == {i for i in model.structs if is_meta_v1(i)}
    _, newest = load_model(newest_builtin_spec())
    assert plan_meta(newest).missing == () and plan_meta(newest).local == ()


def test_generate_warns_once_per_missing_property_and_inspect_lists_it(tmp_path: Path) -> None:
    spec = _configmaps_spec(tmp_path)
    generated = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "p",
                                          "--out", str(tmp_path / "out")])
    assert generated.exit_code == 0, generated.output
    warnings = [line for line in generated.stderr.splitlines() if "meta/v1" in line]
    assert warnings == [f"warning: #{PREFIX}ObjectMeta: property 'clusterName' is not in the "
                        f"runtime's meta/v1 ({shared_meta().source}): objects of this package "
                        "cannot carry it (decoding drops it)"]
    inspected = CliRunner().invoke(main, ["inspect", "--spec", str(spec), "-o", "json"])
    assert inspected.exit_code == 0, inspected.output
    rows = json.loads(inspected.stdout)
    assert rows and all(set(r["unrendered_properties"]) == {f"{PREFIX}ObjectMeta/clusterName"}
                        for r in rows)
    newest = CliRunner().invoke(main, ["inspect", "--spec", newest_builtin_spec(), "--group", "apps",
                                       "-o", "json"])
    assert all(r["unrendered_properties"] == {} for r in json.loads(newest.stdout))


def _configmaps_spec(tmp_path: Path, doc: dict[str, Any] | None = None) -> Path:
    """The v1.20 served spec cut down to core/v1 ConfigMaps: quick to generate."""
    doc = doc or load_spec("builtin:v1.20").document
    paths = {p: v for p, v in doc["paths"].items() if "/configmaps" in p and p.startswith("/api/v1/")}
    spec = tmp_path / "spec.json"
    shared = {"parameters": doc["parameters"]} if "parameters" in doc else {}
    spec.write_text(json.dumps({"swagger": "2.0", "info": doc["info"], "paths": paths,
                                "definitions": doc["definitions"], **shared}))
    return spec


def test_a_meta_definition_the_runtime_lacks_is_generated_locally(tmp_path: Path) -> None:
    """A future release's meta/v1: a new definition (referring to a shared one) is the
    package's own class next to the re-exports, and both differences are warned about."""
    doc = copy.deepcopy(load_spec(newest_builtin_spec()).document)
    definitions = doc["definitions"]
    definitions[PREFIX + "Lease2"] = {
        "description": "A definition from a future release.", "type": "object",
        "required": ["holder"],
        "properties": {"holder": {"type": "string"},
                       "owner": {"$ref": f"#/definitions/{PREFIX}OwnerReference"}}}
    definitions[PREFIX + "ObjectMeta"]["properties"]["lease"] = {"$ref": f"#/definitions/{PREFIX}Lease2"}
    spec = _configmaps_spec(tmp_path, doc)
    result = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "future",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"warning: #{PREFIX}Lease2: not in the runtime's meta/v1" in result.stderr
    assert f"warning: #{PREFIX}ObjectMeta: property 'lease' is not in the runtime's" in result.stderr
    source = (tmp_path / "out" / "future" / "models" / "meta_v1.py").read_text()
    assert "class Lease2(Model" in source and "ObjectMeta as ObjectMeta" in source
    sys.path.insert(0, str(tmp_path / "out"))
    try:
        meta = importlib.import_module("future.models.meta_v1")
        assert meta.ObjectMeta is runtime_meta.ObjectMeta
        assert meta.Lease2.__module__ == "future.models.meta_v1"
        lease = meta.Lease2(holder="a", owner=meta.OwnerReference(api_version="v1", kind="Pod",
                                                                  name="p", uid="u"))
        back = msgspec.json.decode(msgspec.json.encode(lease), type=meta.Lease2)
        assert back == lease and type(back.owner) is runtime_meta.OwnerReference
    finally:
        sys.path.remove(str(tmp_path / "out"))
        for name in [m for m in sys.modules if m == "future" or m.startswith("future.")]:
            del sys.modules[name]


def test_delete_bodies_are_the_meta_v1_delete_options() -> None:
    """One implementation: the DeleteOptions a delete sends is the meta/v1 struct (with the
    same members as before), and the Preconditions it takes is the meta/v1 type, so a
    package's ``models.meta_v1.Preconditions`` is accepted as it is."""
    from kubecodegen_runtime.rest import Preconditions
    from kubecodegen_runtime.rest.request import delete_options_body

    meta35 = importlib.import_module(import_reference("kube_v1_35").__name__ + ".models.meta_v1")
    assert Preconditions is runtime_meta.Preconditions is meta35.Preconditions
    body = delete_options_body(propagation_policy="Orphan", grace_period_seconds=5,
                               preconditions=meta35.Preconditions(resource_version="3"), dry_run=True)
    assert body is not None
    assert json.loads(body) == {"kind": "DeleteOptions", "apiVersion": "v1",
                                "propagationPolicy": "Orphan", "gracePeriodSeconds": 5,
                                "preconditions": {"resourceVersion": "3"}, "dryRun": ["All"]}
    decoded = msgspec.json.decode(body, type=runtime_meta.DeleteOptions)
    assert decoded.preconditions == Preconditions(resource_version="3")
    assert delete_options_body(preconditions=Preconditions()) is None  # nothing to send
    assert json.loads(delete_options_body(grace_period_seconds=0) or b"") == {
        "kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0}
