"""Read CustomResourceDefinitions from YAML/JSON files and folders, with no cluster.

A ``--crd`` path is a file or a folder of ``*.yaml``/``*.yml``/``*.json`` files (not
recursive: the layout of controller-gen's ``config/crd/bases``). Every document of every file
is read as kubectl reads it (:mod:`.crd_yaml`); ``apiextensions.k8s.io/v1`` and ``v1beta1``
CRDs are kept (``kind: List`` items too), every other Kubernetes object is skipped with one
note, and anything else -- bad YAML, a document that is no object, a CRD the API server
would refuse, a schema that is not structural, a ``$ref`` -- is a :class:`SpecError` whose
source names the file and the document (1-based) and whose pointer is the place in it.

v1beta1 CRDs are brought to the v1 shape the server stores (per-version schema and
subresources, ``preserveUnknownFields`` defaulting to true), so :mod:`.crd_publish` sees one
form only, the form ``--from-cluster`` reads back from a server too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .crd_yaml import YAMLError, load_all
from .errors import SpecError, make_pointer
from .k8s_names import group_problem, kind_problem, resource_problem, version_problem
from .load import describe_json_type

#: A CRD file larger than this is refused (the largest real ones, Argo's, are about 2 MiB).
MAX_CRD_FILE_BYTES = 64 * 1024 * 1024
#: Deepest schema nesting followed (real CRD schemas nest less than 40 levels).
MAX_SCHEMA_DEPTH = 128

_API_GROUP = "apiextensions.k8s.io"
_SUFFIXES = (".yaml", ".yml", ".json")

#: Keywords a structural schema may carry, per apiextensions' JSONSchemaProps; anything else
#: (``id``, ``$schema``, ``definitions``, ``patternProperties``, ``dependencies``, ...) is
#: refused by the API server for v1 CRDs and makes the schema non-structural.
_ALLOWED_KEYWORDS = frozenset({
    "description", "type", "format", "title", "default", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "multipleOf", "enum", "maxProperties", "minProperties", "required", "items",
    "allOf", "oneOf", "anyOf", "not", "properties", "additionalProperties", "nullable",
    "example", "externalDocs", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-validations",
})
_NUMBER = (int, float)
#: The JSON type each keyword's value must have (JSONSchemaProps' Go field types).
_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    **{key: (str,) for key in ("description", "type", "format", "title", "pattern",
                               "x-kubernetes-list-type", "x-kubernetes-map-type")},
    **{key: (bool,) for key in ("exclusiveMaximum", "exclusiveMinimum", "uniqueItems", "nullable",
                                "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
                                "x-kubernetes-int-or-string")},
    **{key: (int,) for key in ("maxLength", "minLength", "maxItems", "minItems", "maxProperties",
                               "minProperties")},
    **{key: _NUMBER for key in ("maximum", "minimum", "multipleOf")},
    **{key: (list,) for key in ("enum", "required", "allOf", "oneOf", "anyOf",
                                "x-kubernetes-list-map-keys", "x-kubernetes-validations")},
    **{key: (dict,) for key in ("items", "properties", "not", "externalDocs")},
    "additionalProperties": (dict, bool),
}
_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})
_JUNCTORS = ("allOf", "oneOf", "anyOf")
#: Inside a junctor only value validations may appear (structural rule); these may not.
_NOT_IN_JUNCTORS = frozenset({"type", "additionalProperties", "default", "nullable",
                              "description", "title", "x-kubernetes-preserve-unknown-fields",
                              "x-kubernetes-embedded-resource", "x-kubernetes-list-map-keys",
                              "x-kubernetes-list-type", "x-kubernetes-map-type"})


@dataclass(frozen=True)
class CrdDocument:
    """One CRD in the v1 shape, and where it was read (for every later error message)."""

    source: str
    crd: dict[str, Any] = field(repr=False)

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.crd["spec"]
        return spec


@dataclass(frozen=True)
class CrdFiles:
    """What ``--crd`` paths held: the CRDs, and one note per document that was skipped."""

    crds: tuple[CrdDocument, ...]
    notes: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


def served_versions(crd: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any],
                                               tuple[str, str, str]]]:
    """``(spec, version, (group, version name, plural))`` of every served version of one CRD
    object (JSON in the v1 shape). What the tables read from CRDs (scale paths, schemas)
    walk; a CRD or a version too malformed to name its resource gives nothing (a cluster's
    CRDs are not validated here)."""
    spec = crd.get("spec") if isinstance(crd, dict) else None
    if not isinstance(spec, dict):
        return
    group, names, versions = spec.get("group"), spec.get("names"), spec.get("versions")
    if not isinstance(group, str) or not isinstance(names, dict) or not isinstance(versions, list) \
            or not isinstance(names.get("plural"), str):
        return
    for version in versions:
        if isinstance(version, dict) and version.get("served") is not False \
                and isinstance(version.get("name"), str):
            yield spec, version, (group, version["name"], names["plural"])


def read_crd_paths(paths: Iterable[str]) -> CrdFiles:
    """Every CRD in ``paths`` (files or folders), checked and in the v1 shape."""
    crds: list[CrdDocument] = []
    notes: list[str] = []
    given = tuple(paths)
    for path in given:
        for file in _files_of(path):
            found, skipped = read_crd_file(file)
            crds.extend(found)
            notes.extend(skipped)
    if not crds:
        raise SpecError(", ".join(given) or "--crd", "",
                        "no apiextensions.k8s.io CustomResourceDefinition found")
    _check_unique(crds)
    return CrdFiles(tuple(crds), tuple(notes), given)


def read_crd_file(path: Path) -> tuple[list[CrdDocument], list[str]]:
    """The CRDs of one file and the notes for its other documents."""
    label = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CRD_FILE_BYTES + 1)
    except OSError as exc:
        raise SpecError(label, "", f"cannot read file: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_CRD_FILE_BYTES:
        raise SpecError(label, "", f"file is larger than {MAX_CRD_FILE_BYTES // (1024 * 1024)} MiB")
    return parse_crd_documents(data, label)


def parse_crd_documents(data: bytes | str, label: str) -> tuple[list[CrdDocument], list[str]]:
    """Parse a YAML/JSON stream named ``label``; raises :class:`SpecError` on the first problem."""
    try:
        documents = load_all(data)
    except YAMLError as exc:
        raise SpecError(label, "", f"invalid YAML: {exc}") from None
    except RecursionError:
        raise SpecError(label, "", "invalid YAML: nested too deeply") from None
    crds: list[CrdDocument] = []
    notes: list[str] = []
    for index, document in enumerate(documents, start=1):
        source = f"{label}: document {index}"
        if document is None:
            continue  # an empty document (a stray ``---``) is nothing, as for kubectl
        for item, pointer in _objects_of(document, source):
            crd = _as_crd(item, source, pointer)
            if crd is None:
                notes.append(f"{source}{'' if not pointer else ' #' + pointer}: skipped "
                             f"{_describe_object(item)} (not a CustomResourceDefinition)")
            else:
                crds.append(CrdDocument(source if not pointer else f"{source} #{pointer}", crd))
    return crds, notes


def _files_of(path: str) -> list[Path]:
    target = Path(path).expanduser()
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES)
        if not files:
            raise SpecError(path, "", "folder has no .yaml, .yml or .json file")
        return files
    if not target.exists():
        raise SpecError(path, "", "file not found")
    return [target]


def _objects_of(document: Any, source: str) -> list[tuple[dict[str, Any], str]]:
    """The object of a document, or the items of a ``kind: List`` (what kubectl get prints)."""
    if not isinstance(document, dict):
        raise SpecError(source, "", f"expected a Kubernetes object, got {describe_json_type(document)}")
    for key in ("apiVersion", "kind"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise SpecError(source, make_pointer([key]),
                            "expected a Kubernetes object with apiVersion and kind")
    if document["kind"] == "List" and document["apiVersion"] == "v1":
        items = document.get("items")
        if not isinstance(items, list):
            raise SpecError(source, "/items", "a List needs an items array")
        found = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
                raise SpecError(source, f"/items/{i}", "expected a Kubernetes object")
            found.append((item, f"/items/{i}"))
        return found
    return [(document, "")]


def _describe_object(item: dict[str, Any]) -> str:
    name = item.get("metadata", {}).get("name") if isinstance(item.get("metadata"), dict) else None
    text = f"{item.get('apiVersion')} {item.get('kind')}"
    return text + (f" {name!r}" if isinstance(name, str) else "")


def _as_crd(item: dict[str, Any], source: str, base: str) -> dict[str, Any] | None:
    api_version = item.get("apiVersion")
    if item.get("kind") != "CustomResourceDefinition" or not isinstance(api_version, str) \
            or api_version.partition("/")[0] != _API_GROUP:
        return None
    version = api_version.partition("/")[2]
    if version not in ("v1", "v1beta1"):
        raise SpecError(source, base + "/apiVersion",
                        f"unsupported {api_version!r}: expected {_API_GROUP}/v1 or /v1beta1")
    crd = copy.deepcopy(item)
    spec = crd.get("spec")
    if not isinstance(spec, dict):
        raise SpecError(source, base + "/spec", "a CustomResourceDefinition needs a spec object")
    if version == "v1beta1":
        _v1beta1_to_v1(spec, source, base + "/spec")
    _check_crd(crd, source, base)
    return crd


def _v1beta1_to_v1(spec: dict[str, Any], source: str, pointer: str) -> None:
    """Move v1beta1's CRD-wide fields into each version, as the server's conversion does."""
    versions = spec.get("versions")
    if versions is None:
        single = spec.get("version")
        if not isinstance(single, str):
            raise SpecError(source, pointer + "/version", "a v1beta1 CRD needs version or versions")
        versions = spec["versions"] = [{"name": single, "served": True, "storage": True}]
    if not isinstance(versions, list):
        raise SpecError(source, pointer + "/versions", "expected a list of versions")
    for key, target in (("validation", "schema"), ("subresources", "subresources")):
        shared = spec.pop(key, None)
        if shared is None:
            continue
        for i, version in enumerate(versions):
            if isinstance(version, dict):
                if target in version:
                    raise SpecError(source, f"{pointer}/versions/{i}/{target}",
                                    f"set per version while spec.{key} is set for all versions")
                version[target] = copy.deepcopy(shared)
    spec.pop("version", None)
    spec.setdefault("preserveUnknownFields", True)  # v1beta1's default; v1's is false


def _check_crd(crd: dict[str, Any], source: str, base: str) -> None:
    spec: dict[str, Any] = crd["spec"]
    at = base + "/spec"
    group = spec.get("group")
    problem = group_problem(group) if isinstance(group, str) else "expected a string"
    if problem is None and "." not in str(group):
        problem = "a CRD's group needs at least one dot"
    if problem is not None:
        raise SpecError(source, at + "/group", problem)
    names = spec.get("names")
    if not isinstance(names, dict):
        raise SpecError(source, at + "/names", "expected an object with plural and kind")
    plural = names.get("plural")
    problem = resource_problem(plural) if isinstance(plural, str) else "expected a string"
    if problem is not None:
        raise SpecError(source, at + "/names/plural", problem)
    for key in ("kind", "listKind"):
        value = names.get(key, f"{names.get('kind')}List" if key == "listKind" else None)
        problem = kind_problem(value) if isinstance(value, str) else "expected a string"
        if problem is not None:
            raise SpecError(source, f"{at}/names/{key}", problem)
    name = crd.get("metadata", {}).get("name") if isinstance(crd.get("metadata"), dict) else None
    if name != f"{plural}.{group}":
        raise SpecError(source, base + "/metadata/name", f"must be {plural}.{group} (plural.group)")
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        raise SpecError(source, at + "/scope", "expected Namespaced or Cluster")
    if not isinstance(spec.get("preserveUnknownFields", False), bool):
        raise SpecError(source, at + "/preserveUnknownFields", "expected a boolean")
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        raise SpecError(source, at + "/versions", "expected a non-empty list of versions")
    seen: set[str] = set()
    for i, version in enumerate(versions):
        _check_version(version, source, f"{at}/versions/{i}", seen)


def _check_version(version: Any, source: str, at: str, seen: set[str]) -> None:
    if not isinstance(version, dict):
        raise SpecError(source, at, "expected a version object")
    name = version.get("name")
    if not isinstance(name, str):
        raise SpecError(source, at + "/name", "expected a string")
    problem = version_problem(name)
    if problem is not None:
        raise SpecError(source, at + "/name", problem)
    if name in seen:
        raise SpecError(source, at + "/name", f"version {name!r} is listed twice")
    seen.add(name)
    for key in ("served", "storage"):
        if not isinstance(version.get(key), bool):
            raise SpecError(source, f"{at}/{key}", "expected a boolean")
    subresources = version.get("subresources", {})
    if not isinstance(subresources, dict) or not all(
            k in ("status", "scale") and isinstance(v, dict) for k, v in subresources.items()):
        raise SpecError(source, at + "/subresources", "expected an object with status and/or scale objects")
    schema = version.get("schema")
    if schema is None:
        return  # v1beta1 allows no schema: the server publishes a bare object
    if not isinstance(schema, dict) or not isinstance(schema.get("openAPIV3Schema"), dict):
        raise SpecError(source, at + "/schema/openAPIV3Schema", "expected a schema object")
    root = schema["openAPIV3Schema"]
    check_structural(root, source, at + "/schema/openAPIV3Schema", 0)
    if root.get("type") != "object":
        raise SpecError(source, at + "/schema/openAPIV3Schema/type", "the root schema must be type: object")


def check_structural(node: Any, source: str, at: str, depth: int, in_junctor: bool = False,
                     int_or_string: bool = False) -> None:
    """Refuse what the API server refuses in a v1 CRD schema: ``$ref``, unknown keywords,
    a missing ``type`` (outside int-or-string / preserve-unknown-fields), ``properties``
    with ``additionalProperties``, ``additionalProperties: false``, arrays without ``items``
    and types set inside ``allOf``/``oneOf``/``anyOf``/``not`` (except the integer and
    string branches of an ``x-kubernetes-int-or-string`` node)."""
    if not isinstance(node, dict):
        raise SpecError(source, at, f"expected a schema object, got {describe_json_type(node)}")
    if depth > MAX_SCHEMA_DEPTH:
        raise SpecError(source, at, f"schema nested more than {MAX_SCHEMA_DEPTH} levels deep")
    if "$ref" in node:
        raise SpecError(source, at + "/$ref", "$ref is not allowed in a CRD schema (not structural)")
    for key, value in node.items():
        if key not in _ALLOWED_KEYWORDS:
            raise SpecError(source, make_pointer_from(at, key),
                            f"{key!r} is not allowed in a structural CRD schema")
        wanted = _VALUE_TYPES.get(key)
        if wanted is not None and (not isinstance(value, wanted) or (
                bool not in wanted and isinstance(value, bool))):
            raise SpecError(source, make_pointer_from(at, key),
                            f"expected {' or '.join(t.__name__ for t in wanted)}, got {describe_json_type(value)}")
    for key in ("required", "x-kubernetes-list-map-keys"):
        if not all(isinstance(item, str) for item in node.get(key, [])):
            raise SpecError(source, make_pointer_from(at, key), "expected a list of strings")
    if in_junctor:
        for key in node:
            if key in _NOT_IN_JUNCTORS and not (int_or_string and key == "type"
                                                and node[key] in ("integer", "string")):
                raise SpecError(source, make_pointer_from(at, key),
                                f"{key!r} inside allOf/oneOf/anyOf/not makes the schema non-structural")
    else:
        _check_node_type(node, source, at)
    for key in _JUNCTORS:
        if key in node:
            branches = node[key]
            if not isinstance(branches, list):
                raise SpecError(source, f"{at}/{key}", "expected a list of schemas")
            for i, branch in enumerate(branches):
                check_structural(branch, source, f"{at}/{key}/{i}", depth + 1, True,
                                 int_or_string or node.get("x-kubernetes-int-or-string") is True)
    if "not" in node:
        check_structural(node["not"], source, at + "/not", depth + 1, True)
    properties = node.get("properties", {})
    if not isinstance(properties, dict):
        raise SpecError(source, at + "/properties", "expected an object of schemas")
    for name, child in properties.items():
        check_structural(child, source, make_pointer_from(at + "/properties", name), depth + 1, in_junctor)
    if "items" in node:
        check_structural(node["items"], source, at + "/items", depth + 1, in_junctor)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        check_structural(extra, source, at + "/additionalProperties", depth + 1, in_junctor)


def _check_node_type(node: dict[str, Any], source: str, at: str) -> None:
    kind = node.get("type")
    loose = node.get("x-kubernetes-int-or-string") is True or \
        node.get("x-kubernetes-preserve-unknown-fields") is True
    if kind is None and not loose:
        raise SpecError(source, at + "/type", "type must be set (structural schema)")
    if kind is not None and kind not in _TYPES:
        raise SpecError(source, at + "/type", f"expected one of {', '.join(sorted(_TYPES))}")
    if node.get("x-kubernetes-int-or-string") is True and kind is not None:
        raise SpecError(source, at + "/type", "must be empty with x-kubernetes-int-or-string")
    if kind == "array" and "items" not in node:
        raise SpecError(source, at + "/items", "an array schema needs items")
    if node.get("x-kubernetes-embedded-resource") is True and kind != "object":
        raise SpecError(source, at + "/type", "an embedded resource must be type: object")
    extra = node.get("additionalProperties")
    if extra is False:
        raise SpecError(source, at + "/additionalProperties", "additionalProperties cannot be false")
    if extra is not None and not isinstance(extra, (dict, bool)):
        raise SpecError(source, at + "/additionalProperties", "expected a schema object")
    if isinstance(extra, dict) and node.get("properties"):
        raise SpecError(source, at + "/additionalProperties",
                        "properties and additionalProperties are mutually exclusive")


def make_pointer_from(prefix: str, token: str) -> str:
    """``prefix`` plus one escaped reference token."""
    return prefix + make_pointer([token])


def _check_unique(crds: list[CrdDocument]) -> None:
    """Two CRDs for one resource or one kind would publish the same paths or definitions."""
    owners: dict[tuple[str, str], CrdDocument] = {}
    for document in crds:
        spec = document.spec
        group, names = spec["group"], spec["names"]
        for key in (("plural", names["plural"]), ("kind", names["kind"])):
            claimed = owners.setdefault((group, f"{key[0]}:{key[1]}"), document)
            if claimed is not document:
                raise SpecError(document.source, f"/spec/names/{key[0]}",
                                f"{group} {key[0]} {key[1]!r} is also defined by {claimed.source}")
