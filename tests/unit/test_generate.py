"""End-to-end generation: determinism, --check, atomic writes, CLI exit codes, hostile specs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kubecodegen.cli import main
from kubecodegen.generate import check, generate, write
from kubecodegen.spec import load_spec

DATA = Path(__file__).resolve().parents[1] / "data" / "specs"
CRDS_SPEC = DATA / "kube-apiserver_v1.20.2_served_with-6-crds.json.gz"


def minimal_spec() -> dict[str, Any]:
    """A small valid document: the v1.20 served spec cut down to core/v1 ConfigMap."""
    doc = load_spec("builtin:v1.20").document
    keep_paths = {p: v for p, v in doc["paths"].items() if "/configmaps" in p and p.startswith("/api/v1/")}
    return {"swagger": "2.0", "info": doc["info"], "paths": keep_paths,
            "definitions": doc["definitions"], "parameters": doc.get("parameters", {})}


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate(str(CRDS_SPEC), "pkg")
    second = generate(str(CRDS_SPEC), "pkg")
    assert first.files == second.files
    assert list(first.files) == sorted(first.files)


def test_check_detects_drift_and_write_is_complete(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(minimal_spec()))
    generated = generate(str(spec), "small")
    assert check(generated, tmp_path) == sorted(generated.files)  # nothing written yet
    write(generated, tmp_path)
    assert check(generated, tmp_path) == []
    (tmp_path / "small" / "models" / "core_v1.py").write_text("# edited\n")
    (tmp_path / "small" / "extra.py").write_text("")
    assert check(generated, tmp_path) == ["extra.py", "models/core_v1.py"]
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "--spec", str(spec), "--package", "small",
                                  "--out", str(tmp_path), "--check"])
    assert result.exit_code == 1
    assert "models/core_v1.py" in result.output and "extra.py" in result.output
    result = runner.invoke(main, ["generate", "--spec", str(spec), "--package", "small", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "small" / "extra.py").exists()
    assert check(generated, tmp_path) == []


def test_bad_spec_writes_nothing_and_exits_2(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(minimal_spec()))
    runner = CliRunner()
    assert runner.invoke(main, ["generate", "--spec", str(spec), "--package", "p", "--out", str(tmp_path)]).exit_code == 0
    before = {p: p.read_bytes() for p in (tmp_path / "p").rglob("*") if p.is_file()}
    broken = minimal_spec()
    broken["definitions"]["io.k8s.api.core.v1.ConfigMap"]["properties"]["data"] = {"$ref": "#/definitions/nope"}
    spec.write_text(json.dumps(broken))
    result = runner.invoke(main, ["generate", "--spec", str(spec), "--package", "p", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "nope" in result.output and "#/definitions/io.k8s.api.core.v1.ConfigMap/properties/data" in result.output
    after = {p: p.read_bytes() for p in (tmp_path / "p").rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("package", ["Bad-Name", "1abc", "msgspec", "a.b", ""])
def test_bad_package_name_exits_2(package: str) -> None:
    result = CliRunner().invoke(main, ["generate", "--package", package, "--check"])
    assert result.exit_code == 2 and "--package" in result.output


def test_inspect_json_and_validate() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["inspect", "--spec", "builtin:v1.20", "-o", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    pods = next(r for r in rows if r["resource"] == "pods")
    assert {"group", "version", "resource", "kind", "namespaced", "verbs", "subresources"} <= set(pods)
    assert pods["subresources"]["status"] == ["get", "update", "patch", "apply"]
    table = runner.invoke(main, ["inspect", "--spec", "builtin:v1.20"]).output
    assert table.splitlines()[0].split()[:5] == ["NAME", "APIVERSION", "NAMESPACED", "KIND", "VERBS"]
    assert runner.invoke(main, ["validate", "--spec", "builtin:v1.35"]).exit_code == 0
    bad = runner.invoke(main, ["validate", "--spec", "builtin:v0.1"])
    assert bad.exit_code == 2 and "v1.35" in bad.output


HOSTILE_DESCRIPTION = 'ends here """; import os; os.system("touch /tmp/pwned") #\\ and a trailing quote"'


def hostile_spec() -> dict[str, Any]:
    """A CRD-shaped document whose names and descriptions try to become code."""
    doc = minimal_spec()
    evil_props: dict[str, Any] = {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
        "spec": {
            "type": "object", "description": HOSTILE_DESCRIPTION,
            "properties": {
                "__class__": {"type": "string"},
                "odd": {"type": "object", "properties": {  # not a msgspec field name: a dict
                    "\"; import os; x=\"": {"type": "string"}, "ok": {"type": "integer"}}},
                "'; import os; x='": {"type": "string", "description": "\\\" \x00 \u2028 '''"},
                "self": {"type": "integer"},
                "class": {"type": "boolean"},
                "list": {"type": "array", "items": {"type": "string"}},
                "str": {"type": "object", "additionalProperties": {"type": "string"}},
                "9lives": {"type": "object", "properties": {"x-y": {"type": "string"}}},
            },
        },
    }
    doc["definitions"]["io.example.evil.v1.Evil"] = {
        "type": "object", "description": HOSTILE_DESCRIPTION, "properties": evil_props,
        "x-kubernetes-group-version-kind": [{"group": "evil.example.io", "version": "v1", "kind": "Evil"}],
    }
    return doc


def test_hostile_names_and_descriptions_never_become_code(tmp_path: Path) -> None:
    spec = tmp_path / "evil.json"
    spec.write_text(json.dumps(hostile_spec()))
    generated = generate(str(spec), "evilpkg")
    write(generated, tmp_path)
    marker = Path("/tmp/pwned")
    marker.unlink(missing_ok=True)
    code = (
        "import evilpkg.models.evil_example_io_v1 as m, msgspec\n"
        "e = m.Evil(spec=m.EvilSpec(class_=True, class_2=False, self=3, list_=['a'], str_={'k': 'v'},\n"
        "           odd={'\"; import os; x=\"': 'kept', 'ok': 1}))\n"
        "assert not hasattr(m, 'EvilSpecOdd')\n"
        "print(m.Evil.__doc__)\n"
        "print(msgspec.json.encode(e).decode())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert 'import os; os.system("touch /tmp/pwned")' in result.stdout  # kept as text
    encoded = json.loads(result.stdout.strip().splitlines()[-1])
    # "__class__" and "class" both become class_; the later one (in wire order) is numbered.
    assert encoded["spec"] == {"__class__": True, "class": False, "self": 3, "list": ["a"], "str": {"k": "v"},
                               "odd": {'"; import os; x="': "kept", "ok": 1}}
    source = (tmp_path / "evilpkg" / "models" / "evil_example_io_v1.py").read_text()
    assert "\x00" not in source
    fields = {line.split(":")[0].strip() for line in source.splitlines() if line.startswith("    ") and ":" in line}
    assert "import_os_x" in fields and "field_9lives" in fields
    # The double-quoted key cannot be a msgspec field: its object is a dict, and the CLI says so.
    assert "import_os_x_2" not in fields and "odd" in fields
    result = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "evilpkg",
                                       "--out", str(tmp_path / "again")])
    assert result.exit_code == 0
    assert "warning: #/definitions/io.example.evil.v1.Evil/properties/spec/properties/odd: kept as " \
        "free-form JSON" in result.output
    assert "quote, backslash, control character" in result.output
