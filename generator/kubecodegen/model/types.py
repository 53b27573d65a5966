"""Frozen records of the API model. Templates and the CLI see only these, never raw JSON.

Type expressions form a closed set (:data:`TypeRef`): primitives with an exact wire
format, arrays, string-keyed maps, references to generated structs, and unions (only
for the JSONSchemaProps ``Or*`` types). Anything a spec can say that does not fit is
rejected while building, not guessed at while rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

# The model speaks the runtime's identity record (re-exported for the model layer).
from kubecodegen_runtime.meta import GroupVersionKind as GroupVersionKind

from ..spec.records import CrdScale, CrdSchema


class Primitive(Enum):
    """Leaf types, each with one wire format handled by the runtime."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    BYTES = "bytes"  # format: byte, base64 on the wire
    TIME = "time"  # meta/v1 Time: RFC 3339, second precision
    DATE_TIME_STRING = "date_time_string"  # an inline `format: date-time` (custom resources): kept verbatim
    MICRO_TIME = "micro_time"  # meta/v1 MicroTime: RFC 3339, six decimals
    QUANTITY = "quantity"  # resource.Quantity: a string with a numeric meaning
    INT_OR_STRING = "int_or_string"
    ANY = "any"  # free-form JSON value
    OBJECT = "object"  # free-form JSON object (RawExtension, Patch)
    RAW = "raw"  # JSON kept undecoded, as client-go keeps FieldsV1 (msgspec.Raw)


@dataclass(frozen=True)
class ArrayOf:
    item: TypeRef


@dataclass(frozen=True)
class MapOf:
    value: TypeRef


@dataclass(frozen=True)
class StructRef:
    """A reference to a generated struct by its model id (a definition name or a path)."""

    struct_id: str


@dataclass(frozen=True)
class UnionOf:
    options: tuple[TypeRef, ...]


@dataclass(frozen=True)
class LiteralOf:
    """One of a closed set of strings or integers (``Literal["a", "b"]``): only for a schema
    ``enum`` the server enforces (see ``model.definitions.enforced_enum``)."""

    values: tuple[str, ...] | tuple[int, ...]


TypeRef = Primitive | ArrayOf | MapOf | StructRef | UnionOf | LiteralOf


class NullAs(Enum):
    """What a required field holds when the server sends ``null`` for it.

    In a Kubernetes spec ``required`` only means "no ``omitempty`` in the Go struct", not
    "never null": Go writes a nil slice, map or ``[]byte`` as ``null``, and a zero
    Time/MicroTime too (``eventTime: null`` on every event recorded through core/v1).
    Go's decoder reads that ``null`` back as nil; these say what we read it as.

    An empty container is an exact stand-in for nil: sent back, it is what the server
    stores anyway (built-in objects are stored as protobuf, where an empty and a nil list
    or map are the same message, so the object is served with ``null`` again; a custom
    resource prunes ``null`` from non-nullable fields before storing it).
    """

    EMPTY_LIST = "[]"  # a nil slice reads as an empty list (still typed as a list)
    EMPTY_MAP = "{}"  # a nil map (or free-form object) reads as an empty dict
    EMPTY_BYTES = 'b""'  # a nil []byte reads as empty bytes
    NONE = "None"  # a zero time has no equivalent value: the field is ``X | None``


@dataclass(frozen=True)
class MergeRules:
    """How the server merges one property: the spec's ``x-kubernetes-*`` merge extensions.

    Kept verbatim from the property's schema (``list_type``: ``atomic``/``set``/``map``,
    ``list_map_keys``, ``map_type``: ``atomic``/``granular``, the strategic-merge
    ``patch_strategy`` and ``patch_merge_key``). The models do not use them; the fake API
    server's patch and server-side apply engines do (``render/fake_plan.py``).

    ``map_type`` also says what a referenced definition says of itself: Go's
    ``+structType=atomic`` puts ``x-kubernetes-map-type: atomic`` on the *definition*
    (LabelSelector, ObjectReference, ...), so a property holding one (or, for a list, whose
    items are one) replaces it whole; see ``model.definitions.merge_rules``.
    """

    list_type: str | None = None
    list_map_keys: tuple[str, ...] = ()
    map_type: str | None = None
    patch_strategy: str | None = None
    patch_merge_key: str | None = None


#: A property without merge extensions.
NO_MERGE_RULES = MergeRules()


@dataclass(frozen=True)
class Field:
    """One property of a struct.

    ``required`` fields are required arguments; ``null_as`` (set only for required fields
    whose Go type can be written as ``null``) says how a ``null`` from the server reads.
    ``merge`` holds the property's merge extensions (used only by the fake API server).
    """

    wire_name: str
    py_name: str
    type: TypeRef
    required: bool
    description: str
    null_as: NullAs | None = None
    merge: MergeRules = NO_MERGE_RULES


@dataclass(frozen=True)
class StructType:
    """One generated msgspec struct.

    ``struct_id`` is the swagger definition name, or for inline (CRD) schemas the
    definition name followed by the property path (``…ServiceMonitor/spec/endpoints``).
    ``gvk`` is set only for types with exactly one GroupVersionKind; those render as
    ``Object`` subclasses with a ``GVK`` constant.
    """

    struct_id: str
    module: str
    name: str
    description: str
    fields: tuple[Field, ...]
    gvk: GroupVersionKind | None = None


@dataclass(frozen=True)
class Subresource:
    name: str
    verbs: tuple[str, ...]
    connect: bool = False
    request_type: str | None = None  # struct id of the body, if any
    response_type: str | None = None  # struct id of the 200 response, if any
    request_gvk: GroupVersionKind | None = None


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    subresources: tuple[Subresource, ...]
    struct_id: str | None  # the kind's struct, None if the spec does not define it
    list_struct_id: str | None

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True)
class GroupVersion:
    group: str
    version: str
    py_name: str  # e.g. core_v1, apps_v1, monitoring_coreos_com_v1
    resources: tuple[Resource, ...]


@dataclass(frozen=True)
class Group:
    name: str
    py_name: str  # e.g. core, apps, rbac
    versions: tuple[GroupVersion, ...]  # by Kubernetes version priority, preferred first
    preferred_version: str


@dataclass(frozen=True)
class Skipped:
    definition: str
    reason: str


@dataclass(frozen=True)
class ApiModel:
    title: str
    spec_version: str
    groups: tuple[Group, ...]
    structs: dict[str, StructType] = field(hash=False)
    modules: dict[str, tuple[str, ...]] = field(hash=False)  # module -> struct ids, in order
    skipped: tuple[Skipped, ...] = ()
    fixups_applied: tuple[str, ...] = ()
    skipped_fields: tuple[Skipped, ...] = ()  # properties left out of their struct, with why
    #: Kinds known to be served from CRDs (``spec.records.Document.custom_resource_kinds``).
    custom_resource_kinds: frozenset[GroupVersionKind] = frozenset()
    #: The CRDs' scale subresources, where the input had the CRD objects.
    crd_scales: tuple[CrdScale, ...] = ()
    #: The CRDs' validation schemas by served version, where the input had the CRD objects.
    crd_schemas: tuple[CrdSchema, ...] = ()

    def group_versions(self) -> list[GroupVersion]:
        return [gv for group in self.groups for gv in group.versions]

    def resources(self) -> list[Resource]:
        return [r for gv in self.group_versions() for r in gv.resources]
