"""Publish CRDs into an OpenAPI v2 document the way kube-apiserver does in ``/openapi/v2``.

The goal is that ``--crd FILE`` and ``--from-cluster`` (after installing FILE) give the same
package, so this follows what apiextensions-apiserver's openapi builder publishes (checked
against a real kube-apiserver 1.20 in tests/integration/test_crd_offline_vs_cluster.py), one
rule per function:

* only served versions; definitions ``<reversed group>.<version>.<Kind>`` and ``...<ListKind>``
  carrying ``x-kubernetes-group-version-kind``;
* the kind's schema is the structural schema converted for v2 (:func:`schema_for_v2`), with
  ``apiVersion``/``kind`` (TypeMeta) and ``metadata`` (a reference to ObjectMeta) set; a
  version without a schema, a root with ``x-kubernetes-preserve-unknown-fields`` or a CRD
  with ``preserveUnknownFields`` publishes a bare ``{type: object}``;
* the list kind: ``items`` (required) of the kind, ListMeta ``metadata``, TypeMeta;
* paths: list (also across namespaces when namespaced), create, deletecollection, read,
  replace, delete, patch (JSON, merge and apply patches), and read/replace/patch for the
  ``status`` and ``scale`` (autoscaling/v1 Scale) subresources, with the server's query
  parameters, operation ids and extensions.

The one deliberate difference: ``default`` is put back (by :mod:`.crd_defaults`, the same code
``--from-cluster`` uses to restore what the server strips), so both give the same optional flags.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from .crd_defaults import restore_crd_defaults
from .crd_files import CrdDocument, CrdFiles, served_versions
from .crd_schemas import crd_schemas
from .errors import SpecError
from .load import LoadedSpec
from .records import CrdScale, GroupVersionKind

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META = _META + "ObjectMeta"
LIST_META = _META + "ListMeta"
STATUS = _META + "Status"
PATCH = _META + "Patch"
DELETE_OPTIONS = _META + "DeleteOptions"
SCALE = "io.k8s.api.autoscaling.v1.Scale"
#: Definitions every published CRD refers to; the base document must have them.
REQUIRED_BASE_DEFINITIONS = (OBJECT_META, LIST_META, STATUS, PATCH, DELETE_OPTIONS, SCALE)

_GVK = "x-kubernetes-group-version-kind"
_CONVENTIONS = "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
_OBJECT_META_TEXT = f"Standard object's metadata. More info: {_CONVENTIONS}#metadata"
_LIST_META_TEXT = f"Standard list metadata. More info: {_CONVENTIONS}#types-kinds"
#: The server's descriptions of an embedded resource's TypeMeta (reproduced so that the
#: generated docstrings are the same offline and from a cluster).
_EMBEDDED_API_VERSION_TEXT = ("apiVersion defines the versioned schema of this representation of an "
                              f"object. More info: {_CONVENTIONS}#resources")
_EMBEDDED_KIND_TEXT = ("kind is a string value representing the type of this object. In CamelCase. "
                       f"More info: {_CONVENTIONS}#types-kinds")
_JSON = ["application/json", "application/yaml"]
_PATCH_TYPES = ["application/json-patch+json", "application/merge-patch+json",
                "application/apply-patch+yaml"]
_JUNCTORS = ("allOf", "oneOf", "anyOf", "not")
#: What the server's structural schema keeps (anything else, e.g. ``example``, is dropped).
_KEPT = frozenset({
    "description", "type", "format", "title", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "multipleOf", "enum", "maxProperties", "minProperties", "required", "items", "properties",
    "additionalProperties", "nullable", "default", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type", "x-kubernetes-map-type", *_JUNCTORS,
})
#: Go's ``omitempty``: these are absent from the server's JSON when false or empty.
_OMITTED_WHEN_FALSE = ("exclusiveMaximum", "exclusiveMinimum", "uniqueItems", "nullable",
                       "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
                       "x-kubernetes-int-or-string")
_OMITTED_WHEN_EMPTY = ("description", "type", "format", "title", "pattern", "required",
                       "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-list-map-keys")


def definition_name(group: str, version: str, kind: str) -> str:
    """``monitoring.coreos.com``, ``v1``, ``ServiceMonitor`` → ``com.coreos.monitoring.v1.ServiceMonitor``."""
    return ".".join([*reversed(group.split(".")), version, kind])


def _camel_group(group: str) -> str:
    """``cert-manager.io`` → ``CertManagerIo``, as in the server's operation ids."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[.-]", group) if part)


def schema_for_v2(schema: dict[str, Any]) -> dict[str, Any]:
    """A structural schema as the server publishes it in v2 (a new dict; input untouched).

    Drops ``allOf``/``oneOf``/``anyOf``/``not``; a ``nullable`` node loses its type, items
    and properties and leaves its parent's ``required``; a preserve-unknown-fields node loses
    type, items and properties; an array left without items loses its type. ``default`` is
    dropped here, as the server does (and restored afterwards, see the module docstring).
    """
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _KEPT or key in _JUNCTORS or key == "default":
            continue
        if key in _OMITTED_WHEN_FALSE and value is False:
            continue
        if key in _OMITTED_WHEN_EMPTY and value in ("", [], None):
            continue
        out[key] = copy.deepcopy(value) if key not in ("properties", "items", "additionalProperties") else value
    properties = out.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {name: schema_for_v2(child) for name, child in properties.items()
                             if isinstance(child, dict)}
        nullable = [name for name, child in properties.items()
                    if isinstance(child, dict) and child.get("nullable") is True]
        if nullable and isinstance(out.get("required"), list):
            out["required"] = [name for name in out["required"] if name not in nullable]
            if not out["required"]:
                del out["required"]
    if isinstance(out.get("items"), dict):
        out["items"] = schema_for_v2(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = schema_for_v2(out["additionalProperties"])
    if out.pop("nullable", False) is True:
        for key in ("type", "items", "properties"):
            out.pop(key, None)
    if out.get("x-kubernetes-preserve-unknown-fields") is True:
        for key in ("type", "items", "properties"):
            out.pop(key, None)
    if out.get("type") == "array" and "items" not in out:
        del out["type"]
    if out.get("x-kubernetes-embedded-resource") is True and "properties" in out:
        _add_embedded_type_meta(out)
    return out


def _add_embedded_type_meta(schema: dict[str, Any]) -> None:
    """An embedded resource with a schema of its own gets apiVersion, kind (both required) and
    ObjectMeta; one that preserves unknown fields stays as it is (it has no properties)."""
    schema["properties"].update({
        "apiVersion": {"description": _EMBEDDED_API_VERSION_TEXT, "type": "string"},
        "kind": {"description": _EMBEDDED_KIND_TEXT, "type": "string"},
        "metadata": {"$ref": f"#/definitions/{OBJECT_META}", "description": _OBJECT_META_TEXT},
    })
    required = schema.setdefault("required", [])
    for name in ("kind", "apiVersion"):
        if name not in required:
            required.append(name)


def _sorted_value(node: Any) -> Any:
    if isinstance(node, dict):
        return _sorted(node)
    if isinstance(node, list):
        return [_sorted_value(item) for item in node]
    return node


def _sorted(node: dict[str, Any]) -> dict[str, Any]:
    """Keys in Go's order (the server marshals maps sorted), so fields come out in one order."""
    return {key: _sorted_value(node[key]) for key in sorted(node)}


class _Publisher:
    """Turns each served version of each CRD into definitions and paths of ``document``."""

    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source
        definitions = document.get("definitions")
        if not isinstance(definitions, dict):
            raise SpecError(source, "/definitions", "the base spec has no definitions")
        missing = [name for name in REQUIRED_BASE_DEFINITIONS if name not in definitions]
        if missing:
            raise SpecError(source, "/definitions", "the base spec lacks the definitions CRDs use: "
                            + ", ".join(missing))
        self.definitions: dict[str, Any] = definitions
        paths = document.setdefault("paths", {})
        if not isinstance(paths, dict):
            raise SpecError(source, "/paths", "the base spec's paths must be an object")
        self.paths: dict[str, Any] = paths
        status = definitions[STATUS].get("properties", {}) if isinstance(definitions[STATUS], dict) else {}
        self.type_meta = {key: {"description": status.get(key, {}).get("description", ""), "type": "string"}
                          for key in ("apiVersion", "kind")}

    def publish(self, crd: CrdDocument) -> None:
        spec = crd.spec
        for version in spec["versions"]:
            if version["served"]:
                self._version(crd, version)

    def _add(self, table: dict[str, Any], key: str, value: Any, crd: CrdDocument, what: str) -> None:
        if key in table:
            raise SpecError(crd.source, "/spec", f"{what} {key!r} is already in the base spec")
        table[key] = value

    def _version(self, crd: CrdDocument, version: dict[str, Any]) -> None:
        spec = crd.spec
        group, name, names = spec["group"], version["name"], spec["names"]
        kind, plural = names["kind"], names["plural"]
        list_kind = names.get("listKind", kind + "List")
        kind_def, list_def = definition_name(group, name, kind), definition_name(group, name, list_kind)
        self._add(self.definitions, kind_def, self._kind_schema(spec, version, group, name, kind), crd, "definition")
        self._add(self.definitions, list_def, self._list_schema(group, name, kind, list_kind, plural, kind_def),
                  crd, "definition")
        namespaced = spec["scope"] == "Namespaced"
        ops = _Operations(group, name, kind, plural, namespaced)
        root = f"/apis/{group}/{name}/{plural}"
        for path, item in ops.paths(root, kind_def, list_def, version.get("subresources") or {}):
            self._add(self.paths, path, item, crd, "path")

    def _kind_schema(self, spec: dict[str, Any], version: dict[str, Any], group: str, name: str,
                     kind: str) -> dict[str, Any]:
        source = (version.get("schema") or {}).get("openAPIV3Schema")
        gvk = {_GVK: [{"group": group, "kind": kind, "version": name}]}
        if not isinstance(source, dict) or spec.get("preserveUnknownFields") is True \
                or source.get("x-kubernetes-preserve-unknown-fields") is True:
            return {"type": "object", **gvk}
        schema = schema_for_v2(source)
        properties = schema.setdefault("properties", {})
        properties["metadata"] = {"$ref": f"#/definitions/{OBJECT_META}", "description": _OBJECT_META_TEXT}
        properties.update(copy.deepcopy(self.type_meta))
        return _sorted({**schema, **gvk})

    def _list_schema(self, group: str, name: str, kind: str, list_kind: str, plural: str,
                     kind_def: str) -> dict[str, Any]:
        return _sorted({
            "description": f"{list_kind} is a list of {kind}",
            "properties": {
                **copy.deepcopy(self.type_meta),
                "items": {"description": f"List of {plural}. More info: {_CONVENTIONS}",
                          "items": {"$ref": f"#/definitions/{kind_def}"}, "type": "array"},
                "metadata": {"$ref": f"#/definitions/{LIST_META}", "description": _LIST_META_TEXT},
            },
            "required": ["items"],
            _GVK: [{"group": group, "kind": list_kind, "version": name}],
        })


def _param(name: str, where: str, kind: str, text: str, required: bool = False) -> dict[str, Any]:
    param: dict[str, Any] = {"description": text, "in": where, "name": name, "type": kind, "uniqueItems": True}
    if required:
        param["required"] = True
    return param


def _body(ref: str, required: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"in": "body", "name": "body", "schema": {"$ref": f"#/definitions/{ref}"}}
    if required:
        body["required"] = True
    return body


_PRETTY = _param("pretty", "query", "string", "If 'true', the output is pretty printed.")
_DRY_RUN = _param("dryRun", "query", "string", "Dry run: process the request without persisting it.")
_FIELD_MANAGER = _param("fieldManager", "query", "string", "The name of the actor making the change.")
_RESOURCE_VERSION = _param("resourceVersion", "query", "string", "Which resource version to serve.")
_LIST_PARAMS = [
    _param("allowWatchBookmarks", "query", "boolean", "Ask for BOOKMARK watch events."),
    _param("continue", "query", "string", "Continue token of a paged list."),
    _param("fieldSelector", "query", "string", "Only objects whose fields match."),
    _param("labelSelector", "query", "string", "Only objects whose labels match."),
    _param("limit", "query", "integer", "Page size of a list."),
    _RESOURCE_VERSION,
    _param("resourceVersionMatch", "query", "string", "How resourceVersion applies to a list."),
    _param("timeoutSeconds", "query", "integer", "Timeout of a list or watch."),
    _param("watch", "query", "boolean", "Watch for changes instead of listing."),
]
_DELETE_PARAMS = [
    _DRY_RUN,
    _param("gracePeriodSeconds", "query", "integer", "Seconds before the object is deleted."),
    _param("orphanDependents", "query", "boolean", "Deprecated: use propagationPolicy."),
    _param("propagationPolicy", "query", "string", "Whether and how garbage collection is done."),
]
_RESPONSES = {"200": "OK", "201": "Created", "202": "Accepted"}


class _Operations:
    """The paths and operations the server registers for one served version of a CRD."""

    def __init__(self, group: str, version: str, kind: str, plural: str, namespaced: bool) -> None:
        self.group, self.version, self.kind, self.plural = group, version, kind, plural
        self.namespaced = namespaced
        self.prefix = _camel_group(group) + version[:1].upper() + version[1:]
        self.tag = _camel_group(group)[:1].lower() + _camel_group(group)[1:] + "_" + version

    def _op(self, verb: str, action: str, op_id: str, text: str, ref: str, codes: tuple[str, ...],
            params: list[dict[str, Any]], consumes: list[str] | None = None) -> dict[str, Any]:
        responses: dict[str, Any] = {code: {"description": _RESPONSES[code],
                                            "schema": {"$ref": f"#/definitions/{ref}"}} for code in codes}
        responses["401"] = {"description": "Unauthorized"}
        return {
            "consumes": list(consumes or _JSON), "description": text, "operationId": op_id,
            "parameters": copy.deepcopy(params), "produces": list(_JSON), "responses": responses,
            "schemes": ["https"], "tags": [self.tag], "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": self.group, "kind": self.kind, "version": self.version},
        }

    def paths(self, root: str, kind_def: str, list_def: str,
              subresources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        scoped = "Namespaced" if self.namespaced else ""
        name = self.prefix + scoped + self.kind
        found: list[tuple[str, dict[str, Any]]] = []
        path_params = [_param("name", "path", "string", f"name of the {self.kind}", True)]
        if self.namespaced:
            found.append((root, {
                "get": self._op("get", "list", f"list{self.prefix}{self.kind}ForAllNamespaces",
                                f"list objects of kind {self.kind}", list_def, ("200",), []),
                "parameters": [*copy.deepcopy(_LIST_PARAMS[:5]), _PRETTY, *copy.deepcopy(_LIST_PARAMS[5:])],
            }))
            root = root.replace(f"/{self.plural}", f"/namespaces/{{namespace}}/{self.plural}", 1)
            path_params.append(_param("namespace", "path", "string", "object name and auth scope", True))
        found.append((root, {
            "delete": self._op("delete", "deletecollection", f"delete{self.prefix}Collection{scoped}{self.kind}",
                               f"delete collection of {self.kind}", STATUS, ("200",), _LIST_PARAMS),
            "get": self._op("get", "list", f"list{name}", f"list objects of kind {self.kind}", list_def,
                            ("200",), _LIST_PARAMS),
            "parameters": [*copy.deepcopy(path_params[1:]), _PRETTY],
            "post": self._op("post", "post", f"create{name}", f"create a {self.kind}", kind_def,
                             ("200", "201", "202"), [_body(kind_def), _DRY_RUN, _FIELD_MANAGER]),
        }))
        found.append((root + "/{name}", self._item_ops(name, "", kind_def, path_params, with_delete=True)))
        for sub, ref in (("status", kind_def), ("scale", SCALE)):
            if sub in subresources:
                found.append((f"{root}/{{name}}/{sub}",
                              self._item_ops(name + sub.capitalize(), f"{sub} of ", ref, path_params)))
        return found

    def _item_ops(self, name: str, what: str, ref: str, path_params: list[dict[str, Any]],
                  with_delete: bool = False) -> dict[str, Any]:
        item: dict[str, Any] = {
            "get": self._op("get", "get", f"read{name}", f"read {what}the specified {self.kind}", ref,
                            ("200",), [_RESOURCE_VERSION]),
            "parameters": [*copy.deepcopy(path_params), _PRETTY],
            "patch": self._op("patch", "patch", f"patch{name}", f"partially update {what}the specified {self.kind}",
                              ref, ("200",), [_body(PATCH), _DRY_RUN, _FIELD_MANAGER], _PATCH_TYPES),
            "put": self._op("put", "put", f"replace{name}", f"replace {what}the specified {self.kind}", ref,
                            ("200", "201"), [_body(ref), _DRY_RUN, _FIELD_MANAGER]),
        }
        if with_delete:
            item["delete"] = self._op("delete", "delete", f"delete{name}", f"delete a {self.kind}", STATUS,
                                      ("200", "202"), [_body(DELETE_OPTIONS, required=False), *_DELETE_PARAMS])
        return item


def merge_crds(base: LoadedSpec, files: CrdFiles) -> LoadedSpec:
    """``base`` with every served version of ``files``' CRDs published into it (a new document)."""
    document = copy.deepcopy(base.document)
    publisher = _Publisher(document, base.source)
    for crd in files.crds:
        publisher.publish(crd)
    restore_crd_defaults(document, [crd.crd for crd in files.crds])
    return LoadedSpec(f"{base.source} + --crd {', '.join(files.paths)}", document, base.origin,
                      base.crd_file_groups | frozenset(crd_groups(files)),
                      base.custom_resource_kinds | crd_kinds(crd.crd for crd in files.crds),
                      base.openapi_documents,
                      crd_scales([*base.crd_scales, *crd_scales(crd.crd for crd in files.crds)]),
                      crd_schemas([*base.crd_schemas, *crd_schemas(crd.crd for crd in files.crds)]))


def crd_kinds(crds: Iterable[Any]) -> frozenset[GroupVersionKind]:
    """The kinds of every served version of ``crds`` (CRD objects as JSON; anything
    malformed is skipped): the kinds whose schemas the server enforces."""
    kinds: set[GroupVersionKind] = set()
    for crd in crds:
        spec = crd.get("spec") if isinstance(crd, dict) else None
        if not isinstance(spec, dict):
            continue
        names, versions = spec.get("names"), spec.get("versions")
        if not isinstance(names, dict) or not isinstance(versions, list):
            continue
        for version in versions:
            if isinstance(version, dict) and version.get("served") is not False:
                kinds.add(GroupVersionKind(str(spec.get("group", "")), str(version.get("name", "")),
                                           str(names.get("kind", ""))))
    return frozenset(kinds)


def crd_scales(crds: Iterable[Any]) -> tuple[CrdScale, ...]:
    """The ``subresources.scale`` of every served version of ``crds`` (CRD objects as JSON, or
    :class:`CrdScale` records already read), sorted; a CRD or a scale stanza that is
    malformed is skipped (a cluster's CRDs are not validated here), and so is a second
    entry for a group-version-resource."""
    found: dict[tuple[str, str, str], CrdScale] = {}
    for crd in crds:
        if isinstance(crd, CrdScale):
            found.setdefault((crd.group, crd.version, crd.resource), crd)
            continue
        for _spec, version, key in served_versions(crd):
            subresources = version.get("subresources")
            scale = subresources.get("scale") if isinstance(subresources, dict) else None
            if not isinstance(scale, dict):
                continue
            spec_path, status_path = scale.get("specReplicasPath"), scale.get("statusReplicasPath")
            selector = scale.get("labelSelectorPath")
            if not isinstance(spec_path, str) or not isinstance(status_path, str) \
                    or not isinstance(selector, str | None):
                continue
            found.setdefault(key, CrdScale(*key, spec_path, status_path, selector or None))
    return tuple(found[key] for key in sorted(found))


def crd_groups(files: CrdFiles) -> list[str]:
    """The API groups the CRDs define, sorted (what ``--crd`` alone generates)."""
    return sorted({crd.spec["group"] for crd in files.crds})
