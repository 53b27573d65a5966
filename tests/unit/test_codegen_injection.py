"""No spec text becomes code: the escape-by-default template policy, the escaping filters,
and generation from specs with arbitrary strings in every field the templates read.

Issue 8, section 0: a kind ``W\"\"\"+str(__import__("os").system("touch /tmp/x"))+\"\"\"`` used to
generate without complaint and run its command when the group module was imported.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jinja2
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kubecodegen.cli import main
from kubecodegen.naming import Identifier
from kubecodegen.render import env as render_env
from kubecodegen.render.env import Code, UnsafeInsertion, comment, doc_text, docstring, py_string
from kubecodegen.render.plan import plan_package

# --- the policy ----------------------------------------------------------------------------


def _render(source: str, **context: Any) -> str:
    return render_env.make_environment().from_string(source).render(**context)


@pytest.mark.parametrize("value", ["Pod", 'W"""+x+"""', None, 1.5, ["a"], b"x", "{{ 7*7 }}"])
def test_a_plain_value_is_refused(value: object) -> None:
    with pytest.raises(UnsafeInsertion):
        _render("x = {{ value }}", value=value)


def test_a_template_literal_is_refused_too() -> None:
    """Constant folding must not let a template author's string through the policy."""
    with pytest.raises(UnsafeInsertion):
        _render('{{ "raw" }}')
    with pytest.raises(UnsafeInsertion):
        _render('{{ "a" if flag else "b" }}', flag=True)


def test_identifiers_code_ints_and_bools_are_inserted_and_filters_escape() -> None:
    text = _render(
        "{{ name }} = {{ code }}({{ n }}, {{ flag }}, {{ s | py_string }}); {{ mods | idents }}\n"
        '"""{{ s | doc_text }}"""\n# {{ s | comment }}\n',
        name=Identifier("x"), code=Code("frozenset"), n=3, flag=True, s='a"""\n\\b',
        mods=[Identifier("core_v1"), Identifier("meta_v1")])
    assert text.splitlines()[0] == 'x = frozenset(3, True, "a\\"\\"\\"\\n\\\\b"); core_v1, meta_v1'
    module = ast.parse(text)
    assert len(module.body) == 3  # the assignment, the import list and the docstring


def test_idents_refuses_plain_strings() -> None:
    with pytest.raises(UnsafeInsertion):
        _render("{{ mods | idents }}", mods=["os; import os"])


def test_a_plain_string_in_a_planned_context_stops_rendering() -> None:
    """The real templates rely on the policy: a name that skipped naming.py is refused."""
    from kubecodegen.generate import model_of
    from kubecodegen.spec import load_spec

    model = model_of(load_spec("builtin:v1.20"), groups=["core"])
    planned = next(f for f in plan_package(model, "pkg", "t") if f.path == "clientset/core_v1.py")
    environment = render_env.make_environment()
    assert planned.template is not None
    environment.get_template(planned.template).render(**planned.context)  # as planned: fine
    for key, plain in (("kind", "ConfigMap"), ("accessor", "config_maps"), ("type", "core_v1.Pod")):
        resources = [dict(r) for r in planned.context["resources"]]
        resources[0][key] = plain if key != "kind" else 'X"""; import os #'
        if key == "kind":  # spec text only ever goes through a filter: kept as text
            source = environment.get_template(planned.template).render(
                **{**planned.context, "resources": resources})
            assert 'X\\"\\"\\"; import os #' in source
            continue
        with pytest.raises(UnsafeInsertion):
            environment.get_template(planned.template).render(
                **{**planned.context, "resources": resources})


def test_every_template_is_loaded_by_the_policy_environment() -> None:
    """No template bypasses finalize (e.g. by being rendered with another environment)."""
    environment = render_env.make_environment()
    names = environment.list_templates()
    assert len(names) >= 12
    assert environment.finalize is render_env.finalize
    assert isinstance(environment.undefined, type) and issubclass(environment.undefined,
                                                                  jinja2.StrictUndefined)


# --- the filters, over arbitrary text --------------------------------------------------------


@given(st.text())
@settings(max_examples=400, deadline=None)
def test_py_string_is_a_literal_of_exactly_the_text(text: str) -> None:
    """The one escaping function for wire names (``msgspec.field(name=...)``) and literals."""
    literal = py_string(text)
    assert literal.isascii() and "\n" not in literal
    assert ast.literal_eval(literal) == text


@given(st.text(), st.integers(min_value=0, max_value=8))
@settings(max_examples=400, deadline=None)
def test_docstring_bodies_never_end_their_string(text: str, indent: int) -> None:
    source = f'def f():\n    """{docstring(text, indent)}"""\n    return 1\n'
    tree = ast.parse(source)
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef) and len(function.body) == 2
    assert isinstance(function.body[0], ast.Expr)
    assert isinstance(function.body[0].value, ast.Constant)


@given(st.text())
@settings(max_examples=400, deadline=None)
def test_doc_text_and_comment_stay_where_they_are_put(text: str) -> None:
    tree = ast.parse(f'"""Client of {doc_text(text)} (x)."""\n# from {comment(text)}. DO NOT EDIT.\nx = 1\n')
    assert len(tree.body) == 2
    assert isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[1], ast.Assign)


# --- generation from hostile specs ------------------------------------------------------------

_MARKER_NAME = "pwned"
HOSTILE = [
    '"""', "'''", '"', "'", "\\", "\n", "\r\n", "\x00", "\x1b[2J", "\u2028", "\ud800", "#",
    '"""+str(__import__("os").system("touch ' + _MARKER_NAME + '"))+"""',
    "'''+open('" + _MARKER_NAME + "','w').name+'''",
    '\n__import__("os").system("touch ' + _MARKER_NAME + '")\n',
    '"; import os; os.system("touch ' + _MARKER_NAME + '") #', "{{ 7*7 }}", "{% raw %}", "\\N{",
]
_hostile_piece = st.sampled_from(HOSTILE)
hostile_text = st.one_of(
    st.text(max_size=12), _hostile_piece,
    st.lists(st.one_of(_hostile_piece, st.text(max_size=4)), max_size=4).map("".join))


def _name(pattern: str, *, allow_hostile: bool) -> st.SearchStrategy[str]:
    valid = st.from_regex(pattern, fullmatch=True)
    return st.one_of(valid, valid, hostile_text) if allow_hostile else valid


def _printable_line() -> st.SearchStrategy[str]:
    return st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
                                 include_characters=" "),
                   max_size=30)


@st.composite
def specs(draw: st.DrawFn, *, hostile_names: bool) -> dict[str, Any]:
    """A one-resource document with arbitrary text in every field the templates read (and the
    fake clientset's tables: property names, merge extensions, group, kind)."""
    group = draw(st.one_of(st.just(""), _name(r"[a-z][a-z0-9-]{0,6}[a-z0-9](\.[a-z0-9]{1,5}){0,2}",
                                              allow_hostile=hostile_names)))
    version = draw(_name(r"v[1-9](alpha[1-9]|beta[1-9])?", allow_hostile=hostile_names))
    kind = draw(_name(r"[A-Z][A-Za-z0-9]{0,10}", allow_hostile=hostile_names))
    plural = draw(_name(r"[a-z][a-z0-9]{0,10}", allow_hostile=hostile_names))
    namespace = draw(_name(r"[a-z]{1,6}(\.[a-z0-9]{1,5}){0,2}", allow_hostile=hostile_names))
    free = hostile_text
    title = draw(hostile_text if hostile_names else _printable_line())
    info_version = draw(hostile_text if hostile_names else _printable_line())
    properties = draw(st.dictionaries(st.one_of(st.text(max_size=10), _hostile_piece), st.tuples(
        free, st.lists(free, max_size=3), free), max_size=4))
    spec_schema = {"type": "object", "description": draw(free), "properties": {
        name: {"type": "string", "description": description, "enum": enum, "default": default}
        for name, (description, enum, default) in properties.items()}}
    # merge extensions take any text (the schema enumerates only list-type and map-type):
    # they reach the fake clientset's tables (_fake_api.py)
    tags = {"type": "array", "items": {"type": "string"},
            "x-kubernetes-list-map-keys": draw(st.lists(free, max_size=2)),
            "x-kubernetes-patch-strategy": draw(free), "x-kubernetes-patch-merge-key": draw(free)}
    gvk = {"group": group, "version": version, "kind": kind}
    list_gvk = {**gvk, "kind": f"{kind}List"}
    item, listed = f"{namespace}.{kind}", f"{namespace}.{kind}List"
    ref, list_ref = (f"#/definitions/{name.replace('~', '~0').replace('/', '~1')}" for name in (item, listed))
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    return {
        "swagger": "2.0", "info": {"title": title, "version": info_version},
        "definitions": {
            item: {"type": "object", "description": draw(free), "x-kubernetes-group-version-kind": [gvk],
                   "properties": {"apiVersion": {"type": "string", "description": draw(free)},
                                  "kind": {"type": "string"}, "spec": spec_schema, "tags": tags}},
            listed: {"type": "object", "x-kubernetes-group-version-kind": [list_gvk], "required": ["items"],
                     "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                    "items": {"type": "array", "items": {"$ref": ref}}}},
        },
        "paths": {
            f"{prefix}/namespaces/{{namespace}}/{plural}": {"get": {
                "description": draw(free), "x-kubernetes-action": "list",
                "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": draw(free), "schema": {"$ref": list_ref}}}}},
            f"{prefix}/namespaces/{{namespace}}/{plural}/{{name}}": {"get": {
                "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK", "schema": {"$ref": ref}}}}},
        },
    }


_IMPORT_AND_ROUND_TRIP = """
import importlib, json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import hostilepkg
for info in pkgutil.walk_packages(hostilepkg.__path__, "hostilepkg."):
    importlib.import_module(info.name)
given = json.loads(sys.stdin.read())
raw = given["instance"]
obj = hostilepkg.scheme.decode(json.dumps(raw))
assert type(obj).__name__ != "dict", type(obj)
again = json.loads(hostilepkg.scheme.encode(obj))
assert again == raw, (again, raw)
from hostilepkg import Clientset
from hostilepkg.fake import package_api
api = package_api()
tags = api.types[given["definition"]]["tags"]
found = [list(tags.list_map_keys), tags.patch_strategy, tags.patch_merge_key]
assert found == given["tags"], (found, given["tags"])
assert api.type_of(*given["gvk"]) == given["definition"]
print("round trip ok")
"""


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _generate_and_import(document: dict[str, Any], *, must_succeed: bool) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        spec, out, cwd = root / "spec.json", root / "out", root / "cwd"
        cwd.mkdir()
        spec.write_text(json.dumps(document))
        result = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "hostilepkg",
                                           "--out", str(out)])
        assert isinstance(result.exception, SystemExit | None), result.exception
        if result.exit_code == 2 and not must_succeed:
            assert result.output.startswith("error: ") and not out.exists()
            return
        assert result.exit_code == 0, result.output
        group, version, kind = (document["definitions"][next(iter(document["definitions"]))]
                                ["x-kubernetes-group-version-kind"][0][k] for k in ("group", "version", "kind"))
        spec_properties = next(iter(document["definitions"].values()))["properties"]["spec"]["properties"]
        # A lone surrogate can be in a schema's JSON text but never in an object a server
        # sends (UTF-8 cannot carry it), so such keys are left out of the instance.
        instance = {"apiVersion": f"{group}/{version}" if group else version, "kind": kind,
                    "spec": {name: f"value {index}" for index, name in enumerate(spec_properties)
                             if _utf8(name)}}
        definition = next(iter(document["definitions"]))
        tags = document["definitions"][definition]["properties"]["tags"]
        given = {"instance": instance, "definition": definition, "gvk": [group, version, kind],
                 "tags": [tags["x-kubernetes-list-map-keys"], tags["x-kubernetes-patch-strategy"],
                          tags["x-kubernetes-patch-merge-key"]]}
        run = subprocess.run([sys.executable, "-I", "-c", _IMPORT_AND_ROUND_TRIP, str(out)],
                             input=json.dumps(given), cwd=cwd, capture_output=True, text=True,
                             timeout=60, check=False, env={"PATH": os.environ.get("PATH", "")})
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.stdout == "round trip ok\n" and run.stderr == ""
        assert list(cwd.iterdir()) == [], "importing the package created files"
        assert not (out / _MARKER_NAME).exists() and not (root / _MARKER_NAME).exists()


_BOUNDED = settings(max_examples=10, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_BOUNDED
@given(specs(hostile_names=True))
def test_arbitrary_strings_anywhere_exit_2_or_generate_an_inert_package(document: dict[str, Any]) -> None:
    _generate_and_import(document, must_succeed=False)


@_BOUNDED
@given(specs(hostile_names=False))
def test_valid_names_with_arbitrary_text_always_generate_an_inert_package(document: dict[str, Any]) -> None:
    """Descriptions, enum values, defaults, property names and titles never make a spec invalid."""
    _generate_and_import(document, must_succeed=True)


def test_the_issue_reproducer_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    document = json.loads((Path(__file__).parent / "spec_corpus" / "valid_minimal.json").read_text())
    gvk = document["definitions"]["io.k8s.api.core.v1.ConfigMap"]["x-kubernetes-group-version-kind"][0]
    gvk["kind"] = 'W"""+str(__import__("os").system("touch /tmp/x"))+"""'
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(document))
    result = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "p", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "#/definitions/io.k8s.api.core.v1.ConfigMap/x-kubernetes-group-version-kind/0/kind" in result.output
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("text", ["list[core_v1.Pod] | None", "dict[str, Any]", "Nullable[list[X]]",
                                  "core_v1.Pod, core_v1.PodList"])
def test_type_expressions_hold_only_names(text: str) -> None:
    assert render_env.type_expression(text) == text


@pytest.mark.parametrize("text", ['list["x"]', "f(x)", "x; import os", "x\ny", "", "1x", "a = b"])
def test_anything_else_is_not_a_type_expression(text: str) -> None:
    with pytest.raises(UnsafeInsertion):
        render_env.type_expression(text)
