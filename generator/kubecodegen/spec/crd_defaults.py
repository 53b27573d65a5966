"""Server quirk: kube-apiserver publishes custom resources in /openapi/v2 without ``default``
(and without the type of a ``nullable`` node, see :func:`_restore_nullable`).

The served schema keeps ``required`` but drops every ``default`` (1.20 does; the CRD
itself still has them), so a property the server fills in (external-secrets Password
``allowRepeat``, OpenTelemetryCollector ``managementState``) would look like one every
manifest must spell out. The generator reads ``default`` to make such a property optional
(see ``model.definitions.server_defaulted``); this puts the defaults back from the CRD
objects, which ``--from-cluster`` reads next to /openapi/v2.

It is not one of the records fixups (:mod:`kubecodegen.fixups`), on purpose: it does not
correct the document from what the document says but adds what a *second* source, the
CRD objects, says; it runs where the document is assembled (here and in ``merge_crds``,
both before validation), so the ``--crd`` and ``--from-cluster`` paths hand the same JSON
to validation and parsing; and finding nothing to restore is normal (CRDs without
defaults, a user who may not list CRDs), so it cannot be a fixup that must change something.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_GVK = "x-kubernetes-group-version-kind"
_MAX_DEPTH = 128  # CRD schemas nest far less; a deeper one is not followed any further


def _definitions_by_gvk(document: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    definitions = document.get("definitions")
    if not isinstance(definitions, dict):
        return found
    for schema in definitions.values():
        entries = schema.get(_GVK) if isinstance(schema, dict) else None
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, dict):
                found[(str(entry.get("group", "")), str(entry.get("version", "")),
                       str(entry.get("kind", "")))] = schema
    return found


def _restore_nullable(target: dict[str, Any], origin: dict[str, Any]) -> bool:
    """Server quirk: /openapi/v2 publishes a ``nullable`` node without its type, items and
    properties (v2 has no way to say "or null"), so ``note: {type: string, nullable: true}``
    is served as ``note: {}`` and would be typed ``Any``. /openapi/v3 keeps both; this puts
    the CRD's own node back (converted like the rest of the published schema) with
    ``nullable: true``, so v2, v3 and ``--crd`` give the same ``str | None``."""
    if origin.get("nullable") is not True or target.get("nullable") is True or "type" in target:
        return False
    from .crd_publish import schema_for_v2  # crd_publish uses this module: import when needed

    node = schema_for_v2({k: v for k, v in origin.items() if k != "nullable"})
    for key in ("type", "items", "properties", "required", "additionalProperties"):
        if key in node:
            target[key] = node[key]
    target["nullable"] = True
    return True


def _restore_junctions(target: dict[str, Any], origin: dict[str, Any]) -> int:
    """Server quirk: /openapi/v2 drops ``oneOf``/``anyOf`` (v3 keeps them); the branches'
    ``required`` lists are put back from the CRD, so v2, v3 and ``--crd`` say the same."""
    restored = 0
    for key in ("oneOf", "anyOf"):
        branches = origin.get(key)
        if key not in target and isinstance(branches, list) and all(isinstance(b, dict) for b in branches):
            target[key] = [{"required": list(b["required"])} if isinstance(b.get("required"), list) else {}
                           for b in branches]
            restored += 1
    return restored


def _copy_defaults(published: dict[str, Any], source: dict[str, Any]) -> int:
    """Copy ``default`` (and nullable nodes' types, see :func:`_restore_nullable`) from
    ``source`` onto the same places of ``published``; the count."""
    restored = 0
    pending: list[tuple[dict[str, Any], dict[str, Any], int]] = [(published, source, 0)]
    while pending:
        target, origin, depth = pending.pop()
        restored += _restore_nullable(target, origin)
        restored += _restore_junctions(target, origin)
        if "default" in origin and "default" not in target:
            target["default"] = origin["default"]
            restored += 1
        if depth >= _MAX_DEPTH:
            continue
        target_props, origin_props = target.get("properties"), origin.get("properties")
        if isinstance(target_props, dict) and isinstance(origin_props, dict):
            for name, child in origin_props.items():
                if isinstance(child, dict) and isinstance(target_props.get(name), dict):
                    pending.append((target_props[name], child, depth + 1))
        for key in ("items", "additionalProperties"):
            if isinstance(target.get(key), dict) and isinstance(origin.get(key), dict):
                pending.append((target[key], origin[key], depth + 1))
    return restored


def restore_crd_defaults(document: dict[str, Any], crds: Iterable[Any]) -> int:
    """Put the ``default`` values of ``crds`` (apiextensions/v1 CRD objects) back into the
    published definitions of ``document``, in place; returns how many were restored.

    Defaults the document already has are kept, and anything malformed is skipped: the
    CRD list is a hint, the document stays the source of truth.
    """
    by_gvk = _definitions_by_gvk(document)
    restored = 0
    for crd in crds:
        spec = crd.get("spec") if isinstance(crd, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("names"), dict):
            continue
        group, kind = str(spec.get("group", "")), str(spec["names"].get("kind", ""))
        versions = spec.get("versions")
        for version in versions if isinstance(versions, list) else []:
            if not isinstance(version, dict):
                continue
            schema = version.get("schema")
            source = schema.get("openAPIV3Schema") if isinstance(schema, dict) else None
            published = by_gvk.get((group, str(version.get("name", "")), kind))
            if isinstance(source, dict) and published is not None:
                restored += _copy_defaults(published, source)
    return restored
