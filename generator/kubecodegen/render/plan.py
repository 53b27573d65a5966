"""Decide every output file of a generated package: (path, template, context) or verbatim bytes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import __version__, naming
from ..model.types import (
    ApiModel,
    ArrayOf,
    GroupVersion,
    NullAs,
    Primitive,
    Resource,
    StructRef,
    StructType,
    Subresource,
)
from .annotations import (
    ModuleImports,
    annotation,
    field_default,
    nullable_annotation,
    runtime_submodule,
)
from .apply_plan import apply_module_context
from .env import Code, type_expression
from .fake_plan import fake_api_context, fake_module_context
from .meta_runtime import (
    RUNTIME_APPLY_MODULE,
    RUNTIME_APPLY_PATH,
    RUNTIME_MODULE,
    RUNTIME_PATH,
    MetaPlan,
    is_meta_v1,
    plan_meta,
    struct_refs,
)
from .runtime_link import VENDORED_NAME, runtime_link, vendored_files

Identifier = naming.Identifier


@dataclass(frozen=True)
class PlannedFile:
    """One output file. ``template`` files are rendered and formatted; others are copied."""

    path: str
    template: str | None = None
    context: dict[str, Any] = field(default_factory=dict, hash=False)
    content: bytes | None = None


def _module_context(model: ApiModel, module: str, rt: Code,
                    struct_ids: tuple[str, ...] | None = None,
                    shared: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The context of one model file: ``module``'s structs, or of a split module the
    ``struct_ids`` of one of its kinds (see :func:`kind_files`).

    ``rt`` is the runtime package as the file imports it; structs in ``shared`` (struct
    id -> class name in the runtime's meta/v1) are re-exported from the runtime instead
    of defined (see :mod:`.meta_runtime`).
    """
    shared = shared or {}
    imports = ModuleImports(module)
    ids = struct_ids if struct_ids is not None else model.modules[module]
    exported = [Identifier(model.structs[i].name) for i in ids]
    reexports = sorted((shared[i], model.structs[i].name) for i in ids if i in shared)
    structs = []
    for struct_id in (i for i in ids if i not in shared):
        struct: StructType = model.structs[struct_id]
        fields = []
        null_fields = []
        for f in struct.fields:
            raw = f.type is Primitive.RAW
            if f.null_as is None or f.null_as is NullAs.NONE:
                text = annotation(f.type, model.structs, imports)
                if (not f.required or f.null_as is NullAs.NONE) and not raw:
                    text += " | None"
            else:  # a required container the server may send as null: reads as empty
                text = nullable_annotation(f.type, model.structs, imports)
                null_fields.append({"py_name": f.py_name, "empty": Code(f.null_as.value)})
            fields.append({
                "py_name": f.py_name,
                "annotation": type_expression(text),
                "default": field_default(f.required, f.wire_name, f.py_name,
                                          "msgspec.Raw()" if raw else "None"),
                "description": f.description,
                "raw": raw,
            })
        structs.append({"name": struct.name, "description": struct.description,
                        "gvk": struct.gvk, "fields": fields,
                        "raw_fields": [f["py_name"] for f in fields if f["raw"]],
                        "null_fields": null_fields})
    has_gvk = any(s["gvk"] for s in structs)
    typing_names = sorted(({"Any", "Literal"} & imports.names) | ({"ClassVar"} if has_gvk else set()))
    stdlib = []
    if "datetime" in imports.names:
        stdlib.append("from datetime import datetime")
    if typing_names:
        stdlib.append(f"from typing import {', '.join(typing_names)}")
    runtime = []
    if reexports:
        names = ", ".join(f"{Identifier(name)} as {Identifier(local)}" for name, local in reexports)
        runtime.append(f"from {runtime_submodule(rt, RUNTIME_MODULE)} import {names}")
    if has_gvk:
        runtime.append(f"from {runtime_submodule(rt, 'meta')} import GroupVersionKind")
    bases = sorted({"Object" if s["gvk"] else "Model" for s in structs})
    if any(s["null_fields"] for s in structs):
        bases.append("is_null")
    if bases:
        runtime.append(f"from {runtime_submodule(rt, 'model')} import {', '.join(bases)}")
    runtime_types = sorted(imports.names & {"DateTimeString", "IntOrString", "MicroTime", "Nullable",
                                            "Quantity"})
    if runtime_types:
        runtime.append(f"from {runtime_submodule(rt, 'types')} import {', '.join(runtime_types)}")
    gvks = [model.structs[i].gvk for i in ids]
    gvs = sorted({gvk.api_version for gvk in gvks if gvk is not None})
    what = f"the {', '.join(gvs)} API" if gvs else "shared"
    docstring = f"Models of {what} types ({module})."
    if reexports:
        docstring += (f"\n\nThe apimachinery meta/v1 types are re-exported from the runtime's "
                      f"``{RUNTIME_MODULE}``: one class in every package sharing that runtime.")
    return {
        "docstring": docstring,
        "exported": exported,
        "structs": structs,
        "stdlib_imports": [Code(line) for line in stdlib],
        "runtime_imports": [Code(line) for line in runtime],
        "sibling_modules": [Identifier(m) for m in sorted(imports.modules)],
    }


def kind_files(model: ApiModel, module: str) -> dict[str, tuple[str, ...]] | None:
    """How a custom resources' model module is split into one file per kind, or None.

    Why: every kind of a group-version lives in one module, and CRD schemas are big (Argo CD
    and Argo Workflows share one group-version: 10 MB of models, 0.7-1.8 s to import for
    one kind). A module is split when it holds custom resources' inline types, at least two
    kinds, and nothing but kinds, their lists and their inline types -- so built-in modules,
    whose kinds share named types (PodSpec, Container), are never split. Each kind's file
    (``_<module>_<kind>``, private) holds the kind, its list (the definition whose
    ``items`` are the kind) and the kind's inline types; ``models/<module>`` stays the public
    name and imports a kind's file on first access (module ``__getattr__``).
    """
    struct_ids = model.modules[module]
    if not any("/" in i for i in struct_ids):
        return None
    definitions = [i for i in struct_ids if "/" not in i]
    kinds = [i for i in definitions if model.structs[i].gvk is not None]
    owner: dict[str, str] = {}
    for struct_id in kinds:
        items = next((f.type for f in model.structs[struct_id].fields if f.wire_name == "items"), None)
        item_id = items.item.struct_id if (isinstance(items, ArrayOf) and isinstance(items.item, StructRef)) \
            else None
        owner[struct_id] = item_id if item_id in kinds and item_id != struct_id else struct_id
    roots = sorted({o for o in owner.values()}, key=lambda i: model.structs[i].name)
    if len(definitions) != len(kinds) or len(roots) < 2:
        return None
    for struct_id in struct_ids:
        if "/" in struct_id:
            owner[struct_id] = owner.get(struct_id.split("/", 1)[0], "")
    if any(owner[i] not in roots for i in struct_ids):
        return None  # pragma: no cover - an inline type always has its definition in the module
    for struct_id in struct_ids:  # a file must not need a sibling kind's file by a bare name
        for f in model.structs[struct_id].fields:
            for target in struct_refs(f.type):
                if model.structs[target].module == module and owner[target] != owner[struct_id]:
                    return None
    taken: set[str] = set()
    split: dict[str, tuple[str, ...]] = {}
    for root in roots:
        file_module = naming.unique(f"_{module}_{naming.snake_case(model.structs[root].name)}", taken, "_")
        split[file_module] = tuple(i for i in struct_ids if owner[i] == root)
    return split


def _lazy_docstring(model: ApiModel, module: str) -> str:
    gvs = sorted({s.gvk.api_version for i in model.modules[module] if (s := model.structs[i]).gvk})
    return (f"Models of the {', '.join(gvs)} API types ({module}); each kind's classes are "
            "imported on first use.")


def plan_package(model: ApiModel, package: str, source_title: str,
                 vendor_runtime: bool = False, meta: MetaPlan | None = None) -> list[PlannedFile]:
    """Every file of the package, in a stable order; ``vendor_runtime`` copies the runtime
    in as ``<package>/_runtime`` instead of importing the installed library. ``meta`` says
    which meta/v1 definitions are the runtime's (default: :func:`.meta_runtime.plan_meta`)."""
    link = runtime_link(vendor_runtime)
    rt = link.from_subpackage()
    shared = (meta if meta is not None else plan_meta(model)).shared
    common = {"generator_version": __version__, "source_title": source_title,
              "package": Identifier(package), **link.context()}
    files: list[PlannedFile] = [
        PlannedFile("__init__.py", "package/init.py.jinja", dict(common)),
        PlannedFile("py.typed", content=b""),
    ]
    module_api: dict[str, str] = {}
    for struct in model.structs.values():
        if struct.gvk is not None:
            module_api.setdefault(struct.module, struct.gvk.api_version)
    files.append(PlannedFile("models/__init__.py", "package/models_init.py.jinja", {
        **common,
        "modules": [{"name": Identifier(m), "api_version": module_api.get(m, "")}
                    for m in sorted(model.modules)],
    }))
    file_of: dict[str, str] = {}  # struct id -> the model file defining it, for split modules
    for module in sorted(model.modules):
        split = kind_files(model, module)
        if split is None:
            files.append(PlannedFile(f"models/{module}.py", "models/module.py.jinja",
                                     {**common, **_module_context(model, module, rt, shared=shared)}))
            continue
        for file_module, struct_ids in split.items():
            files.append(PlannedFile(f"models/{file_module}.py", "models/module.py.jinja",
                                     {**common, **_module_context(model, module, rt, struct_ids, shared)}))
            file_of.update(dict.fromkeys(struct_ids, file_module))
        files.append(PlannedFile(f"models/{module}.py", "models/lazy_module.py.jinja", {
            **common, "docstring": _lazy_docstring(model, module),
            "names": [{"name": Identifier(model.structs[i].name), "module": Identifier(file_module)}
                      for file_module, struct_ids in split.items() for i in struct_ids]}))
    files.extend(plan_apply_configurations(model, common, rt, shared))
    kinds = sorted(
        ({"group": s.gvk.group, "version": s.gvk.version, "kind": s.gvk.kind,
          "module": f"models.{file_of.get(s.struct_id, s.module)}", "name": s.name}
         for s in model.structs.values() if s.gvk is not None),
        key=lambda e: (e["group"], e["version"], e["kind"]))
    files.append(PlannedFile("scheme.py", "scheme/scheme.py.jinja", {**common, "kinds": kinds}))
    files.extend(plan_clientset(model, common))
    files.extend(plan_fake(model, common))
    if vendor_runtime:
        for rel, content in vendored_files():
            files.append(PlannedFile(f"{VENDORED_NAME}/{rel}", content=content))
    return files


def plan_apply_configurations(model: ApiModel, common: dict[str, Any], rt: Code,
                              shared: Mapping[str, str]) -> list[PlannedFile]:
    """``applyconfigurations/``: one module per model module, split per kind where the model
    module is (see :mod:`.apply_plan`); the package imports none of them."""
    models = Code("..models")
    files = [PlannedFile("applyconfigurations/__init__.py", "package/applyconfigurations_init.py.jinja",
                         {**common, "modules": [Identifier(m) for m in sorted(model.modules)]})]
    for module in sorted(model.modules):
        split = kind_files(model, module)
        if split is None:
            files.append(PlannedFile(
                f"applyconfigurations/{module}.py", "applyconfigurations/module.py.jinja",
                {**common, **apply_module_context(model, module, rt, models, shared=shared,
                                                  shared_module=RUNTIME_APPLY_MODULE)}))
            continue
        for file_module, struct_ids in split.items():
            files.append(PlannedFile(
                f"applyconfigurations/{file_module}.py", "applyconfigurations/module.py.jinja",
                {**common, **apply_module_context(model, module, rt, models, struct_ids, shared,
                                                  RUNTIME_APPLY_MODULE)}))
        files.append(PlannedFile(f"applyconfigurations/{module}.py", "models/lazy_module.py.jinja", {
            **common, "docstring": _lazy_docstring(model, module).replace("Models of", "Apply configurations of"),
            "names": [{"name": Identifier(model.structs[i].name), "module": Identifier(file_module)}
                      for file_module, struct_ids in split.items() for i in struct_ids]}))
    return files


def _runtime_meta_ids(model: ApiModel) -> tuple[str, ...]:
    """The meta/v1 definitions of ``model``, checked to fit in the runtime: all in one
    module, and none referring to a type outside meta/v1."""
    ids = tuple(i for module in sorted(model.modules) for i in model.modules[module] if is_meta_v1(i))
    if not ids:
        raise ValueError("the spec has no io.k8s.apimachinery.pkg.apis.meta.v1 definitions")
    outside = sorted({target for i in ids for f in model.structs[i].fields
                      for target in struct_refs(f.type) if not is_meta_v1(target)})
    if outside:
        raise ValueError(f"meta/v1 definitions refer to types outside meta/v1: {', '.join(outside)}")
    modules = {model.structs[i].module for i in ids}
    if len(modules) != 1:
        raise ValueError(f"meta/v1 definitions are spread over modules {sorted(modules)}")
    return ids


def plan_runtime_meta(model: ApiModel, source_title: str) -> PlannedFile:
    """The runtime's own meta/v1 module (``kubecodegen_runtime/apis/meta_v1.py``), rendered
    from ``model`` like any model module but importing its siblings package-relatively
    (``from ..model import Model``), so a vendored ``_runtime`` copy keeps working.

    Every meta/v1 definition of ``model`` is in it; one that refers to a type outside
    meta/v1 could not live in the runtime and fails loudly.
    """
    ids = _runtime_meta_ids(model)
    context = _module_context(model, model.structs[ids[0]].module, Code(".."), ids)
    context["docstring"] = (
        f"apimachinery meta/v1 (``io.k8s.apimachinery.pkg.apis.meta.v1``) from {source_title}.\n\n"
        "Generated by the generator from the newest Kubernetes spec it bundles "
        "(``scripts/generated.py write``) and re-exported by the ``models/meta_v1`` module of "
        "every generated package, so ObjectMeta, Status and the rest are one class everywhere. "
        "See docs/runtime.md for how it follows new Kubernetes releases.")
    common = {"generator_version": __version__, "source_title": source_title}
    return PlannedFile(RUNTIME_PATH, "models/module.py.jinja", {**common, **context})


def plan_runtime_apply_meta(model: ApiModel, source_title: str) -> PlannedFile:
    """The runtime's meta/v1 apply configurations (``applyconfigurations/meta_v1.py``), from
    the same model and with the same checks as :func:`plan_runtime_meta`."""
    ids = _runtime_meta_ids(model)
    module = model.structs[ids[0]].module
    context = apply_module_context(model, module, Code(".."), Code("..apis"), ids)
    context["docstring"] = (
        f"Apply configurations of apimachinery meta/v1 from {source_title}.\n\n"
        "Generated with ``apis.meta_v1`` (``scripts/generated.py write``) and re-exported by the "
        "``applyconfigurations/meta_v1`` module of every generated package.")
    common = {"generator_version": __version__, "source_title": source_title}
    return PlannedFile(RUNTIME_APPLY_PATH, "applyconfigurations/module.py.jinja", {**common, **context})


# -- clientset -------------------------------------------------------------------------

# subresource name -> (mixin, attribute naming its type or None, which type the mixin takes)
_MIXINS: dict[str, tuple[str, str | None, str]] = {
    "status": ("WithStatus", None, "resource"),
    "resize": ("WithResize", None, "resource"),
    "scale": ("WithScale", "scale_type", "response"),
    "eviction": ("WithEviction", None, "request"),
    "binding": ("WithBinding", None, "request"),
    "token": ("WithToken", "token_request_type", "response"),
    "approval": ("WithApproval", None, "resource"),
    "finalize": ("WithFinalize", None, "resource"),
    "ephemeralcontainers": ("WithEphemeralContainers", "ephemeral_containers_type", "response"),
    "log": ("WithLog", None, "none"),
    # connect subresources with a typed client: WebSocket channel streams (client/_async/streams.py)
    "exec": ("WithExec", None, "none"),
    "attach": ("WithAttach", None, "none"),
    # ... and plain HTTP relayed by the apiserver (client/_async/proxy.py)
    "proxy": ("WithProxy", None, "none"),
    # ... and TCP forwarded over WebSocket (client/_async/portforward.py)
    "portforward": ("WithPortForward", None, "none"),
}


@dataclass(frozen=True)
class Unrendered:
    """A subresource the typed clients do not offer, and why (``inspect`` lists these and
    ``generate`` warns about the ones that are not connect/streaming endpoints)."""

    resource: Resource
    subresource: Subresource
    reason: str

    @property
    def path(self) -> str:
        gv = f"{self.resource.group}/{self.resource.version}" if self.resource.group \
            else self.resource.version
        return f"{gv} {self.resource.plural}/{self.subresource.name}"


def unrendered_reason(sub: Subresource) -> str | None:
    """Why ``sub`` gets no typed client method, or ``None`` when a mixin renders it."""
    if sub.name not in _MIXINS:
        if sub.connect:
            return "connect (streaming) subresource: no typed client yet"
        return "no client mixin for this subresource"
    takes = _MIXINS[sub.name][2]
    struct_id = sub.response_type if takes == "response" else \
        sub.request_type if takes == "request" else ""
    if struct_id is None:
        return f"the spec gives no {takes} type for it"
    return None


def unrendered_subresources(model: ApiModel) -> list[Unrendered]:
    """Every subresource of a typed resource that the clientset leaves out, in model order."""
    return [Unrendered(r, sub, reason)
            for r in model.resources() if r.struct_id is not None
            for sub in r.subresources
            if (reason := unrendered_reason(sub)) is not None]


_STANDARD_VERBS = frozenset(
    {"get", "list", "watch", "create", "update", "patch", "apply", "delete", "deletecollection"})
# verb -> (mixin, whether it also takes the list type)
_VERB_MIXINS: dict[str, tuple[str, bool]] = {
    "get": ("CanGet", False), "list": ("CanList", True), "watch": ("CanWatch", False),
    "create": ("CanCreate", False), "update": ("CanUpdate", False), "patch": ("CanPatch", False),
    "apply": ("CanApply", False), "delete": ("CanDelete", False),
    "deletecollection": ("CanDeleteCollection", True),
}


def _verb_bases(namespaced: bool, verbs: tuple[str, ...], type_: str,
                list_type: str) -> list[dict[str, str]]:
    """A resource serving every standard verb gets the all-verbs base (client-go's default);
    any other gets a scope base plus one mixin per verb it serves (client-go's
    ``onlyVerbs``), so calling a verb the server lacks is a type error, not a 405."""
    both = type_expression(f"{type_}, {list_type}")
    if set(verbs) >= _STANDARD_VERBS:
        return [{"name": Identifier("NamespacedResource" if namespaced else "ClusterResource"),
                 "arg": both}]
    bases = [{"name": Identifier("NamespacedScope" if namespaced else "ClusterScope"), "arg": both}]
    for verb in verbs:
        if verb in _VERB_MIXINS:
            mixin, with_list = _VERB_MIXINS[verb]
            bases.append({"name": Identifier(mixin), "arg": both if with_list else type_expression(type_)})
    return bases


def _group_class(py_name: str) -> Identifier:
    return Identifier(naming.group_version_class(py_name) + "Client")


def _clientset_module_context(model: ApiModel, gv: GroupVersion) -> dict[str, Any] | None:
    imports = ModuleImports(module="")  # every model type is module-qualified here
    resources = []
    runtime_names = {"AllNamespaces", "AsyncAllNamespaces", "RESTClient", "AsyncRESTClient"}
    taken: set[str] = set()
    for r in gv.resources:
        if r.struct_id is None:
            continue  # the spec defines no type for it: nothing typed to offer
        type_ = type_expression(annotation(StructRef(r.struct_id), model.structs, imports))
        list_type = type_expression(annotation(StructRef(r.list_struct_id), model.structs, imports)) \
            if r.list_struct_id else type_
        accessor = naming.accessor_name(r.plural, r.kind, taken)
        mixins = []
        for sub in r.subresources:
            if unrendered_reason(sub) is not None:
                continue  # reported by unrendered_subresources (inspect, generate's warnings)
            mixin, attr, takes = _MIXINS[sub.name]
            arg: Code | None
            if takes == "resource":
                arg = type_
            elif takes == "none":
                arg = None
            else:
                struct_id = sub.response_type if takes == "response" else sub.request_type
                assert struct_id is not None  # unrendered_reason checked it
                arg = type_expression(annotation(StructRef(struct_id), model.structs, imports))
            mixins.append({"name": Identifier(mixin), "attr": Identifier(attr) if attr else None,
                           "arg": arg})
            runtime_names |= {mixin, f"Async{mixin}"}
        bases = _verb_bases(r.namespaced, r.verbs, type_, list_type)
        runtime_names |= {b["name"] for b in bases} | {f"Async{b['name']}" for b in bases}
        resources.append({
            "group": r.group, "version": r.version, "plural": r.plural, "kind": r.kind,
            "namespaced": r.namespaced, "verbs": r.verbs, "api_version": r.api_version,
            "subresources": [{"name": s.name, "verbs": s.verbs} for s in r.subresources],
            "accessor": accessor, "class_name": Identifier(naming.pascal_case(accessor)),
            "const": Identifier(accessor.upper()), "type": type_, "list_type": list_type, "mixins": mixins,
            "bases": bases, "listable": "list" in r.verbs,
            "informable": {"list", "watch"} <= set(r.verbs) and r.list_struct_id is not None,
            "struct_id": r.struct_id, "py_name": gv.py_name,
        })
    if not resources:
        return None
    return {
        "api_version": f"{gv.group}/{gv.version}" if gv.group else gv.version,
        "py_name": gv.py_name, "group_class": _group_class(gv.py_name),
        "resources": resources, "runtime_names": [Identifier(n) for n in sorted(runtime_names)],
        "model_modules": [Identifier(m) for m in sorted(imports.modules)],
    }


def _cache_context(context: dict[str, Any]) -> dict[str, Any] | None:
    """Listers and informers: every resource of a group-version with list and watch."""
    resources = [dict(r) for r in context["resources"] if r["informable"]]
    if not resources:
        return None
    taken: set[str] = set()
    for r in resources:
        base = naming.class_name(r["kind"])
        r["lister"] = naming.unique(f"{base}Lister", taken)
        r["informer"] = naming.unique(f"{base}Informer", taken)
    modules = [Identifier(m) for m in sorted({r["type"].split(".")[0] for r in resources})]
    return {**context, "resources": resources, "model_modules": modules,
            "group_class": Identifier(context["group_class"].removesuffix("Client") + "Informers"),
            "any_namespaced": any(r["namespaced"] for r in resources)}


def _clientset_contexts(model: ApiModel) -> list[tuple[GroupVersion, dict[str, Any]]]:
    """The context of each group-version module of the clientset (those with a typed client)."""
    return [(gv, context) for gv in model.group_versions()
            if (context := _clientset_module_context(model, gv)) is not None]


def plan_fake(model: ApiModel, common: dict[str, Any]) -> list[PlannedFile]:
    """``fake.py`` and ``_fake_api.py`` (see :mod:`.fake_plan`), over the clientset's resources."""
    resources = [r for _, context in _clientset_contexts(model) for r in context["resources"]]
    return [
        PlannedFile("fake.py", "fake/fake.py.jinja",
                    {**common, **fake_module_context(model, common["package"], resources)}),
        PlannedFile("_fake_api.py", "fake/fake_api.py.jinja",
                    {**common, **fake_api_context(model, resources)}),
    ]


def plan_clientset(model: ApiModel, common: dict[str, Any]) -> list[PlannedFile]:
    """The ClientSet, and the listers and informers built on its resource classes."""
    files = []
    group_versions = []
    cached_versions = []
    for gv, context in _clientset_contexts(model):
        files.append(PlannedFile(f"clientset/{gv.py_name}.py", "clientset/group.py.jinja",
                                 {**common, **context}))
        group_versions.append({"py_name": gv.py_name, "module": gv.py_name,
                               "group_class": _group_class(gv.py_name)})
        cache = _cache_context(context)
        if cache is not None:
            files.append(PlannedFile(f"listers/{gv.py_name}.py", "listers/group.py.jinja",
                                     {**common, **cache}))
            files.append(PlannedFile(f"informers/{gv.py_name}.py", "informers/group.py.jinja",
                                     {**common, **cache}))
            cached_versions.append({"py_name": gv.py_name, "module": gv.py_name,
                                    "group_class": cache["group_class"]})
    group_versions.sort(key=lambda g: g["py_name"])
    cached_versions.sort(key=lambda g: g["py_name"])
    files.append(PlannedFile("clientset/__init__.py", "package/clientset_init.py.jinja", dict(common)))
    files.append(PlannedFile("client.py", "clientset/clientset.py.jinja",
                             {**common, "group_versions": group_versions}))
    files.append(PlannedFile("listers/__init__.py", "package/listers_init.py.jinja", dict(common)))
    files.append(PlannedFile("informers/__init__.py", "package/informers_init.py.jinja", dict(common)))
    files.append(PlannedFile("informer_factory.py", "informers/factory.py.jinja",
                             {**common, "group_versions": cached_versions}))
    return files
