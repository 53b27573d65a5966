"""Built-ins and a CRD package in one process, on the real server, sharing one RESTClient.

The CRD package is generated offline from tests/data/crds (``--crd``); the scenario
(two_packages_scenario.py) must pass ``mypy --strict`` as well as run: composing packages
is a typing promise, not only a run-time one.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecodegen.generate import SpecSource, generate, write
from tests.integration.test_crds_from_cluster import _for_v1_20

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CRD = ROOT / "tests" / "data" / "crds" / "prometheus-operator__monitoring.coreos.com_servicemonitors.yaml"


@pytest.fixture(scope="module")
def mon_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("monpkg")
    (out / "crd.yaml").write_text(yaml.safe_dump(_crd()))
    write(generate(SpecSource(crds=(str(out / "crd.yaml"),)), "mon_crds"), out)
    paths = [str(out), str(ROOT / "generated")]
    sys.path[:0] = paths
    try:
        yield out
    finally:
        for p in paths:
            sys.path.remove(p)
        for name in [m for m in sys.modules if m == "mon_crds" or m.startswith("mon_crds.")]:
            del sys.modules[name]


def _crd() -> Any:
    """The ServiceMonitor CRD as kube-apiserver 1.20 accepts it (see _for_v1_20)."""
    return _for_v1_20(yaml.safe_load(CRD.read_text()))


def _install(client: Any) -> None:
    response = client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                           json=_crd())
    assert response.status_code in (201, 409), response.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = client.get("/apis/monitoring.coreos.com/v1")
        if found.status_code == 200 and any(r["name"] == "servicemonitors"
                                            for r in found.json()["resources"]):
            return
        time.sleep(0.5)
    raise AssertionError("servicemonitors never served")


def test_the_scenario_type_checks_strictly(mon_package: Path) -> None:
    env = {**os.environ, "MYPYPATH": os.pathsep.join([str(mon_package), str(ROOT / "generated")])}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "",
         "--python-version", "3.10", str(HERE / "two_packages_scenario.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_packages_share_one_client_scheme_errors_and_factories(
        mon_package: Path, cluster: Any, namespace: str) -> None:
    _install(cluster.admin_client())
    scenario = importlib.import_module("tests.integration.two_packages_scenario")
    seen = scenario.run(str(cluster.admin_kubeconfig), namespace)
    assert seen == [
        "created web",
        "kubecodegen_runtime.errors", "kubecodegen_runtime.errors",
        "monitoring.coreos.com/v1", "v1",
        "cached web",
    ]
