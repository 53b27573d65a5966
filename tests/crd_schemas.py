"""Turn CRD manifests into what a spec carries for them, for tests that generate from CRDs."""

from __future__ import annotations

import copy
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

DEFAULTED = Path(__file__).resolve().parent / "data" / "crds-defaulted"

# A CRD with date-time strings in every position a schema can put one.
STAMP_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "stamps.fidelity.example.com"},
    "spec": {"group": "fidelity.example.com", "scope": "Namespaced",
             "names": {"plural": "stamps", "singular": "stamp", "kind": "Stamp", "listKind": "StampList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "properties": {
                     "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                     "spec": {"type": "object", "required": ["at"], "properties": {
                         "at": {"type": "string", "format": "date-time"},
                         "until": {"type": "string", "format": "date-time"},
                         "history": {"type": "array", "items": {"type": "string", "format": "date-time"}},
                         "byName": {"type": "object",
                                    "additionalProperties": {"type": "string", "format": "date-time"}},
                         "size": {"type": "integer"},
                     }},
                 }}}}]},
}


def load_yaml(name: str) -> Any:
    return yaml.safe_load((DEFAULTED / name).read_text())


def definition_name(group: str, version: str, kind: str) -> str:
    """The definition name kube-apiserver publishes a CRD under (reversed group)."""
    return ".".join([*reversed(group.split(".")), version, kind])


def definitions_from_crd(crd: dict[str, Any]) -> dict[str, Any]:
    """One swagger definition per served version: the openAPIV3Schema with its GVK, as a
    spec that keeps the schema (``default`` included) carries it."""
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    found = {}
    for version in crd["spec"]["versions"]:
        schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
        schema["x-kubernetes-group-version-kind"] = [
            {"group": group, "version": version["name"], "kind": kind}]
        found[definition_name(group, version["name"], kind)] = schema
    return found


def spec_from_crds(crds: list[dict[str, Any]]) -> dict[str, Any]:
    """A swagger document of just the CRDs' types (no paths: models and scheme only)."""
    definitions: dict[str, Any] = {}
    for crd in crds:
        definitions.update(definitions_from_crd(crd))
    return {"swagger": "2.0", "info": {"title": "CRDs", "version": "v0"}, "paths": {},
            "definitions": definitions}


def generate_package(document: dict[str, Any], package: str, out: Path) -> ModuleType:
    """Generate ``package`` from ``document`` into ``out`` and import it from there."""
    from kubecodegen.generate import generate, write

    source = out / f"{package}.json"
    source.write_text(json.dumps(document))
    write(generate(str(source), package), out)
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    return importlib.import_module(package)
