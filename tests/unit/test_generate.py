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


@pytest.mark.parametrize("package", ["Bad-Name", "1abc", "msgspec", "a.b", "", "class", "import",
                                     "async", "abc\n"])
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
    cli = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "evilpkg",
                                    "--out", str(tmp_path / "again")])
    assert cli.exit_code == 0
    assert "warning: #/definitions/io.example.evil.v1.Evil/properties/spec/properties/odd: kept as " \
        "free-form JSON" in cli.output
    assert "quote, backslash, control character" in cli.output


def _with_vpa_crd(doc: dict[str, Any]) -> dict[str, Any]:
    """Add a CRD in VPA's group autoscaling.k8s.io (first label of built-in autoscaling)."""
    doc = json.loads(json.dumps(doc))
    doc["definitions"]["io.k8s.autoscaling.v1.VerticalPodAutoscaler"] = {
        "type": "object",
        "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                       "spec": {"type": "object", "properties": {"x": {"type": "string"}}}},
        "x-kubernetes-group-version-kind": [
            {"group": "autoscaling.k8s.io", "version": "v1", "kind": "VerticalPodAutoscaler"}],
    }
    gvk = {"group": "autoscaling.k8s.io", "version": "v1", "kind": "VerticalPodAutoscaler"}
    ref = {"$ref": "#/definitions/io.k8s.autoscaling.v1.VerticalPodAutoscaler"}
    doc["paths"]["/apis/autoscaling.k8s.io/v1/namespaces/{namespace}/verticalpodautoscalers/{name}"] = {
        "get": {"responses": {"200": {"description": "OK", "schema": ref}},
                "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk}}
    return doc


@pytest.mark.parametrize("groups", [None, ["apps"], ["autoscaling"], ["autoscaling.k8s.io"]])
def test_a_crd_in_a_builtin_groups_first_label_renames_no_builtin(groups: list[str] | None) -> None:
    from kubecodegen.generate import model_of
    from kubecodegen.spec import LoadedSpec

    # Labelled builtin: the CRD is added by hand, not published by a 1.20 server (which
    # would have published _v2 meta copies with it, see the fixup table).
    with_vpa = LoadedSpec("builtin:v1.20 + VPA", _with_vpa_crd(load_spec("builtin:v1.20").document))
    model = model_of(with_vpa, groups=groups)
    names = {g.name: g.py_name for g in model.groups}
    if groups != ["autoscaling.k8s.io"]:
        base = model_of(load_spec("builtin:v1.20"), groups=groups)
        before = {g.name: g.py_name for g in base.groups}
        assert {g: n for g, n in names.items() if g in before} == before
        assert sorted(base.modules) == sorted(m for m in model.modules if m in base.modules)
    if groups in (None, ["autoscaling"]):
        assert names["autoscaling"] == "autoscaling"
        assert "autoscaling_v1" in {gv.py_name for gv in model.group_versions()}
    if groups in (None, ["autoscaling.k8s.io"]):
        assert names["autoscaling.k8s.io"] == "autoscaling_k8s_io"
        vpa = model.structs["io.k8s.autoscaling.v1.VerticalPodAutoscaler"]
        assert vpa.module == "autoscaling_k8s_io_v1"
    if groups is None:
        assert "autoscaling_v1" in model.modules and "autoscaling_k8s_io_v1" in model.modules


def _tiny_crd_spec(spec_schema: dict[str, Any]) -> dict[str, Any]:
    """A document with one custom resource and nothing else (fast to generate)."""
    gvk = {"group": "example.io", "version": "v1", "kind": "Thing"}
    ref = {"$ref": "#/definitions/io.example.v1.Thing"}
    list_ref = {"$ref": "#/definitions/io.example.v1.ThingList"}
    return {
        "swagger": "2.0", "info": {"title": "Tiny", "version": "v1"},
        "definitions": {
            "io.example.v1.Thing": {
                "type": "object", "x-kubernetes-group-version-kind": [gvk],
                "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                               "spec": spec_schema}},
            "io.example.v1.ThingList": {
                "type": "object", "x-kubernetes-group-version-kind": [{**gvk, "kind": "ThingList"}],
                "required": ["items"],
                "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                               "items": {"type": "array", "items": ref}}},
        },
        "paths": {
            "/apis/example.io/v1/namespaces/{namespace}/things": {"get": {
                "responses": {"200": {"description": "OK", "schema": list_ref}},
                "x-kubernetes-action": "list", "x-kubernetes-group-version-kind": gvk}},
            "/apis/example.io/v1/namespaces/{namespace}/things/{name}": {"get": {
                "responses": {"200": {"description": "OK", "schema": ref}},
                "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk}},
        },
    }


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for level in range(depth):
        node = {"type": "object", "properties": {f"p{level}": node}}
    return node


def test_deeply_nested_schemas_generate_or_exit_2(tmp_path: Path) -> None:
    """60 levels (deeper than any real CRD) work; 200 levels give a clear exit 2, no traceback."""
    runner = CliRunner()
    spec = tmp_path / "deep.json"
    spec.write_text(json.dumps(_tiny_crd_spec(_nested(60))))
    result = runner.invoke(main, ["generate", "--spec", str(spec), "--package", "deep", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    spec.write_text(json.dumps(_tiny_crd_spec(_nested(200))))
    result = runner.invoke(main, ["generate", "--spec", str(spec), "--package", "deep2", "--out", str(tmp_path)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "nested more than" in result.output and "#/definitions/io.example.v1.Thing/properties/spec" in result.output
    assert not (tmp_path / "deep2").exists()


@pytest.mark.parametrize("out", ["/proc/no/such/place", "{file}/below-a-file", "/proc/sys"])
def test_unwritable_out_exits_2_with_a_message(tmp_path: Path, out: str) -> None:
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps(_tiny_crd_spec({"type": "object", "properties": {"a": {"type": "string"}}})))
    (tmp_path / "file").write_text("")
    out = out.format(file=tmp_path / "file")
    result = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "tiny", "--out", out])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith("error: --out ") and "cannot write the package" in result.output
    assert "Traceback" not in result.output


def test_a_reference_chain_thousands_long_exits_2_not_a_traceback(tmp_path: Path) -> None:
    """Alias definitions are resolved recursively; past Python's limit that is a clear exit 2."""
    document = _tiny_crd_spec({"$ref": "#/definitions/a.A0"})
    length = 3000
    for index in range(length):
        document["definitions"][f"a.A{index}"] = (
            {"$ref": f"#/definitions/a.A{index + 1}"} if index < length - 1 else {"type": "string"})
    spec = tmp_path / "chain.json"
    spec.write_text(json.dumps(document))
    for command in (["validate"], ["inspect"], ["generate", "--package", "chain", "--out", str(tmp_path)]):
        result = CliRunner().invoke(main, [*command, "--spec", str(spec)])
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), command
        assert "nested too deeply" in result.output
    assert not (tmp_path / "chain").exists()


def test_error_messages_escape_control_characters() -> None:
    result = CliRunner().invoke(main, ["inspect", "--spec", "builtin:v1.20", "--group", "x\x1b[2J\ny"])
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "x\\x1b[2J\\ny" in result.output
    assert result.output.count("\n") == 1
