"""Every bundled spec validates, generates, imports without warnings and passes mypy.

The two embedded specs are covered by the committed packages in generated/ (imported by
other tests, type-checked by ``make typecheck``); this covers the others: v1.30,
release-1.36, and v1.20.2 as served with six real-world CRDs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubecodegen.generate import generate, write

DATA = Path(__file__).resolve().parents[1] / "data" / "specs"
SPECS = {
    "kube_v1_30": DATA / "kubernetes_v1.30.0.json.gz",
    "kube_release_1_36": DATA / "kubernetes_release-1.36.json.gz",
    "kube_v1_20_crds": DATA / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz",
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("specs")
    for package, spec in SPECS.items():
        write(generate(str(spec), package), out)
    return out


@pytest.mark.parametrize("package", sorted(SPECS))
def test_imports_every_module_without_warnings(packages: Path, package: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"import {package} as p\n"
        "names = [m.name for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "kinds = p.scheme.kinds()\n"
        "for gvk in kinds: p.scheme.type_for(gvk)\n"
        "print(len(names), len(kinds))\n"
    )
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=packages,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    modules, kinds = map(int, result.stdout.split())
    assert modules > 50 and kinds > 100


def test_generated_packages_pass_mypy(packages: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(packages / ".mypy_cache"),
         *sorted(SPECS)],
        cwd=packages, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
