"""Metadata-only clients and informers (client-go ``metadata`` and ``metadatainformer``).

* :class:`MetadataClient` / :class:`AsyncMetadataClient`: get, list, list_all, watch,
  patch, delete and delete_collection of any resource, answered as
  :class:`PartialObjectMetadata` / :class:`PartialObjectMetadataList` (:mod:`.client`);
* metadata informers: ``SharedInformerFactory.for_metadata(gvr)`` (and the async
  factory's), whose cache holds PartialObjectMetadata only (see
  :mod:`kubecodegen_runtime.cache.factory`);
* :data:`ACCEPT_OBJECT` / :data:`ACCEPT_LIST` and the structs (:mod:`.types`).

See docs/metadata.md.
"""

from .client import (
    AsyncMetadataClient,
    AsyncMetadataNamespacedResource,
    AsyncMetadataResource,
    MetadataClient,
    MetadataNamespacedResource,
    MetadataResource,
)
from .types import ACCEPT_LIST, ACCEPT_OBJECT, PartialObjectMetadata, PartialObjectMetadataList

__all__ = [
    "ACCEPT_LIST",
    "ACCEPT_OBJECT",
    "AsyncMetadataClient",
    "AsyncMetadataNamespacedResource",
    "AsyncMetadataResource",
    "MetadataClient",
    "MetadataNamespacedResource",
    "MetadataResource",
    "PartialObjectMetadata",
    "PartialObjectMetadataList",
]
