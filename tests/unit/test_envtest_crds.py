"""envtest's CRD reading: files, multi-document YAML, folders, dictionaries, and their errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecodegen_runtime.envtest import CRDFileError, load_crds


def crd(plural: str, group: str = "example.com", versions: tuple[str, ...] = ("v1",)) -> dict[str, Any]:
    kind = plural.capitalize().rstrip("s")
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": version,
                    "served": version != "v0",
                    "storage": index == 0,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
                for index, version in enumerate(versions)
            ],
        },
    }


def write_yaml(path: Path, *documents: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents))
    return path


def test_a_folder_is_read_file_by_file_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "crds"
    write_yaml(folder / "b.yaml", crd("widgets"), None, crd("gadgets"))
    (folder / "a.json").write_text(json.dumps(crd("apples")))
    write_yaml(folder / "c.yml", crd("cherries"))
    write_yaml(folder / "kustomization.yaml", {"apiVersion": "kustomize.config.k8s.io/v1beta1",
                                               "kind": "Kustomization", "resources": ["b.yaml"]})
    (folder / "README.md").write_text("not read")
    write_yaml(folder / "nested" / "d.yaml", crd("dates"))  # not recursive
    crds = load_crds([folder])
    assert [c.name for c in crds] == [
        "apples.example.com",
        "widgets.example.com",
        "gadgets.example.com",
        "cherries.example.com",
    ]
    assert crds[2].origin == f"{folder / 'b.yaml'}, document 3"
    assert (crds[1].group, crds[1].plural, crds[1].served_versions) == ("example.com", "widgets", ("v1",))


def test_files_folders_and_dictionaries_mix(tmp_path: Path) -> None:
    file = write_yaml(tmp_path / "one.yaml", crd("things", versions=("v1", "v0", "v2")))
    crds = load_crds([str(file), crd("others")])
    assert [c.name for c in crds] == ["things.example.com", "others.example.com"]
    assert crds[0].served_versions == ("v1", "v2")
    assert crds[1].origin == "CRD dictionary #2"
    assert "openAPIV3Schema" not in repr(crds[0])


def test_yaml_is_read_as_kubectl_reads_it(tmp_path: Path) -> None:
    """go-yaml's rules (`kubecodegen_runtime.yamljson`): ``served: no`` is false."""
    text = yaml.safe_dump(crd("flags", versions=("v1", "v2"))).replace(
        "served: true\n    storage: false", "served: no\n    storage: false"
    )
    (tmp_path / "f.yaml").write_text(text)
    assert load_crds([tmp_path / "f.yaml"])[0].served_versions == ("v1",)


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        ([1, 2], "not an object but list"),
        ("text", "not an object but str"),
        ({**crd("x"), "apiVersion": "apiextensions.k8s.io/v1beta1"},
         "apiVersion is 'apiextensions.k8s.io/v1beta1', expected 'apiextensions.k8s.io/v1'"),
        ({**crd("x"), "metadata": {}}, "metadata.name is missing"),
        ({**crd("x"), "spec": None}, "spec is missing"),
        ({**crd("x"), "spec": {**crd("x")["spec"], "group": ""}}, "spec.group is missing"),
        ({**crd("x"), "spec": {**crd("x")["spec"], "names": {"kind": "X"}}},
         "spec.names.plural is missing"),
        ({**crd("x"), "spec": {**crd("x")["spec"], "versions": []}},
         "spec.versions must be a non-empty list"),
    ],
)
def test_a_bad_document_is_named_by_file_and_number(
    tmp_path: Path, second: Any, problem: str
) -> None:
    path = write_yaml(tmp_path / "crds.yaml", crd("fine"), second)
    with pytest.raises(CRDFileError) as caught:
        load_crds([tmp_path])
    assert str(caught.value).startswith(f"{path}, document 2: {problem}")


def test_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: apiextensions.k8s.io/v1\nkind: [unclosed\n")
    with pytest.raises(CRDFileError, match=rf"^{path}: .* at line \d+, column \d+"):
        load_crds([path])


def test_missing_and_empty_sources(tmp_path: Path) -> None:
    with pytest.raises(CRDFileError, match=rf"^{tmp_path / 'nope'}: no such file or folder$"):
        load_crds([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CRDFileError, match=r"a folder; read no \*\.yaml/\*\.yml/\*\.json file\): no CustomResourceDefinition found"):
        load_crds([tmp_path / "empty"])
    only_other = write_yaml(tmp_path / "deploy.yaml", {"apiVersion": "apps/v1", "kind": "Deployment"})
    with pytest.raises(CRDFileError, match=rf"^{only_other}: no CustomResourceDefinition found"):
        load_crds([only_other])


def test_a_dictionary_must_be_a_crd() -> None:
    with pytest.raises(CRDFileError, match=r"^CRD dictionary #1: kind is 'ConfigMap'"):
        load_crds([{"apiVersion": "v1", "kind": "ConfigMap"}])
    with pytest.raises(CRDFileError, match=r"^CRD dictionary #1: spec is missing"):
        load_crds([{**crd("y"), "spec": "no"}])


def test_the_same_crd_twice_names_both_places(tmp_path: Path) -> None:
    first = write_yaml(tmp_path / "a.yaml", crd("twins"))
    with pytest.raises(CRDFileError) as caught:
        load_crds([first, crd("twins")])
    assert str(caught.value) == (
        f"CRD dictionary #2: CRD 'twins.example.com' also defined in {first}, document 1"
    )
