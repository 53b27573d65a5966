"""Apply configurations: the every-field-optional twin of each model module.

Server-side apply makes the sender the owner of every field it sends, so an apply body
must hold only the fields its sender means to own; the models, whose required fields are
required, cannot be that body. For every model module ``models/<group>_<version>`` the
package gets ``applyconfigurations/<group>_<version>`` with the same class names:

* every field is optional, ``None`` by default, and (``omit_defaults``) absent on the wire
  when unset; nested types are the apply configurations of the nested types, by the same
  module-qualified names as in the models;
* a kind subclasses ``KindApplyConfiguration[<its model class>]`` (the model is imported for
  type checkers only), and fills in ``apiVersion``/``kind`` when constructed;
* meta/v1 ones live in the runtime (``kubecodegen_runtime.applyconfigurations.meta_v1``,
  generated like its ``apis.meta_v1``) and are re-exported, as the models' are;
* nothing imports them until used: ``applyconfigurations/__init__`` is a docstring, and a
  model module split per kind (:func:`.plan.kind_files`) is split the same way here.

Field descriptions are left to the models (the docs of a field are the model's): an apply
configuration module is a fraction of its model module's size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import naming
from ..model.types import ApiModel, Primitive, StructType
from .annotations import ModuleImports, annotation, field_default, runtime_submodule
from .env import Code, py_string, type_expression

Identifier = naming.Identifier

#: How an apply configuration module names what it needs, underscored so that no class
#: name of a spec (PascalCase) can collide with it.
_BASES = "_ac"
_MODELS = "_models"
_META = "_GroupVersionKind"
_TYPE_META = {"apiVersion": "api_version", "kind": "kind"}


def apply_module_context(model: ApiModel, module: str, rt: Code, models_package: Code,
                         struct_ids: tuple[str, ...] | None = None,
                         shared: Mapping[str, str] | None = None,
                         shared_module: str = "") -> dict[str, Any]:
    """The context of one apply configuration file (``templates/applyconfigurations``).

    ``rt`` is the runtime package as the file imports it; ``models_package`` is the package
    holding the model module ``module`` whose kinds these configure (``..models``, or
    ``..apis`` inside the runtime), imported for type checkers only;
    ``struct_ids`` restricts it to one kind's file of a split module; structs in ``shared``
    are re-exported from the runtime's ``shared_module``.
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
        for f in struct.fields:
            raw = f.type is Primitive.RAW
            text = annotation(f.type, model.structs, imports) + ("" if raw else " | None")
            fields.append({
                "py_name": f.py_name,
                "annotation": type_expression(text),
                "default": field_default(False, f.wire_name, f.py_name,
                                         "msgspec.Raw()" if raw else "None"),
            })
        type_meta = []
        if struct.gvk is not None:
            values = {"apiVersion": struct.gvk.api_version, "kind": struct.gvk.kind}
            type_meta = [{"py_name": f.py_name, "value": py_string(values[f.wire_name])}
                         for f in struct.fields
                         if f.wire_name in _TYPE_META and f.type is Primitive.STRING]
        structs.append({
            "name": struct.name, "description": struct.description, "gvk": struct.gvk,
            "fields": fields, "type_meta": type_meta,
            # the model is imported for type checkers only: a string to Python
            "base": Code(f"{_BASES}.KindApplyConfiguration["
                         f"{py_string(f'{_MODELS}.{Identifier(struct.name)}')}]")
            if struct.gvk is not None else type_expression(f"{_BASES}.ApplyConfiguration"),
        })
    has_gvk = any(s["gvk"] for s in structs)
    typing_names = sorted(({"Any", "Literal"} & imports.names)
                          | ({"ClassVar", "TYPE_CHECKING"} if has_gvk else set()),
                          key=lambda name: (not name.isupper(), name))  # isort's order
    stdlib = []
    if "datetime" in imports.names:
        stdlib.append("from datetime import datetime")
    if typing_names:
        stdlib.append(f"from typing import {', '.join(typing_names)}")
    runtime = []
    if reexports:
        names = ", ".join(f"{Identifier(name)} as {Identifier(local)}" for name, local in reexports)
        runtime.append(f"from {runtime_submodule(rt, shared_module)} import {names}")
    if structs:
        runtime.append(f"from {rt} import applyconfig as {_BASES}")
    if has_gvk:
        runtime.append(f"from {runtime_submodule(rt, 'meta')} import GroupVersionKind as {_META}")
    runtime_types = sorted(imports.names & {"DateTimeString", "IntOrString", "MicroTime", "Nullable",
                                            "Quantity"})
    if runtime_types:
        runtime.append(f"from {runtime_submodule(rt, 'types')} import {', '.join(runtime_types)}")
    gvs = sorted({s.gvk.api_version for i in ids if (s := model.structs[i]).gvk is not None})
    what = f"the {', '.join(gvs)} API" if gvs else "shared"
    docstring = (f"Apply configurations of {what} types ({module}): the models' classes with "
                 "every field optional, for server-side apply.")
    if reexports:
        docstring += (f"\n\nThe apimachinery meta/v1 ones are re-exported from the runtime's "
                      f"``{shared_module}``: one class in every package sharing that runtime.")
    return {
        "docstring": docstring,
        "exported": exported,
        "structs": structs,
        "stdlib_imports": [Code(line) for line in stdlib],
        "runtime_imports": [Code(line) for line in runtime],
        "models_import": Code(f"from {models_package} import {Identifier(module)} as {_MODELS}")
        if has_gvk else None,
        "gvk_class": Identifier(_META),
        "sibling_modules": [Identifier(m) for m in sorted(imports.modules)],
    }

