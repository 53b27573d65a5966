"""Decide every output file of a generated package: (path, template, context) or verbatim bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from ..model.types import ApiModel, StructType
from .annotations import ModuleImports, annotation
from .env import py_string


@dataclass(frozen=True)
class PlannedFile:
    """One output file. ``template`` files are rendered and formatted; others are copied."""

    path: str
    template: str | None = None
    context: dict[str, Any] = field(default_factory=dict, hash=False)
    content: bytes | None = None


def _runtime_files() -> list[tuple[str, bytes]]:
    """The runtime package's sources, copied verbatim into ``<package>/_runtime``."""
    root = Path(str(resources.files("kubecodegen"))) / "runtime"
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".typed") and "__pycache__" not in path.parts:
            files.append((path.relative_to(root).as_posix(), path.read_bytes()))
    return files


def _field_default(required: bool, wire: str, py_name: str) -> str:
    renamed = wire != py_name
    if required:
        return f" = msgspec.field(name={py_string(wire)})" if renamed else ""
    if renamed:
        return f" = msgspec.field(default=None, name={py_string(wire)})"
    return " = None"


def _module_context(model: ApiModel, module: str) -> dict[str, Any]:
    imports = ModuleImports(module)
    structs = []
    for struct_id in model.modules[module]:
        struct: StructType = model.structs[struct_id]
        fields = [
            {
                "py_name": f.py_name,
                "annotation": annotation(f.type, model.structs, imports),
                "required": f.required,
                "default": _field_default(f.required, f.wire_name, f.py_name),
                "description": f.description,
            }
            for f in struct.fields
        ]
        structs.append({"name": struct.name, "description": struct.description,
                        "gvk": struct.gvk, "fields": fields})
    has_gvk = any(s["gvk"] for s in structs)
    typing_names = sorted(({"Any"} & imports.names) | ({"ClassVar"} if has_gvk else set()))
    stdlib = []
    if "datetime" in imports.names:
        stdlib.append("from datetime import datetime")
    if typing_names:
        stdlib.append(f"from typing import {', '.join(typing_names)}")
    runtime = []
    if has_gvk:
        runtime.append("from .._runtime.meta import GroupVersionKind")
    bases = sorted({"Object" if s["gvk"] else "Model" for s in structs})
    runtime.append(f"from .._runtime.model import {', '.join(bases)}")
    runtime_types = sorted(imports.names & {"IntOrString", "MicroTime", "Quantity"})
    if runtime_types:
        runtime.append(f"from .._runtime.types import {', '.join(runtime_types)}")
    gvs = sorted({model.structs[i].gvk.api_version for i in model.modules[module]  # type: ignore[union-attr]
                  if model.structs[i].gvk is not None})
    what = f"the {', '.join(gvs)} API" if gvs else "shared"
    return {
        "docstring": f"Models of {what} types ({module}).",
        "structs": structs,
        "stdlib_imports": stdlib,
        "runtime_imports": runtime,
        "sibling_modules": sorted(imports.modules),
    }


def plan_package(model: ApiModel, package: str, source_title: str) -> list[PlannedFile]:
    """Every file of the package, in a stable order."""
    common = {"generator_version": __version__, "source_title": source_title, "package": package}
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
        "modules": [{"name": m, "api_version": module_api.get(m, "")} for m in sorted(model.modules)],
    }))
    for module in sorted(model.modules):
        files.append(PlannedFile(f"models/{module}.py", "models/module.py.jinja",
                                 {**common, **_module_context(model, module)}))
    kinds = sorted(
        ({"group": s.gvk.group, "version": s.gvk.version, "kind": s.gvk.kind,
          "module": f"models.{s.module}", "name": s.name}
         for s in model.structs.values() if s.gvk is not None),
        key=lambda e: (e["group"], e["version"], e["kind"]))
    files.append(PlannedFile("scheme.py", "scheme/scheme.py.jinja", {**common, "kinds": kinds}))
    for rel, content in _runtime_files():
        files.append(PlannedFile(f"_runtime/{rel}", content=content))
    return files
