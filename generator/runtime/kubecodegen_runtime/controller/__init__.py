"""Controllers: informer events -> keys -> a work queue -> ``reconcile(key)`` on N workers.

client-go's sample-controller loop and controller-runtime's ``Controller`` (kube-rs'
``Controller``) on this runtime's informers and :mod:`..workqueue`:

.. code-block:: python

    factory = SharedInformerFactory(clientset)
    config_maps, secrets = factory.core_v1.config_maps(), factory.core_v1.secrets()

    def reconcile(key: ObjectKey) -> Result | None:
        cm = config_maps.lister().config_maps(key.namespace).get(key.name)  # typed
        ...

    controller = (Controller("cm-secrets", reconcile, workers=2)
                  .watch_primary(config_maps.informer())
                  .watch_owned(secrets.informer()))
    factory.start()
    controller.run(stop_event)      # returns once stopped and drained

One pure core (:mod:`.mapping`: event -> keys; :mod:`.outcome`: result -> queue action;
:mod:`.core`: watches, sync, bookkeeping) and two shells, :class:`Controller` (threads)
and :class:`AsyncController` (asyncio tasks). See docs/controller.md.
"""

from __future__ import annotations

from ..cache.keys import OwnerRef, controller_of, get_owner_references
from .async_controller import AsyncController
from .controller import Controller
from .core import CacheSyncTimeoutError, ControllerCore, Watch
from .mapping import (
    EnqueueHandler,
    KeyMapper,
    OwnerMapper,
    OwnerType,
    Predicate,
    generation_changed,
    primary_keys,
    resource_version_changed,
)
from .outcome import ControllerStats, Outcome, QueueAction, apply, decide
from .types import AsyncReconcile, ObjectKey, Reconcile, Result, TerminalError

__all__ = [
    "AsyncController",
    "AsyncReconcile",
    "CacheSyncTimeoutError",
    "Controller",
    "ControllerCore",
    "ControllerStats",
    "EnqueueHandler",
    "KeyMapper",
    "ObjectKey",
    "Outcome",
    "OwnerMapper",
    "OwnerRef",
    "OwnerType",
    "Predicate",
    "QueueAction",
    "Reconcile",
    "Result",
    "TerminalError",
    "Watch",
    "apply",
    "controller_of",
    "decide",
    "generation_changed",
    "get_owner_references",
    "primary_keys",
    "resource_version_changed",
]
