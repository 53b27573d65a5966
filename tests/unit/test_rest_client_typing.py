"""Scope and event types are enforced by mypy, not only at run time."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

SNIPPET = '''
from typing import Any, ClassVar
import msgspec
from kubecodegen_runtime.client import ClusterResource, NamespacedResource, RESTClient, WithScale
from kubecodegen_runtime.meta import GroupVersionKind, ResourceInfo
from kubecodegen_runtime.model import Object
from kubecodegen_runtime.watch import Bookmark, WatchEvent

class Thing(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "Thing")

class ThingList(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("", "v1", "ThingList")
    items: list[Thing]

class Scale(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("autoscaling", "v1", "Scale")

class Things(NamespacedResource[Thing, ThingList], WithScale[Scale]):
    info = ResourceInfo("", "v1", "things", "Thing", True)
    type = Thing
    list_type = ThingList
    scale_type = Scale

class Nodes(ClusterResource[Thing, ThingList]):
    info = ResourceInfo("", "v1", "nodes", "Thing", False)
    type = Thing
    list_type = ThingList

def use(rest: RESTClient) -> None:
    things = Things(rest, "default")
    reveal_type(things.get("a"))
    reveal_type(things.get_scale("a"))
    reveal_type(things.list())
    for ev in things.watch():
        reveal_type(ev)
    for ev2 in things.watch(allow_watch_bookmarks=True):
        if ev2.type == "BOOKMARK":
            reveal_type(ev2)
    reveal_type(Things.all_namespaces(rest).list())
    Nodes(rest, "default")          # error: cluster-scoped takes no namespace
    Things(rest)                    # error: namespaced needs one
    things.get("a", namespace="x")  # error: scope is bound at construction
    Things.all_namespaces(rest).create(Thing())  # error: the all-namespaces view is read-only
'''


def test_mypy_enforces_scope_and_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the source tree, not the installed (marker-less) distribution
    monkeypatch.setenv("MYPYPATH", str(Path(__file__).resolve().parents[2] / "generator" / "runtime"))
    source = tmp_path / "snippet.py"
    source.write_text(textwrap.dedent(SNIPPET))
    out, _err, status = mypy_api.run(
        ["--strict", "--no-incremental", "--show-error-codes", "--no-error-summary",
         "--config-file", "", str(source)]
    )
    lines = out.splitlines()
    revealed = [line.split("Revealed type is ", 1)[1] for line in lines if "Revealed type" in line]
    assert revealed == [
        '"snippet.Thing"',
        '"snippet.Scale"',
        '"snippet.ThingList"',
        '"kubecodegen_runtime.watch.event.WatchEvent[snippet.Thing]"',
        '"kubecodegen_runtime.watch.event.Bookmark"',
        '"snippet.ThingList"',
    ], out
    errors = [line for line in lines if ": error:" in line]
    lines_with_errors = sorted({int(line.split(":")[1]) for line in errors})
    expected = [i + 1 for i, text in enumerate(textwrap.dedent(SNIPPET).splitlines())
                if "# error:" in text]
    assert lines_with_errors == expected, out
    assert status == 1


FACTORY_SNIPPET = '''
from kubecodegen_runtime.cache.factory import AsyncSharedInformerFactory, SharedInformerFactory
from kubecodegen_runtime.client import AsyncRESTClient, RESTClient

class Clientset:
    def __init__(self, rest: RESTClient) -> None:
        self.rest = rest

class AsyncClientset:
    def __init__(self, rest: AsyncRESTClient) -> None:
        self.rest = rest

def use(rest: RESTClient, arest: AsyncRESTClient) -> None:
    SharedInformerFactory(rest)
    SharedInformerFactory(Clientset(rest))
    AsyncSharedInformerFactory(arest)
    AsyncSharedInformerFactory(AsyncClientset(arest))
    SharedInformerFactory(42)                        # error: not a client
    SharedInformerFactory(AsyncClientset(arest))     # error: an async ClientSet for threads
    AsyncSharedInformerFactory(rest)                 # error: a sync RESTClient for asyncio
'''


def test_mypy_checks_what_informer_factories_accept(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A factory takes any package's ClientSet (structurally, by its ``.rest``) and refuses
    anything else, and the sync and async flavours cannot be mixed up."""
    monkeypatch.setenv("MYPYPATH", str(Path(__file__).resolve().parents[2] / "generator" / "runtime"))
    source = tmp_path / "factory_snippet.py"
    source.write_text(textwrap.dedent(FACTORY_SNIPPET))
    out, _err, status = mypy_api.run(
        ["--strict", "--no-incremental", "--show-error-codes", "--no-error-summary",
         "--config-file", "", str(source)]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    lines_with_errors = sorted({int(line.split(":")[1]) for line in errors})
    expected = [i + 1 for i, text in enumerate(textwrap.dedent(FACTORY_SNIPPET).splitlines())
                if "# error:" in text]
    assert lines_with_errors == expected, out
    assert status == 1
