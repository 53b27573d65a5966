"""The fake's structural-schema steps for custom resources against kube-apiserver v1.20.2.

One CRD (``crds/gadgets.yaml``) whose schema uses every keyword the fake reads; a package is
generated from it (``--crd``), so the fake's schema is the one the generator carried over.
Each case writes the same bodies through the dynamic client to the real server and to the
package's fake, and compares what a client sees:

* a write that succeeds: the stored object, metadata aside (what was pruned, defaulted and
  kept must be the same);
* a write that fails: the HTTP status, the reason and the causes — reason, field and
  message of each, as a set (the server lists a node's properties in Go's random map
  order) — and, for a single cause, the whole message.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from kubecodegen_runtime import errors
from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.discovery import DiscoveryClient
from kubecodegen_runtime.dynamic import DynamicClient
from kubecodegen_runtime.meta import GroupVersionResource
from tests.harness.cluster import TestCluster

from .cr_machinery import install_crd
from .rest_helpers import admin_config

pytestmark = pytest.mark.cluster

CRD_FILE = Path(__file__).parent / "crds" / "gadgets.yaml"
GROUP = "schema.kubecodegen.test"
GVR = GroupVersionResource(GROUP, "v1", "gadgets")
API_VERSION = f"{GROUP}/v1"

Write = Callable[[Any], Any]


@pytest.fixture(scope="module")
def gadgets_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package ``kubecodegen generate --crd crds/gadgets.yaml`` makes, imported."""
    from kubecodegen.cli import main

    out = tmp_path_factory.mktemp("gadgets")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(["generate", "--spec", "builtin:v1.20", "--crd", str(CRD_FILE), "--group", GROUP,
              "--package", "gadgets_pkg", "--out", str(out)], standalone_mode=False)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("gadgets_pkg")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "gadgets_pkg" or m.startswith("gadgets_pkg.")]:
            del sys.modules[name]


class Both:
    """The gadgets of one namespace on the real server and on a fresh fake."""

    def __init__(self, real: Any, fake: Any) -> None:
        self.real = real
        self.fake = fake

    def each(self, step: Callable[[Any], Any]) -> tuple[Any, Any]:
        """Run ``step`` on both; each side's stored object or ``ApiError``."""
        outcomes = []
        for side in (self.real, self.fake):
            try:
                outcomes.append(step(side))
            except errors.ApiError as exc:
                outcomes.append(exc)
        return outcomes[0], outcomes[1]

    def same(self, step: Callable[[Any], Any]) -> Any:
        """Run ``step`` on both and assert they agree; the real server's result."""
        real, fake = self.each(step)
        if isinstance(real, errors.ApiError) or isinstance(fake, errors.ApiError):
            assert _refusal(fake) == _refusal(real)
            return real
        assert _content(fake) == _content(real)
        return real


def _refusal(outcome: Any) -> Any:
    if not isinstance(outcome, errors.ApiError):
        return ("accepted", _content(outcome))
    causes = sorted((c.reason or "", c.field or "", c.message or "") for c in outcome.causes)
    message = outcome.message if len(causes) <= 1 else None
    return (outcome.status, outcome.reason, causes, message)


def _content(obj: Any) -> Any:
    """What a write stored, metadata aside (names, labels and annotations kept)."""
    assert isinstance(obj, dict), obj
    meta = obj.get("metadata", {})
    kept = {k: meta[k] for k in ("name", "labels", "annotations") if k in meta}
    return {**{k: v for k, v in obj.items() if k != "metadata"}, "metadata": kept}


@pytest.fixture
def both(cluster: TestCluster, namespace: str, gadgets_package: ModuleType,
         tmp_path: Path) -> Iterator[Both]:
    install_crd(cluster.admin_client(), yaml.safe_load(CRD_FILE.read_text()))
    fake_cs = importlib.import_module("gadgets_pkg.fake").Clientset()
    with RESTClient(admin_config(cluster)) as rest:
        real = DynamicClient(rest, DiscoveryClient(rest, cache_dir=tmp_path))
        yield Both(real.resource(GVR).namespace(namespace),
                   fake_cs.dynamic.resource(GVR).namespace(namespace))


def gadget(name: str, spec: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": API_VERSION, "kind": "Gadget",
                            "metadata": {"name": name}, "spec": {"mode": "fast", **(spec or {})}}
    body.update(top)
    return body


def create(body: dict[str, Any]) -> Write:
    return lambda side: side.create(copy.deepcopy(body))


# -- pruning, nulls and defaults ----------------------------------------------------------------

def test_unknown_fields_are_pruned_at_every_level(both: Both) -> None:
    made = both.same(create(gadget("p", {
        "bogus": 1,
        "ports": [{"name": "a", "port": 1, "extra": True}],
        "labels": {"a": "x"},
        "limits": {"cpu": "1", "gpu": "2"},
        "extra": {"anything": {"deep": [1, {"x": 2}]},
                  "known": {"kept": "k", "dropped": "d"}},
        "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t"},
                     "spec": {"image": "i", "junk": 1}, "other": 2},
    }, top=1, status={"phase": "Ready"})))
    spec = made["spec"]
    assert "top" not in made and "bogus" not in spec and "gpu" not in spec["limits"]
    assert spec["extra"]["anything"] == {"deep": [1, {"x": 2}]}
    assert spec["extra"]["known"] == {"kept": "k"}
    assert spec["template"] == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t"},
                                "spec": {"image": "i"}}


def test_defaults_nulls_and_nullable(both: Both) -> None:
    made = both.same(create(gadget("d", {
        "note": None, "code": None, "color": None, "ports": [{"name": "a"}],
        "settings": {"backoff": "1s"},
    })))
    spec = made["spec"]
    assert spec["note"] is None and "code" not in spec  # nullable kept, the other dropped
    assert spec["color"] == "blue" and spec["level"] == 5 and spec["enabled"] is True
    assert spec["ports"] == [{"name": "a", "port": 80}]
    assert spec["settings"] == {"backoff": "1s", "retries": 3}
    bare = both.same(create(gadget("bare")))
    assert bare["spec"]["settings"] == {"retries": 3}


def test_updates_and_patches_are_pruned_and_defaulted(both: Both) -> None:
    both.same(create(gadget("u")))
    both.same(lambda side: side.patch("u", {"spec": {"bogus": 1, "level": None,
                                                     "ports": [{"name": "b"}]}}))
    current = both.same(lambda side: side.get("u"))
    current["spec"]["junk"] = "x"
    current["spec"].pop("color")

    def replace(side: Any) -> Any:
        body = copy.deepcopy(current)
        body["metadata"] = {"name": "u", "resourceVersion": side.get("u")["metadata"][
            "resourceVersion"]}
        return side.update(body)
    both.same(replace)
    both.same(lambda side: side.patch_status("u", {"status": {"phase": "Ready", "junk": 1,
                                                              "replicas": 2}}))


# -- validation -----------------------------------------------------------------------------------

INVALID_SPECS: list[tuple[str, dict[str, Any]]] = [
    ("type", {"replicas": "many"}),
    ("integral float", {"level": 2.0}),
    ("minimum", {"level": 0}),
    ("maximum", {"level": 11}),
    ("float bounds", {"ratio": 0.25}),
    ("exclusive maximum", {"ratio": 2.5}),
    ("multiple of", {"step": 4}),
    ("integer enum", {"priority": 4}),
    ("string enum", {"mode": "medium"}),
    ("too short", {"code": "a"}),
    ("too long", {"code": "abcdef"}),
    ("pattern", {"code": "AB"}),
    ("int or string", {"port": True}),
    ("too few items", {"tags": []}),
    ("too many items", {"tags": ["a", "b", "c", "d"]}),
    ("duplicate set item", {"tags": ["a", "a"]}),
    ("duplicate list-map key", {"ports": [{"name": "a"}, {"name": "a", "port": 2}]}),
    ("list-map item without its key", {"ports": [{"port": 2}]}),
    ("too many properties", {"labels": {"a": "1", "b": "2", "c": "3"}}),
    ("too few properties", {"limits": {}}),
    ("additional property type", {"labels": {"a": 1}}),
    ("null in a list", {"values": [1, None]}),
    ("negative replicas (scale)", {"replicas": -1}),
    ("float replicas (scale)", {"replicas": 1.5}),
    ("integer against a float bound", {"ratio": 2}),
    ("float multiple of", {"step": 4.5}),
    ("null map value", {"labels": {"a": None}}),
    ("object for a string", {"code": {"a": 1}}),
    ("list for an object", {"limits": ["cpu"]}),
    ("many at once", {"replicas": "x", "level": 99, "code": "Z", "mode": "other"}),
]


@pytest.mark.parametrize("spec", [s for _, s in INVALID_SPECS],
                         ids=[i for i, _ in INVALID_SPECS])
def test_invalid_objects_are_refused_alike(both: Both, spec: dict[str, Any]) -> None:
    both.same(create(gadget("bad", spec)))


def test_required_fields(both: Both) -> None:
    body = gadget("r")
    del body["spec"]["mode"]
    both.same(create(body))


def test_invalid_update_and_status(both: Both) -> None:
    both.same(create(gadget("s", {"tags": ["a", "a"]})))  # refused: a duplicate
    both.same(create(gadget("s")))
    both.same(lambda side: side.patch("s", {"spec": {"level": 50}}))
    both.same(lambda side: side.patch_status("s", {"status": {"phase": "Gone",
                                                              "replicas": "two"}}))
    both.same(lambda side: side.patch_status("s", {"status": {"replicas": -3}}))


def test_server_side_apply(both: Both) -> None:
    both.same(lambda side: side.apply(gadget("ap", {"level": 2}), field_manager="m"))
    both.same(lambda side: side.apply(gadget("ap", {"level": 0}), field_manager="m"))
    both.same(lambda side: side.apply(gadget("ap", {"bogus": 1}), field_manager="m"))
    both.same(lambda side: side.apply(gadget("ap2", {"ports": [{"name": "a", "x": 1}]}),
                                      field_manager="m"))

