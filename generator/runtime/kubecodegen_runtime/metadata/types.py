"""``meta.k8s.io/v1`` PartialObjectMetadata and PartialObjectMetadataList, and how to ask for them.

Why: a controller that needs only names, labels, annotations, ownerReferences or
finalizers of many objects (every Secret of a cluster) should neither transfer nor keep
their data. The API server converts any object it serves into its metadata when the
request's ``Accept`` names the PartialObjectMetadata kind with media-type parameters
(``application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1``; lists:
``as=PartialObjectMetadataList``); watch events then carry PartialObjectMetadata
objects too. Built-in resources and custom resources alike (Kubernetes 1.15+).

Only the conversion is asked for, with no plain-JSON fallback in the ``Accept`` list: a
server that cannot convert (an old aggregated API server) answers 406 Not Acceptable,
and one that ignores the parameters and sends the full object or a Table is refused by
the kind check of the typed clients (:class:`~..errors.UnexpectedKind`), so a caller
never holds full objects believing it holds metadata. (client-go instead falls back to
decoding the metadata of a full object; see docs/metadata.md.)

The structs are the runtime's own meta/v1 types (:class:`~..apis.meta_v1.ObjectMeta`,
:class:`~..apis.meta_v1.ListMeta`), so everything that reads ``obj.metadata`` --
cache keys, listers, indexers, ownerReference mapping -- works on them unchanged.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from ..apis.meta_v1 import ListMeta, ObjectMeta
from ..meta import GroupVersionKind
from ..model import Object, is_null
from ..types import Nullable

#: ``Accept`` of requests answered by one object, and of watches (each event's object).
ACCEPT_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
#: ``Accept`` of requests answered by a list (LIST, DELETE of a collection).
ACCEPT_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


class PartialObjectMetadata(Object, kw_only=True):
    """The metadata of one object of any resource (``meta.k8s.io/v1``).

    ``metadata`` is always present (an empty :class:`ObjectMeta` if the server sent
    none), so ``obj.metadata.name`` needs no ``None`` check.
    """

    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("meta.k8s.io", "v1",
                                                       "PartialObjectMetadata")

    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)


class PartialObjectMetadataList(Object, kw_only=True):
    """A list of :class:`PartialObjectMetadata` (``meta.k8s.io/v1``); ``metadata`` carries
    the list's resourceVersion and continue token."""

    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("meta.k8s.io", "v1",
                                                       "PartialObjectMetadataList")

    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: ListMeta = msgspec.field(default_factory=ListMeta)
    items: Nullable[list[PartialObjectMetadata]] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        # ``"items": null`` is how Go writes an empty list: it reads as the empty one
        if is_null(self.items):
            self.items = []
