"""What a reconcile function takes and returns: keys, results and the terminal error.

A controller never hands objects to its reconcile function, only keys. The function reads
the current state through listers (the informers' caches) and makes the world match it.
Because it is given "this object may need work" rather than "this changed", it must be
level-based: correct whatever happened before, however many events were merged into one
call, and called again for the same key after any failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple

from ..cache.keys import meta_namespace_key, split_meta_namespace_key


class ObjectKey(NamedTuple):
    """The namespace and name of the object a reconcile is about (controller-runtime's
    ``reconcile.Request``); ``namespace`` is ``""`` for cluster-scoped objects.

    ``str(key)`` is the cache's storage key (``"ns/name"`` or ``"name"``), so
    ``lister.get_by_key(str(key))`` and ``lister.namespace(key.namespace).get(key.name)``
    both find the object.
    """

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @classmethod
    def of(cls, obj: object) -> ObjectKey:
        """The key of a typed object, a ``dict`` object or a deletion tombstone.

        Raises :class:`~..cache.keys.KeyFuncError` for an object without a name.
        """
        return cls.parse(meta_namespace_key(obj))

    @classmethod
    def parse(cls, key: str) -> ObjectKey:
        """The key of a storage key string (``"ns/name"`` or ``"name"``)."""
        namespace, name = split_meta_namespace_key(key)
        return cls(namespace, name)


@dataclass(frozen=True, slots=True)
class Result:
    """What a reconcile asks of the queue when it did not fail (controller-runtime's
    ``reconcile.Result``).

    * ``Result()`` (or returning ``None``): done; the key's failure count is forgotten and
      it comes back only when a watched object changes.
    * ``Result(requeue_after=t)`` with ``t > 0``: done for now, look again in ``t``
      seconds (failure count forgotten); it wins over ``requeue``.
    * ``Result(requeue=True)``: not done, retry with the rate limiter's backoff, as after
      an error but without logging one.
    """

    requeue: bool = False
    requeue_after: float | None = None


class TerminalError(Exception):
    """Raise it (or raise it ``from`` the cause) when retrying cannot help, e.g. an
    invalid spec: the error is logged and counted but the key is not requeued, as
    controller-runtime's ``reconcile.TerminalError``. The next change of a watched object
    brings the key back."""


Reconcile = Callable[[ObjectKey], "Result | None"]
"""A thread controller's reconcile function."""

AsyncReconcile = Callable[[ObjectKey], Awaitable["Result | None"]]
"""An asyncio controller's reconcile function (``async def reconcile(key)``)."""
