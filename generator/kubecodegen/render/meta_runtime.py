"""apimachinery meta/v1 lives in the runtime: which definitions a package re-exports, and what differs.

As in Go, where apimachinery is a library and not generated per client, the structs of
``io.k8s.apimachinery.pkg.apis.meta.v1`` (ObjectMeta, ListMeta, Status, DeleteOptions, ...)
are generated once, from the newest spec bundled with the generator, into the runtime
module ``kubecodegen_runtime.apis.meta_v1`` (``scripts/generated.py write``; its ``check``
fails on drift). Every generated package's model module re-exports those classes, so
``ObjectMeta`` is one class in every package of every Kubernetes version.

An input spec's meta/v1 may differ from the runtime's, and nothing is dropped silently:

* a definition the runtime lacks (a future release) is generated in the package itself,
  and reported (:class:`LocalMetaDefinition`);
* a property the input's definition has and the runtime's lacks (1.20's
  ``ObjectMeta.clusterName``, removed in 1.25) is reported (:class:`MissingMetaProperty`):
  the package's objects cannot carry it.

The runtime's catalogue (:class:`SharedMeta`) is derived from the same bundled spec the
runtime module is generated from, so what a package re-exports depends only on the
generator's inputs, never on the runtime installed where it runs (a unit test checks the
catalogue against the installed module).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ..model.types import ApiModel, ArrayOf, MapOf, StructRef, TypeRef, UnionOf

#: The definition namespace that lives in the runtime.
META_V1_NAMESPACE = "io.k8s.apimachinery.pkg.apis.meta.v1"
#: The runtime module holding it, relative to the runtime package (and to ``_runtime``).
RUNTIME_MODULE = "apis.meta_v1"
#: The same module as a path inside the runtime package.
RUNTIME_PATH = "apis/meta_v1.py"
#: The runtime module holding meta/v1's apply configurations (see ``render/apply.py``).
RUNTIME_APPLY_MODULE = "applyconfigurations.meta_v1"
#: The same module as a path inside the runtime package.
RUNTIME_APPLY_PATH = "applyconfigurations/meta_v1.py"


def is_meta_v1(struct_id: str) -> bool:
    """Whether a model struct is a definition of apimachinery meta/v1 (not an inline type)."""
    prefix = META_V1_NAMESPACE + "."
    return struct_id.startswith(prefix) and not any(c in struct_id[len(prefix):] for c in "./")


@dataclass(frozen=True)
class SharedMeta:
    """What the runtime's meta/v1 module defines: per definition, its class name and the
    wire names of its properties; ``source`` names the spec it was generated from."""

    source: str
    classes: Mapping[str, str]
    properties: Mapping[str, frozenset[str]]

    @classmethod
    def from_model(cls, model: ApiModel, source: str) -> SharedMeta:
        ids = sorted(i for i in model.structs if is_meta_v1(i))
        return cls(source, {i: model.structs[i].name for i in ids},
                   {i: frozenset(f.wire_name for f in model.structs[i].fields) for i in ids})


def newest_builtin_spec() -> str:
    """The source of the runtime's meta/v1: the newest Kubernetes release bundled with the
    generator (``builtin:v1.35`` today), chosen by version order, not by name."""
    from ..spec import available_builtin_versions

    return f"builtin:{available_builtin_versions()[-1]}"


def runtime_meta_model() -> tuple[ApiModel, str]:
    """The model the runtime's meta/v1 module is generated from, and its title.

    The bundled spec is trusted (its validation is tested), so it is not validated again
    here: this runs for every ``generate``.
    """
    from ..pipeline import model_of
    from ..spec import load_spec

    model = model_of(load_spec(newest_builtin_spec()))
    title = " ".join(part for part in (model.title, model.spec_version) if part)
    return model, title


@lru_cache(maxsize=1)
def shared_meta() -> SharedMeta:
    """The runtime's meta/v1 catalogue (computed once per process)."""
    model, title = runtime_meta_model()
    return SharedMeta.from_model(model, title)


@dataclass(frozen=True)
class LocalMetaDefinition:
    """A meta/v1 definition of the input that the runtime lacks: the package defines it."""

    definition: str
    module: str

    def describe(self, runtime: str) -> str:
        return (f"not in the runtime's meta/v1 ({runtime}): generated in models/{self.module}.py "
                "as this package's own class, not shared with other packages")


@dataclass(frozen=True)
class MissingMetaProperty:
    """A property of an input meta/v1 definition that the runtime's class has no field for."""

    definition: str
    wire_name: str

    @property
    def key(self) -> str:
        """``<definition>/<property>``, the model's notation for a path below a definition."""
        return f"{self.definition}/{self.wire_name}"

    def describe(self, runtime: str) -> str:
        return (f"property {self.wire_name!r} is not in the runtime's meta/v1 ({runtime}): "
                "objects of this package cannot carry it (decoding drops it)")


@dataclass(frozen=True)
class MetaPlan:
    """How one input model's meta/v1 definitions are rendered."""

    runtime: SharedMeta
    shared: Mapping[str, str]  # struct id -> the runtime's class name (re-exported)
    local: tuple[LocalMetaDefinition, ...]
    missing: tuple[MissingMetaProperty, ...]


def plan_meta(model: ApiModel, runtime: SharedMeta | None = None) -> MetaPlan:
    """Split ``model``'s meta/v1 definitions into re-exported and local ones, with the
    properties the runtime lacks (in definition and property order)."""
    runtime = runtime if runtime is not None else shared_meta()
    shared: dict[str, str] = {}
    local: list[LocalMetaDefinition] = []
    missing: list[MissingMetaProperty] = []
    for struct_id in sorted(i for i in model.structs if is_meta_v1(i)):
        struct = model.structs[struct_id]
        if struct_id not in runtime.classes:
            local.append(LocalMetaDefinition(struct_id, struct.module))
            continue
        shared[struct_id] = runtime.classes[struct_id]
        known = runtime.properties[struct_id]
        missing.extend(MissingMetaProperty(struct_id, wire)
                       for wire in sorted(f.wire_name for f in struct.fields) if wire not in known)
    return MetaPlan(runtime, shared, tuple(local), tuple(missing))


def struct_refs(ref: TypeRef) -> list[str]:
    """The struct ids a type expression refers to."""
    if isinstance(ref, StructRef):
        return [ref.struct_id]
    if isinstance(ref, ArrayOf):
        return struct_refs(ref.item)
    if isinstance(ref, MapOf):
        return struct_refs(ref.value)
    if isinstance(ref, UnionOf):
        return [t for option in ref.options for t in struct_refs(option)]
    return []


def reachable_structs(model: ApiModel, roots: list[str]) -> set[str]:
    """Struct ids reachable from ``roots`` through field types (``roots`` included)."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        struct_id = stack.pop()
        if struct_id in seen or struct_id not in model.structs:
            continue
        seen.add(struct_id)
        for f in model.structs[struct_id].fields:
            stack.extend(struct_refs(f.type))
    return seen
