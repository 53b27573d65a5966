"""Corrections of artefacts in the OpenAPI documents that Kubernetes serves, and the table
saying which documents they apply to."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from types import MappingProxyType

from ..spec.records import Document, Operation, Origin, PathItem, Schema
from . import Fixup, FixupRule, KubernetesVersions

_COPY_SUFFIX = re.compile(r"^(?P<base>.+)_v(?P<n>[0-9]+)$")


def rewrite_schema_refs(schema: Schema, renames: Mapping[str, str]) -> tuple[Schema, int]:
    """``schema`` with references to ``renames``' keys pointed at their values, and how many
    changed; unchanged subtrees are the same objects."""
    changes: dict[str, object] = {}
    changed = 0
    if schema.ref is not None and schema.ref in renames:
        changes["ref"] = renames[schema.ref]
        changed += 1
    if schema.properties:
        properties: dict[str, Schema] = {}
        count = 0
        for name, prop in schema.properties.items():
            properties[name], n = rewrite_schema_refs(prop, renames)
            count += n
        if count:
            changes["properties"] = MappingProxyType(properties)
            changed += count
    for key in ("items", "additional_properties"):
        child = getattr(schema, key)
        if isinstance(child, Schema):
            new_child, n = rewrite_schema_refs(child, renames)
            if n:
                changes[key] = new_child
                changed += n
    return (dataclasses.replace(schema, **changes) if changes else schema), changed  # type: ignore[arg-type]


def _rewrite_operation_refs(op: Operation, renames: Mapping[str, str]) -> tuple[Operation, int]:
    changed = 0
    body = op.body_ref
    if body is not None and body in renames:
        body, changed = renames[body], 1
    responses = dict(op.response_refs)
    for code, target in responses.items():
        if target in renames:
            responses[code] = renames[target]
            changed += 1
    if not changed:
        return op, 0
    return dataclasses.replace(op, body_ref=body, response_refs=MappingProxyType(responses)), changed


def _rewrite_path_refs(item: PathItem, renames: Mapping[str, str]) -> tuple[PathItem, int]:
    operations: dict[str, Operation] = {}
    changed = 0
    for method, op in item.operations.items():
        operations[method], n = _rewrite_operation_refs(op, renames)
        changed += n
    if not changed:
        return item, 0
    return dataclasses.replace(item, operations=MappingProxyType(operations)), changed


def _without_gvks(schema: Schema) -> Schema:
    return dataclasses.replace(schema, group_version_kinds=())


def served_crd_schema_copies(document: Document) -> tuple[Document, int]:
    """Fold ``ObjectMeta_v2``-style copies back into the definitions they copy.

    When CRDs are installed, kube-apiserver 1.20 publishes their schemas merged with
    private copies of the meta types (``ObjectMeta_v2``, ``Scale_v2``, ``Status_v2`` …)
    that differ from the originals only in referring to each other and in lacking the
    GroupVersionKind extension. Generating them would give users two incompatible
    ``ObjectMeta`` classes. A copy is folded only when it says what its original says
    (every keyword the generator reads) after undoing the renames; anything else is kept
    as its own type.
    """
    definitions = document.definitions
    candidates = {
        name: m.group("base")
        for name in definitions
        if (m := _COPY_SUFFIX.match(name)) is not None and m.group("base") in definitions
    }
    folded: dict[str, str] = {}
    for name, base in sorted(candidates.items()):
        normalised, _ = rewrite_schema_refs(definitions[name], candidates)
        if _without_gvks(normalised) == _without_gvks(definitions[base]):
            folded[name] = base
    if not folded:
        return document, 0
    changed = len(folded)
    kept: dict[str, Schema] = {}
    for name, schema in definitions.items():
        if name not in folded:
            kept[name], n = rewrite_schema_refs(schema, folded)
            changed += n
    paths: dict[str, PathItem] = {}
    for path, item in document.paths.items():
        paths[path], n = _rewrite_path_refs(item, folded)
        changed += n
    return dataclasses.replace(document, definitions=MappingProxyType(kept),
                               paths=MappingProxyType(paths)), changed


SERVED_CRD_SCHEMA_COPIES = Fixup(
    name="served_crd_schema_copies",
    why="kube-apiserver publishes *_v2 copies of meta types next to CRD schemas",
    apply=served_crd_schema_copies,
)

#: Which fixup applies to which document, in the order they run. Builtin specs and CRD
#: files need none: the builtin documents are served without custom resources (v1.20) or
#: taken from the Kubernetes repository (v1.35), and ``--crd`` schemas are published by
#: our own conversion, which refers to the meta types themselves.
FIXUP_TABLE: tuple[FixupRule, ...] = (
    # Every /openapi/v2 of kube-apiserver 1.20 with CRDs installed has the copies (the
    # live v1.20.2 server of tests/integration/test_crd_offline_vs_cluster.py).
    FixupRule(SERVED_CRD_SCHEMA_COPIES, frozenset({Origin.CLUSTER}),
              KubernetesVersions(since=(1, 20), until=(1, 20)),
              served_custom_resources=True, required=True),
    # Other servers with custom resources have not been checked: the copies are folded
    # when they are there, and their absence is no error.
    FixupRule(SERVED_CRD_SCHEMA_COPIES, frozenset({Origin.CLUSTER}),
              KubernetesVersions(until=(1, 19), unversioned=True),
              served_custom_resources=True, required=False),
    FixupRule(SERVED_CRD_SCHEMA_COPIES, frozenset({Origin.CLUSTER}), KubernetesVersions(since=(1, 21)),
              served_custom_resources=True, required=False),
    # A file may be a served document saved to disk (tests/data/specs/…_served_with-6-crds
    # is one) or one written by hand: fold what is there, require nothing.
    FixupRule(SERVED_CRD_SCHEMA_COPIES, frozenset({Origin.FILE}), KubernetesVersions(unversioned=True),
              served_custom_resources=True, required=False),
)
