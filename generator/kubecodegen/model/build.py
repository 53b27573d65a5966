"""Fixed-up document → :class:`ApiModel`: the one entry point of the model layer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

from kubecodegen_runtime.meta import version_priority

from .. import naming
from ..fixups import FixedDocument
from ..spec.records import Schema
from .definitions import DefinitionsBuilder, ModelError
from .resources import ResourceAccumulator, collect_resources, ordered_verbs
from .shapes import share_identical_shapes
from .types import (
    ApiModel,
    ArrayOf,
    Group,
    GroupVersion,
    GroupVersionKind,
    MapOf,
    Resource,
    Skipped,
    StructRef,
    StructType,
    Subresource,
    TypeRef,
    UnionOf,
)

__all__ = ["ModelError", "build_model"]


def _namespace_group_versions(definitions: Mapping[str, Schema]) -> dict[str, tuple[str, str]]:
    """Definition namespaces whose kinds all belong to exactly one group-version."""
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for name, schema in definitions.items():
        for gvk in schema.group_version_kinds:
            seen[naming.definition_namespace(name)].add((gvk.group, gvk.version))
    return {ns: next(iter(gvs)) for ns, gvs in seen.items() if len(gvs) == 1}


def _module_assigner(namespaces: list[str], ns_gv: dict[str, tuple[str, str]],
                     group_names: Mapping[str, str],
                     selected: Collection[str] | None = None) -> dict[str, str]:
    """Module name per definition namespace, unique: later claimants get a hash suffix.

    Namespaces of built-in groups claim first, then those of the selected (generated)
    groups, so neither a custom group nor an unselected one can rename their modules.
    """
    def order(ns: str) -> tuple[bool, bool, bool, str]:
        group = ns_gv[ns][0] if ns in ns_gv else None
        return (group is None, not (group is not None and naming.is_builtin_group(group)),
                not (group is not None and (selected is None or _selects(group, selected))), ns)

    result: dict[str, str] = {}
    claimed: dict[str, str] = {}
    for ns in sorted(namespaces, key=order):
        module = naming.namespace_module(ns, ns_gv, group_names)
        if module in claimed and claimed[module] != ns:
            module = naming.with_hash_suffix(module, ns)
        claimed[module] = ns
        result[ns] = module
    return result


def _reachable(roots: set[str], structs: dict[str, StructType]) -> set[str]:
    """Struct ids reachable from ``roots`` through field types."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        struct_id = stack.pop()
        if struct_id in seen or struct_id not in structs:
            continue
        seen.add(struct_id)
        for f in structs[struct_id].fields:
            stack.extend(_struct_refs(f.type))
    return seen


def _struct_refs(ref: TypeRef) -> list[str]:
    if isinstance(ref, StructRef):
        return [ref.struct_id]
    if isinstance(ref, ArrayOf):
        return _struct_refs(ref.item)
    if isinstance(ref, MapOf):
        return _struct_refs(ref.value)
    if isinstance(ref, UnionOf):
        return [s for option in ref.options for s in _struct_refs(option)]
    return []


def _selects(group: str, wanted: Collection[str]) -> bool:
    return group in wanted or (group == "" and "core" in wanted)


def build_model(fixed: FixedDocument, groups: Collection[str] | None = None) -> ApiModel:
    """Build the model of a parsed, fixed-up document (records only; nothing is modified).

    With ``groups``, only those API groups (``core`` for the legacy group) are kept,
    with the types they need; every other definition is recorded as skipped.
    """
    doc = fixed.document
    definitions = doc.definitions
    accumulators = collect_resources(doc.paths)
    if groups is not None:
        known = {acc.group for acc in accumulators}
        unknown = sorted(g for g in groups if not (g in known or (g == "core" and "" in known)))
        if unknown:
            raise ModelError("/paths", f"no such API group(s) in this document: {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(g or 'core' for g in known))}")
        accumulators = [acc for acc in accumulators if _selects(acc.group, groups)]

    ns_gv = _namespace_group_versions(definitions)
    all_groups = {acc.group for acc in accumulators} | {g for g, _ in ns_gv.values()}
    group_names = naming.group_py_names(all_groups, preferred={acc.group for acc in accumulators})
    namespaces = sorted({naming.definition_namespace(n) for n in definitions})
    modules_by_ns = _module_assigner(namespaces, ns_gv, group_names, groups)

    builder = DefinitionsBuilder(definitions, lambda ns: modules_by_ns[ns],
                                 custom_resource_kinds=doc.custom_resource_kinds)
    builder.build()
    definition_structs = {s for s in builder.structs if s in definitions}
    if len(definition_structs) + len(builder.skipped) != len(definitions):
        accounted = definition_structs | {s.definition for s in builder.skipped}
        missing = sorted(set(definitions) - accounted)
        raise ModelError("/definitions", f"definitions neither generated nor skipped: {missing[:5]}")

    structs, _copies = share_identical_shapes(builder.structs, builder.inline_order)
    skipped = list(builder.skipped)
    if groups is not None:
        roots = {ref for acc in accumulators for ref in (acc.item_ref, acc.list_ref) if ref}
        roots |= {ref for acc in accumulators for sub in acc.subresources.values()
                  for ref in (sub.request_ref, sub.response_ref) if ref}
        keep = _reachable(roots, structs)
        skipped += [Skipped(s, "not used by the selected groups") for s in sorted(structs)
                    if s not in keep and s in definitions]
        structs = {s: t for s, t in structs.items() if s in keep}

    modules: dict[str, list[StructType]] = defaultdict(list)
    for struct in structs.values():
        modules[struct.module].append(struct)
    module_index = {m: tuple(s.struct_id for s in sorted(structs, key=lambda s: s.name))
                    for m, structs in sorted(modules.items())}

    by_group: dict[str, list[GroupVersion]] = defaultdict(list)
    per_gv: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for acc in accumulators:
        resource = _resource(acc, structs)
        if resource is not None:
            per_gv[(acc.group, acc.version)].append(resource)
    for (group, version), resources in sorted(per_gv.items()):
        by_group[group].append(GroupVersion(
            group=group, version=version,
            py_name=naming.module_name(group_names[group], version),
            resources=tuple(sorted(resources, key=lambda r: r.plural))))
    model_groups = []
    for group in sorted(by_group):
        versions = sorted(by_group[group], key=lambda gv: version_priority(gv.version))
        model_groups.append(Group(name=group, py_name=group_names[group], versions=tuple(versions),
                                  preferred_version=versions[0].version))
    return ApiModel(
        title=doc.title, spec_version=doc.version,
        groups=tuple(model_groups), structs=structs, modules=module_index,
        skipped=tuple(skipped), fixups_applied=fixed.applied,
        skipped_fields=tuple(builder.skipped_fields),
        custom_resource_kinds=doc.custom_resource_kinds, crd_scales=doc.crd_scales,
        crd_schemas=doc.crd_schemas)


def _resource(acc: ResourceAccumulator, structs: dict[str, StructType]) -> Resource | None:
    kind_gvk: GroupVersionKind | None = next(
        (k for k in acc.kinds if k.group == acc.group and k.version == acc.version), None)
    if kind_gvk is None and acc.kinds:
        kind_gvk = acc.kinds[0]
    if kind_gvk is None:
        return None  # a path with no kind (e.g. a bare proxy): nothing to type
    subresources = tuple(
        Subresource(
            name=sub.name, verbs=ordered_verbs(sub.verbs), connect=sub.connect,
            request_type=sub.request_ref if sub.request_ref in structs else None,
            response_type=sub.response_ref if sub.response_ref in structs else None,
            request_gvk=sub.gvk)
        for sub in sorted(acc.subresources.values(), key=lambda s: s.name))
    return Resource(
        group=acc.group, version=acc.version, plural=acc.plural, kind=kind_gvk.kind,
        namespaced=acc.namespaced, verbs=ordered_verbs(acc.verbs), subresources=subresources,
        struct_id=acc.item_ref if acc.item_ref in structs else None,
        list_struct_id=acc.list_ref if acc.list_ref in structs else None)
