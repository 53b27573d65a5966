"""Leader election on a ``coordination.k8s.io/v1`` Lease, with client-go's semantics.

``LeaderElector(LeaseLock(rest, namespace, name, identity), LeaderCallbacks(...)).run()``
stands for the lock and leads while it can; :class:`AsyncLeaderElector` is the asyncio
twin. The rules (timings, expiry judged only on our own monotonic clock, renew deadline,
release) are the pure core's, :mod:`.core`; docs/leaderelection.md explains the guarantees
and their limits.
"""

from .aio import AsyncLeaderCallbacks, AsyncLeaderElector
from .core import JITTER_FACTOR, ElectionTimings, ElectorCore
from .elector import LeaderCallbacks, LeaderElector
from .lock import LEASES, AsyncLeaseLock, AsyncResourceLock, LeaseLock, ResourceLock
from .record import LeaderElectionRecord, apply_to_spec, record_from_spec, spec_fields

__all__ = [
    "JITTER_FACTOR",
    "LEASES",
    "AsyncLeaderCallbacks",
    "AsyncLeaderElector",
    "AsyncLeaseLock",
    "AsyncResourceLock",
    "ElectionTimings",
    "ElectorCore",
    "LeaderCallbacks",
    "LeaderElectionRecord",
    "LeaderElector",
    "LeaseLock",
    "ResourceLock",
    "apply_to_spec",
    "record_from_spec",
    "spec_fields",
]
