"""The informer cache's pure core, shared by the thread and asyncio drivers.

One module per noun, as client-go's ``tools/cache``:

* :mod:`.keys` -- object identity (storage keys, metadata accessors) and the tombstone;
* :mod:`.indexer` -- index functions and index bookkeeping;
* :mod:`.store` -- the locked keyed store (reader/writer contracts);
* :mod:`.watcher` -- the list/watch state machine (requests as records, no I/O);
* :mod:`.delta` -- watcher events -> store writes -> notifications;
* :mod:`.processor` -- per-handler queues, late handlers, has_synced, resync schedule;
* :mod:`.transform` -- what to drop before caching (``managedFields``);
* :mod:`.mutation` -- detecting mutation of shared cached objects.

The I/O shells and user-facing pieces are imported from their modules (not re-exported
here, so that the pure core stays importable without the HTTP stack):

* :mod:`.reflector` -- thread and asyncio drivers of the watcher over the REST client;
* :mod:`.informer` -- ``SharedInformer`` / ``AsyncSharedInformer``: cache + handler fan-out;
* :mod:`.factory` -- ``SharedInformerFactory`` / ``AsyncSharedInformerFactory``;
* :mod:`.lister` -- ``Lister`` / ``NamespaceLister``: typed reads of the cache;
* :mod:`.typed` -- per-resource accessors that generated ``informers/`` modules subclass.

Cached objects are shared between the store, all handlers and all lister callers: never
mutate them; copy first.
"""

from __future__ import annotations

from .delta import Delta, DeltaProcessor, DeltaType
from .indexer import (
    NAMESPACE_INDEX,
    IndexConflictError,
    Indexer,
    IndexFunc,
    IndexFuncError,
    UnknownIndexError,
    namespace_index_func,
)
from .keys import (
    DeletedFinalStateUnknown,
    KeyFuncError,
    OwnerRef,
    controller_of,
    get_annotations,
    get_labels,
    get_name,
    get_namespace,
    get_owner_references,
    get_resource_version,
    get_uid,
    meta_namespace_key,
    object_key,
    split_meta_namespace_key,
)
from .mutation import CacheMutationError, Mutation, MutationDetector, mutation_detection_enabled
from .processor import (
    AddNotification,
    DeleteNotification,
    FilteringResourceEventHandler,
    HandlerRegistration,
    Notification,
    ResourceEventHandler,
    ResourceEventHandlerFuncs,
    SharedProcessor,
    UpdateNotification,
    dispatch,
)
from .store import KeyFunc, Store, StoreReader, StoreWriter, ThreadSafeStore, new_indexer
from .transform import (
    TransformFunc,
    chain,
    strip_last_applied_annotation,
    strip_managed_fields,
)
from .watcher import (
    Apply,
    Delete,
    DeleteKey,
    FailureKind,
    Init,
    InitApply,
    InitDone,
    InitKeep,
    ListRequest,
    ListSemantic,
    Step,
    Watcher,
    WatcherConfig,
    WatcherEvent,
    WatcherFailure,
    WatcherProtocolError,
    WatcherState,
    WatchRequest,
)

__all__ = [
    "NAMESPACE_INDEX",
    "AddNotification",
    "Apply",
    "CacheMutationError",
    "Delete",
    "DeleteKey",
    "DeleteNotification",
    "DeletedFinalStateUnknown",
    "Delta",
    "DeltaProcessor",
    "DeltaType",
    "FailureKind",
    "FilteringResourceEventHandler",
    "HandlerRegistration",
    "IndexConflictError",
    "IndexFunc",
    "IndexFuncError",
    "Indexer",
    "Init",
    "InitApply",
    "InitDone",
    "InitKeep",
    "KeyFunc",
    "KeyFuncError",
    "ListRequest",
    "ListSemantic",
    "Mutation",
    "MutationDetector",
    "Notification",
    "OwnerRef",
    "ResourceEventHandler",
    "ResourceEventHandlerFuncs",
    "SharedProcessor",
    "Step",
    "Store",
    "StoreReader",
    "StoreWriter",
    "ThreadSafeStore",
    "TransformFunc",
    "UnknownIndexError",
    "UpdateNotification",
    "WatchRequest",
    "Watcher",
    "WatcherConfig",
    "WatcherEvent",
    "WatcherFailure",
    "WatcherProtocolError",
    "WatcherState",
    "chain",
    "controller_of",
    "dispatch",
    "get_annotations",
    "get_labels",
    "get_name",
    "get_namespace",
    "get_owner_references",
    "get_resource_version",
    "get_uid",
    "meta_namespace_key",
    "mutation_detection_enabled",
    "namespace_index_func",
    "new_indexer",
    "object_key",
    "split_meta_namespace_key",
    "strip_last_applied_annotation",
    "strip_managed_fields",
]
