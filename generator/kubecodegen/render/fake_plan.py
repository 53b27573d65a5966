"""The fake clientset of a package: ``fake.py`` (public) and ``_fake_api.py`` (its tables).

``<package>.fake.Clientset(*objects)`` is the package's real ``Clientset`` over the
runtime's in-memory fake API server (``kubecodegen_runtime.fake``). That server knows
nothing about a package until it is given a :class:`~kubecodegen_runtime.fake.schema.PackageApi`:
which resources exist, which type each kind's object has, and how each property of each
type merges (for strategic merge patch and server-side apply). ``_fake_api.py`` holds those
facts as plain literals, planned here from the model:

* ``RESOURCES``: the ``ResourceInfo`` of every resource with a typed client, rendered by
  the same template as the clientset's constants (``clientset/resource_info.jinja``), from
  the same context, so the two cannot differ;
* ``ROOTS``: ``(group, version, kind)`` -> type key; ``TYPES``: type key -> property ->
  ``Field``, for the properties whose merging is not "replace the value": those holding an
  object, a list or a map, and those with merge extensions (:func:`field_of`). Type keys are
  the model's struct ids: a definition name, or for an inline (CRD) schema its definition
  and the property path (``...ServiceMonitor/spec/endpoints``);
* ``CUSTOM``: the custom resources (:func:`custom_resources`); ``SCALE``: the scale paths of
  CRDs, where the input had the CRD objects; ``KUBERNETES_VERSION`` (:func:`kubernetes_version`);
* ``SCHEMAS``: by ``(group, version, plural)``, the validation keywords of each served CRD
  version's ``openAPIV3Schema`` (``spec.crd_schemas``), for the resources the package has.

Spec text only ever appears in them as string literals (:func:`~.env.py_string`), the
schemas as literals of JSON values (:func:`~.env.py_literal`); no description is written.
Nothing imports ``_fake_api`` until ``fake.package_api()`` is first called, and
``import <package>`` imports neither module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .. import naming
from ..model.types import (
    NO_MERGE_RULES,
    ApiModel,
    ArrayOf,
    Field,
    GroupVersionKind,
    MapOf,
    Primitive,
    StructRef,
)
from .env import Code, py_literal, py_string

Identifier = naming.Identifier

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_HOISTED = frozenset({"apiVersion", "kind", "metadata"})
_VERSION = re.compile(r"v[0-9]+\.[0-9]+(\.[0-9]+)?([-+][0-9A-Za-z.+-]*)?")


def _tuple(values: Iterable[str]) -> Code:
    """``("a", "b")`` of string literals (``()`` when empty, ``("a",)`` for one)."""
    items = [py_string(value) for value in values]
    return Code("(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")")


def field_of(field: Field) -> Code | None:
    """The ``Field(...)`` expression of one property, or ``None`` when it merges as a scalar.

    The value type says ``container`` and ``type``: a struct is an object of that type key, a
    list or a map is a container of its items' or values' type key (``None`` when those are
    not structs: strings, nested lists, free-form values); a free-form object (``dict[str,
    Any]``: RawExtension, ``x-kubernetes-preserve-unknown-fields``) is a map of free-form
    values, which structured-merge-diff merges key by key (its "deduced" type). Every other
    value (a scalar, a free-form value that may be anything, a union of the JSONSchemaProps
    ``Or*`` types, raw ``fieldsV1``) replaces the old one whole, so it is left out, unless it
    carries merge extensions.
    """
    container, type_key = "", None
    ref = field.type
    if isinstance(ref, StructRef):
        type_key = ref.struct_id
    elif isinstance(ref, ArrayOf | MapOf):
        container = "list" if isinstance(ref, ArrayOf) else "map"
        inner = ref.item if isinstance(ref, ArrayOf) else ref.value
        type_key = inner.struct_id if isinstance(inner, StructRef) else None
    elif ref is Primitive.OBJECT:
        container = "map"
    if not container and type_key is None and field.merge == NO_MERGE_RULES:
        return None
    merge = field.merge
    arguments = [f"type={py_string(type_key)}"] if type_key is not None else []
    if container:
        arguments.append(f"container={py_string(container)}")
    for name, value in (("list_type", merge.list_type), ("map_type", merge.map_type),
                        ("patch_strategy", merge.patch_strategy),
                        ("patch_merge_key", merge.patch_merge_key)):
        if value is not None:
            arguments.append(f"{name}={py_string(value)}")
    if merge.list_map_keys:
        arguments.append(f"list_map_keys={_tuple(merge.list_map_keys)}")
    return Code(f"Field({', '.join(arguments)})")


def custom_resources(model: ApiModel, resources: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Spec quirk: which resources are custom resources (the server refuses a strategic merge
    patch of one with 415, and merges their lists atomically unless the schema says otherwise).

    A kind the input says is served from a CRD (``--crd`` files, a cluster's CRD objects,
    an OpenAPI v3 document of a CRD group-version: ``ApiModel.custom_resource_kinds``) is
    one. A saved ``/openapi/v2`` document does not say which kinds are, so a resource of a
    group Kubernetes does not serve itself (``naming.BUILTIN_GROUPS``) is taken for one too:
    almost always a CRD, and otherwise an aggregated API (metrics), which a test rarely writes to.
    """
    found = {(r["group"], r["plural"]) for r in resources
             if GroupVersionKind(r["group"], r["version"], r["kind"]) in model.custom_resource_kinds
             or not naming.is_builtin_group(r["group"])}
    return sorted(found)


def kubernetes_version(model: ApiModel) -> str:
    """The Kubernetes release of the spec (``info.version``: ``v1.35.0``), or ``""`` when it
    does not read as one (a hand-written document, a CRD-only OpenAPI v3 set)."""
    version = model.spec_version.strip()
    return version if _VERSION.fullmatch(version) else ""


def _roots(model: ApiModel, resources: Sequence[Mapping[str, Any]]) -> list[dict[str, Code]]:
    """Every kind's type key: the kinds' own structs (``x-kubernetes-group-version-kind``),
    then the resources' kinds that have no struct of their own GVK (a definition shared by
    several kinds)."""
    roots: dict[tuple[str, str, str], str] = {}
    for struct in model.structs.values():
        if struct.gvk is not None:
            roots.setdefault((struct.gvk.group, struct.gvk.version, struct.gvk.kind), struct.struct_id)
    for r in resources:
        roots.setdefault((r["group"], r["version"], r["kind"]), r["struct_id"])
    return [{"key": _tuple(key), "type": py_string(roots[key])} for key in sorted(roots)]


def _types(model: ApiModel) -> list[dict[str, Any]]:
    types = []
    for struct_id in sorted(model.structs):
        fields = []
        for field in sorted(model.structs[struct_id].fields, key=lambda f: f.wire_name):
            expression = field_of(field)
            if expression is not None:
                fields.append({"name": py_string(field.wire_name), "field": expression})
        if fields:
            types.append({"key": py_string(struct_id), "fields": fields})
    return types


def _scales(model: ApiModel, resources: Sequence[Mapping[str, Any]]) -> list[dict[str, Code]]:
    """CRD scale paths by ``(group, resource)`` (the fake's key), taken from the group's most
    preferred version that has a scale subresource with known paths."""
    scales = {(s.group, s.version, s.resource): s for s in model.crd_scales}
    scaled = {(r["group"], r["version"], r["plural"]) for r in resources
              if any(sub["name"] == "scale" for sub in r["subresources"])}
    found: dict[tuple[str, str], dict[str, Code]] = {}
    for group in model.groups:
        for gv in group.versions:  # preferred first
            for r in gv.resources:
                scale = scales.get((r.group, r.version, r.plural))
                if scale is None or (r.group, r.version, r.plural) not in scaled \
                        or (r.group, r.plural) in found:
                    continue
                selector = "None" if scale.label_selector_path is None else py_string(scale.label_selector_path)
                found[(r.group, r.plural)] = {
                    "key": _tuple((r.group, r.plural)),
                    "paths": Code(f"ScalePaths(spec_replicas={py_string(scale.spec_replicas_path)}, "
                                  f"status_replicas={py_string(scale.status_replicas_path)}, "
                                  f"label_selector={selector})")}
    return [found[key] for key in sorted(found)]


def _schemas(model: ApiModel, resources: Sequence[Mapping[str, Any]]) -> list[dict[str, Code]]:
    """The CRD schemas of the package's resources, sorted by ``(group, version, plural)``;
    a schema of a resource the package does not have (another ``--group``) is left out."""
    present = {(r["group"], r["version"], r["plural"]) for r in resources}
    found: dict[tuple[str, str, str], dict[str, Code]] = {}
    for record in model.crd_schemas:
        key = (record.group, record.version, record.resource)
        if key in present and key not in found:
            where = "the schema of " + "/".join(key)
            found[key] = {"key": _tuple(key), "value": py_literal(json.loads(record.schema), where)}
    return [found[key] for key in sorted(found)]


def fake_api_context(model: ApiModel, resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The context of ``_fake_api.py``; ``resources`` are the clientset's resource contexts
    (every resource with a typed client, as ``clientset/group.py.jinja`` renders them)."""
    return {
        "resources": list(resources),
        "roots": _roots(model, resources),
        "types": _types(model),
        "custom": [_tuple(key) for key in custom_resources(model, resources)],
        "scales": _scales(model, resources),
        "schemas": _schemas(model, resources),
        "kubernetes_version": py_string(kubernetes_version(model)),
    }


def _example(model: ApiModel, package: Identifier, resources: Sequence[Mapping[str, Any]]) -> list[Code]:
    """The usage lines of ``fake.py``'s docstring: seed an object and read it back, with
    core/v1 Pods where the package has them, else with the first kind that needs nothing but
    its metadata; a package with neither only lists. Built from identifiers only."""
    meta = model.structs.get(_OBJECT_META)

    def needs_only_metadata(r: Mapping[str, Any]) -> bool:
        struct = model.structs[r["struct_id"]]
        return all(not f.required or f.wire_name in _HOISTED for f in struct.fields) \
            and any(f.wire_name == "metadata" for f in struct.fields)

    def call(r: Mapping[str, Any]) -> str:
        scope = '"default"' if r["namespaced"] else ""
        return f'cs.{Identifier(r["py_name"])}.{Identifier(r["accessor"])}({scope})'

    candidates = [r for r in resources if {"get", "create"} <= set(r["verbs"]) and needs_only_metadata(r)]
    pods = [r for r in candidates if (r["group"], r["version"], r["plural"]) == ("", "v1", "pods")]
    chosen = next(iter(pods or candidates), None)
    lines = [f"from {package}.fake import Clientset"]
    if chosen is not None and meta is not None:
        struct = model.structs[chosen["struct_id"]]
        module, name = Identifier(struct.module), Identifier(struct.name)
        lines.append(f"from {package}.models.{module} import {name}")
        if meta.module != struct.module:
            lines.append(f"from {package}.models.{Identifier(meta.module)} import {Identifier(meta.name)}")
        where = ', namespace="default"' if chosen["namespaced"] else ""
        lines += ["", f'cs = Clientset({name}(metadata={Identifier(meta.name)}(name="a"{where})))',
                  f'{call(chosen)}.get("a")']
    else:
        lines += ["", "cs = Clientset()"]
        listed = [r for r in resources if "list" in r["verbs"]]
        if listed:
            lines.append(f"{call(listed[0])}.list()")
    return [Code(line) for line in lines]


def fake_module_context(model: ApiModel, package: str,
                        resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The context of ``fake.py``."""
    return {"example": _example(model, Identifier(package), resources)}
