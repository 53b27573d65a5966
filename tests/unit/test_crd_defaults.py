"""A property that is ``required`` but has a schema ``default`` is optional (issue 8, §1).

The API server fills in a defaulted property, so the manifests projects publish leave it
out: external-secrets' Password (``allowRepeat``, ``length``, ``noUpper``) and the
OpenTelemetry operator's OpenTelemetryCollector (``managementState``). The CRDs and the
examples are small stand-ins in tests/data/crds-defaulted.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import msgspec
import pytest

from kubecodegen.pipeline import model_of
from kubecodegen.spec import LoadedSpec
from kubecodegen.spec.crd_defaults import restore_crd_defaults
from tests.crd_schemas import (
    DEFAULTED,
    definitions_from_crd,
    generate_package,
    load_yaml,
    spec_from_crds,
)

CRDS = ["password-crd.yaml", "opentelemetrycollector-crd.yaml"]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    document = spec_from_crds([load_yaml(name) for name in CRDS])
    return generate_package(document, "kube_crd_defaults", tmp_path_factory.mktemp("defaults"))


def _fields(struct_id: str) -> dict[str, Any]:
    model = model_of(LoadedSpec("crds.json", spec_from_crds([load_yaml(name) for name in CRDS])))
    return {f.wire_name: f for f in model.structs[struct_id].fields}


def test_defaulted_required_properties_are_optional_in_the_model() -> None:
    password = _fields("io.external-secrets.generators.v1alpha1.Password/spec")
    assert not any(password[name].required for name in ("allowRepeat", "length", "noUpper"))
    collector = _fields("io.opentelemetry.v1beta1.OpenTelemetryCollector/spec")
    assert not collector["managementState"].required
    assert collector["config"].required  # required without a default stays required


@pytest.mark.parametrize("example", ["password-example.yaml", "opentelemetrycollector-example.yaml"])
def test_published_examples_decode_and_round_trip(package: ModuleType, example: str) -> None:
    text = (DEFAULTED / example).read_text()
    [obj] = package.scheme.decode_yaml(text)
    assert type(obj).__name__ == load_yaml(example)["kind"]
    # Nothing added: the defaulted fields stay absent, for the server to fill in.
    assert json.loads(package.scheme.encode(obj)) == load_yaml(example)


def test_defaulted_fields_read_as_unset_and_can_be_left_out(package: ModuleType) -> None:
    [password] = package.scheme.decode_yaml((DEFAULTED / "password-example.yaml").read_text())
    assert password.spec.allow_repeat is None and password.spec.length is None
    models = __import__("kube_crd_defaults.models.generators_external_secrets_io_v1alpha1",
                        fromlist=["_"])
    assert models.PasswordSpec(digits=3).allow_repeat is None
    otel = __import__("kube_crd_defaults.models.opentelemetry_io_v1beta1", fromlist=["_"])
    with pytest.raises(TypeError, match="config"):  # no default: still a required argument
        otel.OpenTelemetryCollectorSpec()


def test_a_required_property_without_default_is_still_enforced(package: ModuleType) -> None:
    manifest = load_yaml("opentelemetrycollector-example.yaml")
    del manifest["spec"]["config"]
    with pytest.raises(msgspec.DecodeError, match="config"):
        package.scheme.decode(json.dumps(manifest))


def test_examples_are_what_the_tests_claim() -> None:
    """Guard the data: the examples really leave the defaulted, required fields out."""
    password = load_yaml("password-example.yaml")["spec"]
    assert not {"allowRepeat", "length", "noUpper"} & set(password)
    assert "managementState" not in load_yaml("opentelemetrycollector-example.yaml")["spec"]
    schema = load_yaml("password-crd.yaml")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec = schema["properties"]["spec"]
    assert all(name in spec["required"] and "default" in spec["properties"][name]
               for name in ("allowRepeat", "length", "noUpper"))


def _published(crd: dict[str, Any]) -> dict[str, Any]:
    """The CRD's definitions as kube-apiserver 1.20 publishes them: every ``default`` gone."""
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "default"}
        return [strip(v) for v in node] if isinstance(node, list) else node

    return {"definitions": strip(definitions_from_crd(crd))}


@pytest.mark.parametrize("name", CRDS)
def test_from_cluster_puts_back_every_default_the_server_dropped(name: str) -> None:
    crd = load_yaml(name)
    document = _published(crd)
    assert restore_crd_defaults(document, [crd]) == (3 if "password" in name else 2)
    assert document["definitions"] == definitions_from_crd(crd)
    assert restore_crd_defaults(document, [crd]) == 0  # already there: kept, not counted


def test_restored_defaults_make_the_fields_optional() -> None:
    crd = load_yaml("password-crd.yaml")
    document = {"swagger": "2.0", "info": {"title": "t", "version": "v"}, "paths": {}, **_published(crd)}
    spec_id = "io.external-secrets.generators.v1alpha1.Password/spec"
    assert model_of(LoadedSpec("served.json", document)).structs[spec_id].fields[0].required
    restore_crd_defaults(document, [crd])
    assert not any(f.required for f in model_of(LoadedSpec("served.json", document)).structs[spec_id].fields)


@pytest.mark.parametrize("crds", [
    [None, "x", 3, [], {}],
    [{"spec": {"group": "generators.external-secrets.io", "names": "Password", "versions": "v1alpha1"}}],
    [{"spec": {"group": "generators.external-secrets.io", "names": {"kind": "Password"},
               "versions": [None, {"name": "v1alpha1", "schema": {"openAPIV3Schema": []}}]}}],
    [{"spec": {"group": "other.example.com", "names": {"kind": "Password"},
               "versions": [{"name": "v1alpha1", "schema": {"openAPIV3Schema": {"default": 1}}}]}}],
])
def test_malformed_or_unrelated_crds_change_nothing(crds: list[Any]) -> None:
    document = _published(load_yaml("password-crd.yaml"))
    before = json.dumps(document, sort_keys=True)
    assert restore_crd_defaults(document, crds) == 0
    assert json.dumps(document, sort_keys=True) == before


def test_deeply_nested_schemas_are_bounded() -> None:
    """A hostile CRD nested far deeper than Python's recursion limit neither crashes nor
    is followed to the end."""
    source_root: dict[str, Any] = {"type": "object"}
    published_root: dict[str, Any] = {"type": "object", "x-kubernetes-group-version-kind": [
        {"group": "deep.example.com", "version": "v1", "kind": "Deep"}]}
    source, published = source_root, published_root
    for _ in range(5000):
        source["properties"] = {"x": {"type": "object", "default": {}}}
        published["properties"] = {"x": {"type": "object"}}
        source, published = source["properties"]["x"], published["properties"]["x"]
    crd = {"spec": {"group": "deep.example.com", "names": {"kind": "Deep"},
                    "versions": [{"name": "v1", "schema": {"openAPIV3Schema": source_root}}]}}
    document = {"definitions": {"com.example.deep.v1.Deep": published_root}}
    assert 0 < restore_crd_defaults(document, [crd]) < 5000
