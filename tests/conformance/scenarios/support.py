"""What many scenarios share: object builders, error and ordering assertions, event reading.

Scenarios assert only what a client can observe the same way on both backends: fields of the
returned objects, error classes and ``reason``s (never message texts), event sequences and the
*order* of resourceVersions (never their values).
"""

from __future__ import annotations

import contextlib
import importlib
import queue
import time
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from kube_v1_20.models import apps_v1, core_v1, meta_v1

from kubecodegen_runtime import errors
from kubecodegen_runtime.watch import Bookmark

from ..backends import cr_package, kube  # noqa: F401  (kube: imported for its side effect)

#: Every watch in the suite ends by itself this soon, even when a scenario stops early.
WATCH_TIMEOUT = 5
WAIT = 10.0


def widgets_models() -> Any:
    return importlib.import_module(f"{cr_package().__name__}.models.conformance_kubecodegen_test_v1")


def meta(name: str | None = None, **kw: Any) -> meta_v1.ObjectMeta:
    return meta_v1.ObjectMeta(name=name, **kw)


def configmap(name: str | None = None, data: dict[str, str] | None = None, **meta_kw: Any) -> Any:
    return core_v1.ConfigMap(metadata=meta(name, **meta_kw), data=data)


def deployment(name: str, *, replicas: int = 1, containers: Iterable[str] = ("app",),
               **meta_kw: Any) -> Any:
    labels = {"app": name}
    return apps_v1.Deployment(
        metadata=meta(name, **meta_kw),
        spec=apps_v1.DeploymentSpec(
            replicas=replicas,
            selector=meta_v1.LabelSelector(match_labels=labels),
            template=core_v1.PodTemplateSpec(
                metadata=meta_v1.ObjectMeta(labels=labels),
                spec=core_v1.PodSpec(containers=[
                    core_v1.Container(name=c, image=f"example/{c}:1") for c in containers
                ]),
            ),
        ),
    )


def widget(name: str | None = None, *, replicas: int | None = 1, color: str | None = None,
           ports: list[tuple[str, int]] | None = None, **meta_kw: Any) -> Any:
    m = widgets_models()
    return m.Widget(
        metadata=meta(name, **meta_kw),
        spec=m.WidgetSpec(
            replicas=replicas, color=color,
            ports=None if ports is None else [m.WidgetSpecPorts(name=n, port=p) for n, p in ports],
        ),
    )


def widgets(b: Any, namespace: str | None = None) -> Any:
    return b.crs.conformance_kubecodegen_test_v1.widgets(namespace or b.namespace)


def rv(obj: Any) -> int:
    """An object's (or list's) resourceVersion as a number, only ever to compare order."""
    return int(obj.metadata.resource_version)


@contextlib.contextmanager
def raises(cls: type[errors.ApiError], reason: str) -> Iterator[list[errors.ApiError]]:
    """Expect an API error of ``cls`` whose Status reason is ``reason``; yields a list that
    holds the error afterwards, for further checks of details and causes."""
    caught: list[errors.ApiError] = []
    try:
        yield caught
    except cls as exc:
        assert exc.reason == reason, (exc.reason, reason)
        caught.append(exc)
        return
    raise AssertionError(f"expected {cls.__name__} ({reason})")


def names(objs: Iterable[Any]) -> list[str]:
    return [o.metadata.name for o in objs]


def event_names(events: Iterable[Any]) -> list[tuple[str, str]]:
    return [(e.type, e.object.metadata.name) for e in events if not isinstance(e, Bookmark)]


def read_events(stream: Any, count: int, *, skip_bookmarks: bool = True) -> list[Any]:
    """The first ``count`` events of ``stream`` (bookmarks skipped), then close it; fewer only if
    the watch timed out first."""
    out: list[Any] = []
    with stream:
        if count == 0:
            return out
        for event in stream:
            if skip_bookmarks and isinstance(event, Bookmark):
                continue
            out.append(event)
            if len(out) >= count:
                break
    return out


def all_events(stream: Any) -> list[Any]:
    """Every event until the watch's own timeout ends it (bookmarks included)."""
    with stream:
        return list(stream)


def owned_fields(obj: Any, manager: str, operation: str | None = None) -> set[str]:
    """The leaf field paths (``data.k``) ``manager`` owns in ``obj``'s managedFields."""
    out: set[str] = set()
    for entry in obj.metadata.managed_fields or []:
        if entry.manager != manager or (operation and entry.operation != operation):
            continue
        _flatten(msgspec.json.decode(entry.fields_v1), "", out)
    return out


def _flatten(tree: dict[str, Any], prefix: str, out: set[str]) -> None:
    for key, sub in tree.items():
        if key == ".":
            continue
        path = f"{prefix}.{key[2:]}" if prefix else key[2:]
        if sub:
            _flatten(sub, path, out)
        else:
            out.add(path)


def managers(obj: Any) -> set[tuple[str, str]]:
    return {(e.manager, e.operation) for e in obj.metadata.managed_fields or []}


class Recorder:
    """Informer event handlers that queue what they hear, and waiting for it without sleeps."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()

    def on_add(self, obj: Any, *_: Any) -> None:
        self.events.put(("add", obj.metadata.name))

    def on_update(self, old: Any, new: Any) -> None:
        self.events.put(("update", new.metadata.name))

    def on_delete(self, obj: Any) -> None:
        inner = getattr(obj, "obj", obj)  # a tombstone carries the last known object
        self.events.put(("delete", inner.metadata.name))

    def wait_for(self, wanted: tuple[str, str], timeout: float = WAIT) -> list[tuple[str, str]]:
        """Events heard until ``wanted`` (included); fails after ``timeout`` seconds."""
        heard: list[tuple[str, str]] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"never heard {wanted}; heard {heard}"
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            heard.append(event)
            if event == wanted:
                return heard

    def wait_all(self, wanted: set[tuple[str, str]], timeout: float = WAIT) -> None:
        """Wait until every event of ``wanted`` was heard, in any order. (An informer's first
        list reads kube-apiserver's watch cache, which may lag the last writes: what it lacks
        arrives by the watch right after, so a scenario waits for events, not for sync.)"""
        missing = set(wanted)
        deadline = time.monotonic() + timeout
        while missing:
            left = deadline - time.monotonic()
            assert left > 0, f"never heard {missing}"
            try:
                missing.discard(self.events.get(timeout=left))
            except queue.Empty:
                continue

