"""ConfigMap mirror: a small controller written on a generated package (kube_v1_35).

A ConfigMap labelled ``mirror.example.com/enabled=true`` is copied into every namespace its
``mirror.example.com/targets`` annotation names (comma-separated). Copies are written with
server-side apply as the field manager ``configmap-mirror``, carry labels naming their source,
follow the source's data, and are deleted when the source is deleted, loses the label, or stops
naming their namespace.

The logic is one function of a key, :meth:`Mirror.reconcile`, reading the source through an
informer's lister and the copies through the API; :class:`Controller` runs it from informer
events on a worker thread. Both are tested twice: on the fake clientset (``test_mirror_fake.py``,
no server) and on a real API server started by envtest (``test_mirror_envtest.py``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from dataclasses import dataclass

from kube_v1_35 import Clientset, SharedInformerFactory
from kube_v1_35.applyconfigurations import core_v1 as ac
from kube_v1_35.applyconfigurations import meta_v1 as acm
from kube_v1_35.listers.core_v1 import ConfigMapLister
from kube_v1_35.models.core_v1 import ConfigMap
from kube_v1_35.models.meta_v1 import ObjectMeta

from kubecodegen_runtime.cache import DeletedFinalStateUnknown
from kubecodegen_runtime.errors import NotFound

ENABLED_LABEL = "mirror.example.com/enabled"
TARGETS_ANNOTATION = "mirror.example.com/targets"
SOURCE_NAMESPACE_LABEL = "mirror.example.com/source-namespace"
SOURCE_NAME_LABEL = "mirror.example.com/source-name"
FIELD_MANAGER = "configmap-mirror"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one reconcile did: namespaces written and copies deleted."""

    applied: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


def meta(obj: ConfigMap) -> ObjectMeta:
    """An object's metadata (the server always sends it; the model allows its absence)."""
    return obj.metadata if obj.metadata is not None else ObjectMeta()


def targets_of(source: ConfigMap | None) -> list[str]:
    """The namespaces ``source`` asks to be mirrored into (none unless it is enabled)."""
    if source is None or (meta(source).labels or {}).get(ENABLED_LABEL) != "true":
        return []
    raw = (meta(source).annotations or {}).get(TARGETS_ANNOTATION, "")
    own = meta(source).namespace
    return sorted({part.strip() for part in raw.split(",") if part.strip() and part.strip() != own})


def copy_of(source: ConfigMap, namespace: str) -> ac.ConfigMap:
    """The apply configuration of the copy in ``namespace``: only the fields the mirror owns."""
    source_meta = meta(source)
    return ac.ConfigMap(
        metadata=acm.ObjectMeta(
            name=source_meta.name,
            namespace=namespace,
            labels={SOURCE_NAMESPACE_LABEL: source_meta.namespace or "",
                    SOURCE_NAME_LABEL: source_meta.name or ""},
        ),
        data=dict(source.data or {}),
    )


class Mirror:
    """The reconciler: makes the copies of one source ConfigMap what the source asks for."""

    def __init__(self, cs: Clientset, sources: ConfigMapLister) -> None:
        self._cs = cs
        self._sources = sources

    def reconcile(self, key: str) -> Outcome:
        """Bring the copies of the source ``namespace/name`` in line with it.

        Idempotent: running it again changes nothing. Raises the API's errors (a target
        namespace that does not exist is ``NotFound``): the controller retries the key.
        """
        namespace, _, name = key.partition("/")
        try:
            source: ConfigMap | None = self._sources.config_maps(namespace).get(name)
        except NotFound:
            source = None
        wanted = targets_of(source)
        selector = f"{SOURCE_NAMESPACE_LABEL}={namespace},{SOURCE_NAME_LABEL}={name}"
        existing = self._cs.core_v1.all_config_maps().list(label_selector=selector)
        applied = []
        for target in wanted:
            assert source is not None
            self._cs.core_v1.config_maps(target).apply(
                copy_of(source, target), field_manager=FIELD_MANAGER, force=True
            )
            applied.append(target)
        deleted = []
        for copy in existing.items:
            target = meta(copy).namespace or ""
            if target in wanted:
                continue
            with contextlib.suppress(NotFound):  # already gone: that is what we wanted
                self._cs.core_v1.config_maps(target).delete(name)
            deleted.append(target)
        return Outcome(tuple(applied), tuple(sorted(deleted)))


class Controller:
    """Runs :class:`Mirror` for every source in ``namespace`` as informer events arrive.

    One worker thread takes keys from a queue; a key queued twice before it is handled is
    handled once, and a failed key is tried again after ``retry_after`` seconds.
    """

    def __init__(self, cs: Clientset, namespace: str, *, retry_after: float = 0.2) -> None:
        self._factory = SharedInformerFactory(cs, namespace=namespace)
        self._informer = self._factory.core_v1.config_maps()
        self.mirror = Mirror(cs, self._informer.lister())
        self._retry_after = retry_after
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._worker = threading.Thread(target=self._work, name="configmap-mirror", daemon=True)
        self._informer.add_event_handler(
            on_add=self._enqueue_object,
            on_update=lambda _old, new: self._enqueue_object(new),
            on_delete=self._enqueue_object,
        )

    def _enqueue_object(self, obj: ConfigMap | DeletedFinalStateUnknown[ConfigMap]) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):  # a deletion seen only by a relist
            self.enqueue(obj.key)
        else:
            self.enqueue(f"{meta(obj).namespace}/{meta(obj).name}")

    def enqueue(self, key: str) -> None:
        with self._lock:
            if key in self._queued:
                return
            self._queued.add(key)
        self._queue.put(key)

    def start(self, timeout: float = 30.0) -> None:
        """Start the informer, wait for its cache, then start the worker."""
        self._factory.start()
        if not self._factory.wait_for_cache_sync(timeout=timeout):
            raise TimeoutError("the ConfigMap informer did not sync")
        self._worker.start()

    def stop(self) -> None:
        self._stopped.set()
        self._queue.put(None)
        self._factory.shutdown()
        if self._worker.is_alive():
            self._worker.join(timeout=10)

    def _work(self) -> None:
        while not self._stopped.is_set():
            key = self._queue.get()
            if key is None:
                return
            with self._lock:
                self._queued.discard(key)
            try:
                self.mirror.reconcile(key)
            except Exception:  # any failure is retried, never fatal
                logger.warning("reconcile of %s failed; retrying", key, exc_info=True)
                timer = threading.Timer(self._retry_after, self.enqueue, args=(key,))
                timer.daemon = True
                timer.start()
