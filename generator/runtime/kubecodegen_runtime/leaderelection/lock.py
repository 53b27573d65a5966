"""Lease locks: the leader election record kept in a ``coordination.k8s.io/v1`` Lease.

As client-go's ``resourcelock.LeaseLock``: ``get`` reads the Lease and remembers it,
``create`` makes it, ``update`` replaces the remembered Lease with a new record -- carrying
its ``resourceVersion``, so a concurrent writer makes the update fail with ``Conflict``
instead of being overwritten. The objects are unstructured dicts through the dynamic
client, so an update keeps every field the server sent (labels, annotations, owner
references, spec fields of newer releases) and changes only the record's fields.

The sync lock serialises its operations with a mutex: an elector may abandon an operation
that outlives its deadline and start another while the first is still on the wire.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from typing import Any, Protocol

from ..client._async.rest import AsyncRESTClient
from ..client._sync.rest import RESTClient
from ..dynamic import AsyncDynamicNamespacedResource, DynamicNamespacedResource
from ..meta import ResourceInfo
from .record import LeaderElectionRecord, apply_to_spec, record_from_spec

#: The Lease resource of ``coordination.k8s.io/v1``.
LEASES = ResourceInfo("coordination.k8s.io", "v1", "leases", "Lease", True,
                      frozenset({"create", "delete", "get", "list", "patch", "update", "watch"}))


class ResourceLock(Protocol):
    """What an elector needs of a lock (client-go ``resourcelock.Interface``): ``get``
    raises ``NotFound`` when there is no lock and remembers what it read; ``update``
    replaces what was read last, failing (``Conflict``) if it changed since."""

    @property
    def identity(self) -> str: ...

    def describe(self) -> str: ...

    def get(self) -> LeaderElectionRecord: ...

    def create(self, record: LeaderElectionRecord) -> None: ...

    def update(self, record: LeaderElectionRecord) -> None: ...


class AsyncResourceLock(Protocol):
    """Async twin of :class:`ResourceLock`."""

    @property
    def identity(self) -> str: ...

    def describe(self) -> str: ...

    async def get(self) -> LeaderElectionRecord: ...

    async def create(self, record: LeaderElectionRecord) -> None: ...

    async def update(self, record: LeaderElectionRecord) -> None: ...


class _LeaseState:
    """What both locks share: the names, and the Lease last read or written."""

    def __init__(self, namespace: str, name: str, identity: str) -> None:
        if not namespace or not name:
            raise ValueError("a Lease lock needs a namespace and a name")
        if not identity:
            raise ValueError("the lock identity must not be empty")
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self._lease: dict[str, Any] | None = None

    def describe(self) -> str:
        """``namespace/name``, as client-go's ``Describe``."""
        return f"{self.namespace}/{self.name}"

    def _remember(self, lease: dict[str, Any]) -> LeaderElectionRecord:
        self._lease = lease
        return record_from_spec(lease.get("spec"))

    def _new_lease(self, record: LeaderElectionRecord) -> dict[str, Any]:
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": apply_to_spec(None, record),
        }

    def _updated_lease(self, record: LeaderElectionRecord) -> dict[str, Any]:
        if self._lease is None:
            raise RuntimeError(f"Lease {self.describe()} not read yet: call get or create first")
        lease = copy.deepcopy(self._lease)
        lease["spec"] = apply_to_spec(lease.get("spec"), record)
        return lease

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r}, identity={self.identity!r})"


class LeaseLock(_LeaseState):
    """A leader election lock on the Lease ``namespace/name``, held as ``identity``."""

    def __init__(self, rest: RESTClient, namespace: str, name: str, identity: str) -> None:
        super().__init__(namespace, name, identity)
        self._leases = DynamicNamespacedResource(rest, LEASES, namespace)
        self._mutex = threading.Lock()

    def get(self) -> LeaderElectionRecord:
        """The record of the Lease (raises ``NotFound`` when there is none)."""
        with self._mutex:
            return self._remember(self._leases.get(self.name))

    def create(self, record: LeaderElectionRecord) -> None:
        """Create the Lease holding ``record`` (``AlreadyExists`` if another won the race)."""
        with self._mutex:
            self._remember(self._leases.create(self._new_lease(record)))

    def update(self, record: LeaderElectionRecord) -> None:
        """Replace the record of the Lease last read (``Conflict`` if it changed since)."""
        with self._mutex:
            self._remember(self._leases.update(self._updated_lease(record)))


class AsyncLeaseLock(_LeaseState):
    """Async twin of :class:`LeaseLock`."""

    def __init__(self, rest: AsyncRESTClient, namespace: str, name: str, identity: str) -> None:
        super().__init__(namespace, name, identity)
        self._leases = AsyncDynamicNamespacedResource(rest, LEASES, namespace)
        self._mutex = asyncio.Lock()

    async def get(self) -> LeaderElectionRecord:
        async with self._mutex:
            return self._remember(await self._leases.get(self.name))

    async def create(self, record: LeaderElectionRecord) -> None:
        async with self._mutex:
            self._remember(await self._leases.create(self._new_lease(record)))

    async def update(self, record: LeaderElectionRecord) -> None:
        async with self._mutex:
            self._remember(await self._leases.update(self._updated_lease(record)))
