"""encode(decode(x)) == x, as JSON values, for a real 3000-pod PodList from kube-apiserver v1.20.2.

A typed client that loses or rewrites a field corrupts objects on the next update, so
every pod of a real server response must survive a decode/encode unchanged: the whole
list as ``PodList``, and each pod alone as ``Pod`` (how get/watch see them). The package
is generated from the embedded v1.20 spec, unless a committed ``generated/kube_v1_20``
imports.
"""

from __future__ import annotations

import gzip
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "benchmarks" / "podlist-3000-v1.20.2.json.gz"
PACKAGE = "kube_v1_20"


def _committed_imports() -> bool:
    if not (ROOT / "generated" / PACKAGE / "__init__.py").is_file():
        return False
    probe = subprocess.run(
        [sys.executable, "-c", f"import {PACKAGE}.models.core_v1, kubecodegen_runtime.codec"],
        cwd=ROOT / "generated", capture_output=True, check=False, timeout=120,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if _committed_imports():
        return ROOT / "generated"
    from kubecodegen.generate import generate, write

    out = tmp_path_factory.mktemp("roundtrip")
    write(generate("builtin:v1.20", PACKAGE), out)
    return out


@pytest.fixture(scope="module")
def modules(package_dir: Path) -> Iterator[tuple[ModuleType, ModuleType]]:
    """The generated codec and core/v1 models, imported from ``package_dir`` only."""
    saved = {name: mod for name, mod in sys.modules.items()
             if name == PACKAGE or name.startswith(PACKAGE + ".")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(package_dir))
    try:
        codec = importlib.import_module("kubecodegen_runtime.codec")
        core = importlib.import_module(f"{PACKAGE}.models.core_v1")
        assert Path(core.__file__ or "").is_relative_to(package_dir)
        yield codec, core
    finally:
        sys.path.remove(str(package_dir))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture(scope="module")
def sample() -> bytes:
    return gzip.decompress(SAMPLE.read_bytes())


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where two JSON values differ; type-strict, so ``1`` ≠ ``1.0`` ≠ ``true``."""
    if type(expected) is not type(actual):
        return f"{path}: {expected!r:.60} ({type(expected).__name__}) became {actual!r:.60} ({type(actual).__name__})"
    if isinstance(expected, dict):
        for key in [*expected, *(k for k in actual if k not in expected)]:
            if key not in actual or key not in expected:
                return f"{path}.{key}: {'missing' if key not in actual else 'added'} after round trip"
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items became {len(actual)}"
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if expected == actual else f"{path}: {expected!r:.60} became {actual!r:.60}"


def test_first_difference_is_type_strict() -> None:
    assert first_difference({"a": [1, {"b": True}]}, {"a": [1, {"b": True}]}) is None
    assert first_difference({"a": 1}, {"a": 1.0}) == "$.a: 1 (int) became 1.0 (float)"
    assert first_difference({"a": [1]}, {"a": [True]}) == "$.a[0]: 1 (int) became True (bool)"
    assert first_difference({"a": {}}, {"a": {"x": None}}) == "$.a.x: added after round trip"
    assert first_difference({"a": 1, "b": 2}, {"a": 1}) == "$.b: missing after round trip"


def test_whole_podlist_round_trips(modules: tuple[ModuleType, ModuleType], sample: bytes) -> None:
    codec, core = modules
    original = json.loads(sample)
    decoded = codec.decode(sample, core.PodList)
    assert isinstance(decoded.items[0], core.Pod)
    assert len(decoded.items) == len(original["items"]) == 3000
    assert first_difference(original, json.loads(codec.encode(decoded))) is None


def test_each_pod_round_trips_alone(modules: tuple[ModuleType, ModuleType], sample: bytes) -> None:
    codec, core = modules
    differences = []
    for index, item in enumerate(json.loads(sample)["items"]):
        pod = codec.decode(json.dumps(item).encode(), core.Pod)
        found = first_difference(item, json.loads(codec.encode(pod)), f"$.items[{index}]")
        if found:
            differences.append(found)
    assert differences == [], f"{len(differences)} pods changed; first: {differences[:3]}"


def test_decoded_objects_do_not_pin_the_response(modules: tuple[ModuleType, ModuleType]) -> None:
    """fieldsV1 is raw JSON (a view into the body while decoding); each is copied, so a
    pod kept from a list does not keep the whole 44 MB response alive."""
    codec, core = modules
    body = gzip.decompress(SAMPLE.read_bytes())
    baseline = sys.getrefcount(body)
    pods = codec.decode(body, core.PodList).items
    assert sys.getrefcount(body) == baseline
    entry = pods[0].metadata.managed_fields[0]
    assert json.loads(bytes(entry.fields_v1))["f:metadata"]
