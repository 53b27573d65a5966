"""Generated packages and the runtime library: imports, the version contract, vendoring.

A generated package imports ``kubecodegen_runtime`` and refuses, at import time, a runtime
outside the range it was generated for; ``--vendor-runtime`` gives a package that carries
the runtime as ``_runtime`` and imports nothing of kubecodegen.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import kubecodegen
import kubecodegen_runtime
from kubecodegen.cli import main
from kubecodegen.generate import generate, write
from kubecodegen.render.runtime_link import runtime_link, vendored_files
from kubecodegen.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"
RUNTIME_SOURCE = ROOT / "generator" / "runtime"


def _configmaps_spec(tmp_path: Path) -> Path:
    """The v1.20 served spec cut down to core/v1 ConfigMaps: quick to generate."""
    doc = load_spec("builtin:v1.20").document
    paths = {p: v for p, v in doc["paths"].items() if "/configmaps" in p and p.startswith("/api/v1/")}
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"swagger": "2.0", "info": doc["info"], "paths": paths,
                                "definitions": doc["definitions"]}))
    return spec


def _python(code: str, *, path: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_requirement_is_stated_once_and_satisfied_by_this_runtime() -> None:
    """pyproject's dependency, the generator's constant and the runtime's version agree."""
    project = (ROOT / "pyproject.toml").read_text()
    assert f'"kubecodegen-runtime{kubecodegen.RUNTIME_REQUIREMENT}",' in project
    runtime_project = (RUNTIME_SOURCE / "pyproject.toml").read_text()
    assert 'name = "kubecodegen-runtime"' in runtime_project
    block = runtime_project.split("dependencies = [", 1)[1].split("]", 1)[0]
    deps = set(re.findall(r'^\s*"([A-Za-z0-9_-]+)', block, re.M))
    assert deps == {"httpx", "msgspec", "PyYAML", "wsproto"}
    link = runtime_link(False)
    release = tuple(int(p) for p in kubecodegen_runtime.__version__.split("."))
    assert link.minimum <= release < link.maximum


def test_reference_packages_import_the_library_and_carry_no_copy() -> None:
    for package in ("kube_v1_35", "kube_v1_20"):
        root = GENERATED / package
        assert not (root / "_runtime").exists()
        sources = {p: p.read_text() for p in root.rglob("*.py")}
        assert not [p for p, text in sources.items() if "_runtime." in text and "kubecodegen_runtime" not in text]
        assert "from kubecodegen_runtime.client import" in sources[root / "client.py"]
        assert "from kubecodegen_runtime.scheme import Scheme" in sources[root / "scheme.py"]
        init = sources[root / "__init__.py"]
        assert "    kubecodegen-runtime>=0.2,<0.3\n" in init  # the docstring's requirement line


@pytest.mark.parametrize("version", ["0.9.0", "0.1.7", "1.2"])
def test_an_incompatible_runtime_is_refused_naming_both_versions(tmp_path: Path, version: str) -> None:
    fake = tmp_path / "kubecodegen_runtime"
    fake.mkdir()
    (fake / "__init__.py").write_text(f"__version__ = {version!r}\n")
    result = _python("import kube_v1_35", path=[tmp_path, GENERATED], cwd=tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: kube_v1_35 was generated for kubecodegen-runtime>=0.2,<0.3")
    assert f"kubecodegen-runtime {version} is installed" in last


def test_a_compatible_prerelease_or_patch_runtime_is_accepted(tmp_path: Path) -> None:
    """Only the release numbers count: 0.2.7 and 0.2.1rc1 satisfy >=0.2,<0.3."""
    for version in ("0.2.7", "0.2.1rc1"):
        fake = tmp_path / version / "kubecodegen_runtime"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text(f"__version__ = {version!r}\n")
        # the check runs first in __init__; the scheme import then fails on the fake runtime
        result = _python("import kube_v1_35", path=[fake.parent, GENERATED], cwd=tmp_path)
        assert "was generated for" not in result.stderr
        assert "No module named 'kubecodegen_runtime.scheme'" in result.stderr


def test_vendored_package_is_self_contained(tmp_path: Path) -> None:
    generated = generate(str(_configmaps_spec(tmp_path)), "vend", vendor_runtime=True)
    assert generated.runtime_requirement is None
    copied = {path.removeprefix("_runtime/"): content
              for path, content in generated.files.items() if path.startswith("_runtime/")}
    assert copied == dict(vendored_files())
    assert not [p for p, c in generated.files.items()
                if p.endswith(".py") and b"kubecodegen_runtime" in c and not p.startswith("_runtime/")]
    write(generated, tmp_path / "out")
    result = _python("""
        import sys
        sys.modules["kubecodegen_runtime"] = None  # any import of the library now fails
        sys.modules["kubecodegen"] = None
        import vend
        from vend.models.core_v1 import ConfigMap
        cm = vend.scheme.decode(b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}')
        assert isinstance(cm, ConfigMap) and cm.metadata.name == "a", cm
        assert type(cm).__module__ == "vend.models.core_v1"
        assert vend.scheme.__class__.__module__ == "vend._runtime.scheme"
        # meta/v1 is the vendored runtime's copy, re-exported, and used throughout
        from vend._runtime.apis import meta_v1 as own
        from vend._runtime.errors import Status
        from vend.models.meta_v1 import ObjectMeta
        assert ObjectMeta is own.ObjectMeta and type(cm.metadata) is ObjectMeta
        status = vend.scheme.decode(b'{"apiVersion": "v1", "kind": "Status", "status": "Success"}')
        assert type(status) is Status is own.Status
        print("ok")
    """, path=[tmp_path / "out"], cwd=tmp_path)
    assert result.stdout.strip() == "ok", result.stderr


def test_generate_ends_with_the_requirement_line(tmp_path: Path) -> None:
    spec = _configmaps_spec(tmp_path)
    out = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "p",
                                    "--out", str(tmp_path / "out")])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[-1] == \
        "add to your project's dependencies: kubecodegen-runtime>=0.2,<0.3"
    vendored = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "v",
                                         "--out", str(tmp_path / "out"), "--vendor-runtime"])
    assert vendored.exit_code == 0, vendored.output
    assert vendored.output.splitlines()[-1].startswith("the runtime is vendored")
    assert (tmp_path / "out" / "v" / "_runtime" / "client" / "_sync" / "rest.py").is_file()
    assert not (tmp_path / "out" / "p" / "_runtime").exists()


def test_a_venv_with_only_the_runtime_uses_the_reference_package(tmp_path: Path) -> None:
    """``pip install generator/runtime`` alone (no generator, no jinja2/click/black) is
    enough to import generated/kube_v1_35 and use it."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(RUNTIME_SOURCE)],
                             capture_output=True, text=True, timeout=300, check=False)
    assert install.returncode == 0, install.stderr[-2000:]
    code = textwrap.dedent("""
        import importlib.util, json
        assert importlib.util.find_spec("kubecodegen") is None
        assert importlib.util.find_spec("jinja2") is None
        import kube_v1_35
        from kube_v1_35.models.core_v1 import Pod
        pod = kube_v1_35.scheme.decode(json.dumps({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}))
        assert isinstance(pod, Pod) and pod.spec.containers[0].image == "x"
        cs = kube_v1_35.Clientset
        print(type(pod).__module__, cs.__name__)
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(GENERATED)
    result = subprocess.run([str(python), "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.split() == ["kube_v1_35.models.core_v1", "Clientset"], result.stderr


def test_the_runtime_name_is_not_a_package_name() -> None:
    """A package named kubecodegen_runtime would shadow the library it imports."""
    from kubecodegen.generate import UsageError, check_package_name

    with pytest.raises(UsageError, match="kubecodegen_runtime"):
        check_package_name("kubecodegen_runtime")
