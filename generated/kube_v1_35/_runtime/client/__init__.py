"""Generic typed clients (sync and async) that generated per-resource clients subclass.

``_async/`` is the hand-written source; ``_sync/`` is generated from it by
``scripts/unasync.py`` (checked by the test suite), so the two surfaces cannot drift.
Pure glue shared by both lives in :mod:`.ops`.
"""

from ._async.resource import (
    AsyncAllNamespaces,
    AsyncClusterResource,
    AsyncNamespacedResource,
    AsyncResource,
    AsyncWithApproval,
    AsyncWithBinding,
    AsyncWithEphemeralContainers,
    AsyncWithEviction,
    AsyncWithFinalize,
    AsyncWithLog,
    AsyncWithScale,
    AsyncWithStatus,
    AsyncWithToken,
)
from ._async.rest import AsyncRESTClient
from ._async.stream import AsyncEventStream
from ._sync.resource import (
    AllNamespaces,
    ClusterResource,
    NamespacedResource,
    Resource,
    WithApproval,
    WithBinding,
    WithEphemeralContainers,
    WithEviction,
    WithFinalize,
    WithLog,
    WithScale,
    WithStatus,
    WithToken,
)
from ._sync.rest import RESTClient
from ._sync.stream import EventStream

__all__ = [
    "AllNamespaces",
    "AsyncAllNamespaces",
    "AsyncClusterResource",
    "AsyncEventStream",
    "AsyncNamespacedResource",
    "AsyncRESTClient",
    "AsyncResource",
    "AsyncWithApproval",
    "AsyncWithBinding",
    "AsyncWithEphemeralContainers",
    "AsyncWithEviction",
    "AsyncWithFinalize",
    "AsyncWithLog",
    "AsyncWithScale",
    "AsyncWithStatus",
    "AsyncWithToken",
    "ClusterResource",
    "EventStream",
    "NamespacedResource",
    "RESTClient",
    "Resource",
    "WithApproval",
    "WithBinding",
    "WithEphemeralContainers",
    "WithEviction",
    "WithFinalize",
    "WithLog",
    "WithScale",
    "WithStatus",
    "WithToken",
]
