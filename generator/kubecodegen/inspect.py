"""The GVR model as rows: for ``kubecodegen inspect`` (table or JSON)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model.types import ApiModel, Resource
from .render.meta_runtime import MetaPlan, plan_meta, reachable_structs
from .render.plan import unrendered_reason
from .spec.errors import printable


def _unrendered_properties(model: ApiModel, meta: MetaPlan, r: Resource) -> dict[str, str]:
    """Properties of meta/v1 definitions the resource's objects use (through the kind or
    its list) that the runtime's meta/v1 classes lack, so the typed objects cannot carry
    them: ``{"<definition>/<property>": why}``."""
    if not meta.missing or r.struct_id is None:
        return {}
    used = reachable_structs(model, [i for i in (r.struct_id, r.list_struct_id) if i])
    return {m.key: m.describe(meta.runtime.source) for m in meta.missing if m.definition in used}


def resource_rows(model: ApiModel) -> list[dict[str, Any]]:
    """One JSON-ready object per resource, preferred versions first within a group."""
    meta = plan_meta(model)
    rows = []
    for group in model.groups:
        for gv in group.versions:
            for r in gv.resources:
                rows.append({
                    "group": r.group,
                    "version": r.version,
                    "resource": r.plural,
                    "kind": r.kind,
                    "namespaced": r.namespaced,
                    "verbs": list(r.verbs),
                    "subresources": {s.name: list(s.verbs) for s in r.subresources},
                    "connect": sorted(s.name for s in r.subresources if s.connect),
                    # subresources the typed clients leave out, and why (nothing silently)
                    "unrendered": {s.name: reason for s in r.subresources
                                   if r.struct_id is not None
                                   and (reason := unrendered_reason(s)) is not None},
                    # meta/v1 properties the runtime's classes lack (see render/meta_runtime)
                    "unrendered_properties": _unrendered_properties(model, meta, r),
                    "preferred": gv.version == group.preferred_version,
                    "python": gv.py_name,
                })
    return rows


def format_table(rows: list[dict[str, Any]],
                 aliases: Mapping[tuple[str, str, str],
                                  tuple[tuple[str, ...], tuple[str, ...]]] | None = None) -> str:
    """A ``kubectl api-resources -o wide``-like table, plus the subresources column.

    With ``aliases`` (a live cluster's short names and categories, see
    :mod:`.cluster_aliases`) the SHORTNAMES and CATEGORIES columns of kubectl are shown too.
    """
    header = ["NAME", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "SUBRESOURCES"]
    if aliases is not None:
        header[1:1] = ["SHORTNAMES"]
        header.append("CATEGORIES")
    table = [header]
    for row in rows:
        api_version = f"{row['group']}/{row['version']}" if row["group"] else row["version"]
        subs = ",".join(row["subresources"])
        line = [row["resource"], api_version, str(row["namespaced"]).lower(), row["kind"],
                ",".join(row["verbs"]), subs]
        if aliases is not None:
            short, categories = aliases.get((row["group"], row["version"], row["resource"]),
                                            ((), ()))
            line[1:1] = [",".join(short)]
            line.append(",".join(categories))
        table.append([printable(cell) for cell in line])
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in table)

