"""The closed set of frozen records a validated swagger document is parsed into.

These are the model's only input. Raw JSON is read once, by :mod:`.parse`, right after
validation; from there on a schema is a :class:`Schema` whose fields are exactly the
keywords the generator understands, so ``model/`` never re-checks a dict, a list or a
string it did not expect, and a keyword the generator does not read cannot influence it.

Every record carries the JSON pointer it was read from (``pointer``), so a later stage
that refuses something can still name the place in the user's document. Pointers are
left out of equality: two schemas that say the same thing are equal wherever they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from kubecodegen_runtime.meta import GroupVersionKind

__all__ = [
    "CrdScale",
    "CrdSchema",
    "Document",
    "GroupVersionKind",
    "Operation",
    "Origin",
    "PathItem",
    "Schema",
]


class Origin(Enum):
    """Where a document came from, which decides the spec fixups that apply to it."""

    #: A spec shipped with the generator (``builtin:<version>``).
    BUILTIN = "builtin"
    #: A file or a URL: a document a server served and someone saved, or one written by
    #: hand; nothing proves which.
    FILE = "file"
    #: ``--from-cluster``: ``/openapi/v2`` exactly as the cluster's kube-apiserver serves it.
    CLUSTER = "cluster"


@dataclass(frozen=True, slots=True)
class Schema:
    """One JSON schema of a definition, a property, an array's items or a map's values.

    ``ref`` is the definition a ``$ref`` (or an ``allOf`` of exactly one ``$ref``, the way
    OpenAPI generators attach a description to a reference) points to, already decoded.
    ``properties`` is ``None`` when the keyword is absent and an ordered (possibly empty)
    read-only mapping when present: ``properties: {}`` makes a definition a struct,
    absence does not. ``additional_properties`` is a schema, ``True`` for any value (also
    what ``{}`` means) or ``False``, or ``None`` when absent. ``has_default`` records only
    that a ``default`` exists (the server fills the property in); its value is never read.
    """

    pointer: str = field(compare=False)
    ref: str | None = None
    type: str | None = None
    format: str | None = None
    description: str = ""
    properties: Mapping[str, Schema] | None = None
    required: tuple[str, ...] = ()
    items: Schema | None = None
    additional_properties: Schema | bool | None = None
    nullable: bool = False
    has_default: bool = False
    enum: tuple[object, ...] | None = None
    #: ``enum`` when it could be a ``Literal`` type: only strings for a string schema, only
    #: integers (not booleans) for an integer one, duplicates dropped; else ``None``.
    enum_literals: tuple[str, ...] | tuple[int, ...] | None = None
    pattern: str | None = None
    #: The ``required`` lists of the ``oneOf`` / ``anyOf`` branches (structural CRD schemas:
    #: branches only constrain, so which properties they require is what they say); a
    #: branch that requires nothing is ``()``. Empty when the keyword is absent.
    one_of_required: tuple[tuple[str, ...], ...] = ()
    any_of_required: tuple[tuple[str, ...], ...] = ()
    int_or_string: bool = False
    preserve_unknown_fields: bool = False
    embedded_resource: bool = False
    list_type: str | None = None
    list_map_keys: tuple[str, ...] = ()
    map_type: str | None = None
    patch_merge_key: str | None = None
    patch_strategy: str | None = None
    group_version_kinds: tuple[GroupVersionKind, ...] = ()


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a path (``get`` of ``/api/v1/namespaces/{namespace}/pods``).

    ``parameter_names`` has the names of the operation's own parameters, with references
    to top-level ``parameters`` resolved. ``body_ref`` is the definition of the first
    body parameter written inline in the operation; ``response_refs`` maps a status code
    to the definition its response schema refers to (codes without one are left out).
    """

    pointer: str = field(compare=False)
    method: str
    action: str | None
    gvk: GroupVersionKind | None
    consumes: tuple[str, ...]
    parameter_names: frozenset[str]
    body_ref: str | None
    response_refs: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PathItem:
    """One path of the document: its operations by method (in the order ``get``, ``put``,
    ``post``, ``patch``, ``delete``, ``head``, ``options``) and the names of the parameters
    declared for the whole path (references resolved)."""

    pointer: str = field(compare=False)
    path: str
    operations: Mapping[str, Operation]
    parameter_names: frozenset[str]


@dataclass(frozen=True, slots=True)
class CrdScale:
    """A served CRD version's ``subresources.scale``: where its ``scale`` subresource reads
    and writes the replica counts and the label selector (JSON paths such as
    ``.spec.replicas``, kept as the CRD states them). Only the CRD objects say this
    (``--crd`` files, the CRDs ``--from-cluster`` lists): an OpenAPI document does not."""

    group: str
    version: str
    resource: str
    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


@dataclass(frozen=True, slots=True)
class CrdSchema:
    """A served CRD version's ``openAPIV3Schema`` with only its validation keywords (see
    :mod:`.crd_schemas`), for the fake API server to prune, default and validate custom
    resources as kube-apiserver does. ``schema`` is canonical JSON text (sorted keys, no
    spaces), which keeps the record frozen and hashable; like :class:`CrdScale`, only the
    CRD objects say this."""

    group: str
    version: str
    resource: str
    schema: str


@dataclass(frozen=True, slots=True)
class Document:
    """A whole validated swagger document as the model sees it.

    ``definitions`` and ``paths`` keep the document's order. ``source`` is what errors
    name; ``origin`` and ``crd_file_groups`` (the API groups ``--crd`` files published
    into it, empty when none) say where its parts came from, for the fixup table.
    ``openapi_documents`` names the OpenAPI v3 documents it was read from (empty for v2).
    """

    source: str
    origin: Origin
    title: str
    version: str
    definitions: Mapping[str, Schema]
    paths: Mapping[str, PathItem]
    crd_file_groups: frozenset[str] = frozenset()
    #: The kinds known to be served from a CustomResourceDefinition (``--crd`` files, the
    #: cluster's CRD objects, OpenAPI v3 documents of CRD group-versions): the server
    #: validates their schemas' ``enum`` lists on write (see ``model.definitions.enforced_enum``).
    custom_resource_kinds: frozenset[GroupVersionKind] = frozenset()
    openapi_documents: tuple[str, ...] = ()
    #: The scale subresources of the CRDs the document was published from, where known.
    crd_scales: tuple[CrdScale, ...] = ()
    #: The validation schemas of the CRDs the document was published from, where known.
    crd_schemas: tuple[CrdSchema, ...] = ()
