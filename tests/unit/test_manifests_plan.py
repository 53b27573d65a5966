"""The manifests reader and apply planner without a server: which files, which order,
which namespace, which action, and errors naming file, document and field.

The planner is a pure generator; the last tests drive it with a small table-backed
driver (a pure RESTMapper built from discovery records, answers built from the requests
it asks for) to check its state machine where a real server cannot be made to misbehave
on demand (a CRD that never becomes Established, within a fake clock)."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.discovery import APIGroup, APIResource, ServerResources
from kubecodegen_runtime.errors import NotFound
from kubecodegen_runtime.manifests import (
    CRDNotEstablished,
    Manifest,
    ManifestError,
    Source,
    action,
    order,
    place,
    plan_apply,
    read_manifests,
)
from kubecodegen_runtime.manifests.plan import ApplyOptions, Refresh, Resolve, Send, Sleep
from kubecodegen_runtime.meta import ResourceInfo
from kubecodegen_runtime.rest.response import Response
from kubecodegen_runtime.restmapper import NoKindMatch, RESTMapper

CONFIGMAP = ResourceInfo("", "v1", "configmaps", "ConfigMap", True)
NAMESPACE = ResourceInfo("", "v1", "namespaces", "Namespace", False)
CRD = ResourceInfo("apiextensions.k8s.io", "v1", "customresourcedefinitions",
                   "CustomResourceDefinition", False)
WIDGET = ResourceInfo("example.com", "v1", "widgets", "Widget", True)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _obj(kind: str, name: str, api_version: str = "v1", **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, **metadata}}


def _manifest(obj: dict[str, Any], document: int = 1) -> Manifest:
    return Manifest(Source("m.yaml", document), obj)


# --- reading ----------------------------------------------------------------------------


def test_folder_is_walked_recursively_in_sorted_order(tmp_path: Path) -> None:
    for name in ("b.yaml", "a/z.yml", "a/sub/y.json", "a.yaml", "c.txt", "a/README.md", "B.yaml"):
        _write(tmp_path, name, json.dumps(_obj("ConfigMap", name.replace("/", "-").replace(".", "-").lower())))
    read = read_manifests(tmp_path)
    # filepath.Walk: byte order per folder ("B" < "a" < "a.yaml"), a folder where it sorts;
    # only .json/.yaml/.yml inside folders.
    assert [Path(m.source.file).relative_to(tmp_path).as_posix() for m in read] == [
        "B.yaml", "a/sub/y.json", "a/z.yml", "a.yaml", "b.yaml"]


_SEGMENT = st.text(alphabet="aAb_-0", min_size=1, max_size=3)
_FILE = st.tuples(st.lists(_SEGMENT, max_size=2), _SEGMENT,
                  st.sampled_from([".yaml", ".yml", ".json", ".txt", ".YAML", ""]))


def _file_path(file: tuple[list[str], str, str]) -> tuple[str, ...]:
    return (*file[0], file[1] + file[2])


@settings(max_examples=40, deadline=None)
@given(st.lists(_FILE, max_size=8, unique_by=_file_path))
def test_walk_order_is_sorted_path_components(files: list[tuple[list[str], str, str]]) -> None:
    """Go's pre-order walk with sorted entries is the order of the paths' component tuples;
    only the three extensions kubectl knows are read (exactly: ``.YAML`` is not)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        written = []
        for folders, stem, ext in files:
            parts = (*folders, stem + ext)
            if any((root.joinpath(*parts[:i])).is_file() for i in range(1, len(parts))):
                continue  # a file already stands where this path needs a folder
            if root.joinpath(*parts).is_dir():
                continue
            _write(root, "/".join(parts), json.dumps(_obj("ConfigMap", "x")))
            written.append(parts)
        expected = sorted((p for p in written if p[-1].endswith((".yaml", ".yml", ".json"))),
                          key=lambda p: tuple(c.encode() for c in p))
        got = [Path(m.source.file).relative_to(root).parts for m in read_manifests(root)]
        assert got == expected


def test_a_file_named_explicitly_is_read_whatever_its_extension(tmp_path: Path) -> None:
    path = _write(tmp_path, "manifest.txt", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (only,) = read_manifests([path])
    assert only.name == "x" and only.source == Source(str(path), 1)


def test_documents_are_counted_as_a_person_counts_them_and_lists_flattened() -> None:
    text = ("---\n# empty\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
            "apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
            "- {apiVersion: v1, kind: ConfigMapList, items: [{apiVersion: v1, kind: Secret, metadata: {name: c}}]}\n")
    stream = io.StringIO(text)
    read = read_manifests(stream)
    assert [(m.name, m.source) for m in read] == [
        ("a", Source("<stdin>", 2)), ("b", Source("<stdin>", 3, 1)), ("c", Source("<stdin>", 3, 2))]
    assert str(read[1].source) == "<stdin>: document 3, item 1"


def test_yaml_is_read_with_go_yaml_scalars() -> None:
    (cm,) = read_manifests(io.StringIO(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\ndata: {a: =, b: 1e3}\n"))
    assert cm.object["data"] == {"a": "=", "b": 1000}


@pytest.mark.parametrize(("text", "expected"), [
    ("kind: ConfigMap\nmetadata: {name: a}\n", "m.yaml: document 1: apiVersion: is missing"),
    ("apiVersion: v1\nkind: ''\nmetadata: {name: a}\n",
     "m.yaml: document 1: kind: must be a non-empty string"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}\n",
     "m.yaml: document 1: metadata.name: is missing (generateName cannot be used with apply)"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: [a]\n", "m.yaml: document 1: metadata: must be a mapping"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: 3}\n",
     "m.yaml: document 1: metadata.namespace: must be a string"),
    ("apiVersion: a/b/c\nkind: ConfigMap\nmetadata: {name: a}\n",
     "m.yaml: document 1: apiVersion: must be VERSION or GROUP/VERSION"),
    ("- a\n- b\n", "m.yaml: document 1: expected a mapping with apiVersion and kind, found a list"),
    ("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap}]\n",
     "m.yaml: document 1, item 1: metadata: is missing"),
])
def test_document_errors_name_file_document_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, "m.yaml", text)
    with pytest.raises(ManifestError) as raised:
        read_manifests(path)
    assert str(raised.value) == expected.replace("m.yaml", str(path))


def test_yaml_errors_name_the_document_they_are_in(tmp_path: Path) -> None:
    good = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    path = _write(tmp_path, "m.yaml", f"{good}---\n{good}---\napiVersion: v1\napiVersion: v2\n")
    with pytest.raises(ManifestError) as raised:
        read_manifests(path)
    (problem,) = raised.value.problems
    assert problem.source == Source(str(path), 3)
    assert "duplicate mapping key 'apiVersion'" in str(raised.value)
    assert "line 10, column 1" in str(raised.value)  # the position in the file, never its text


def test_every_problem_is_reported_before_anything_is_sent(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "kind: ConfigMap\nmetadata: {name: a}\n")
    _write(tmp_path, "b.yaml", "apiVersion: v1\nkind: ConfigMap\n: [\n")
    with pytest.raises(ManifestError) as raised:
        read_manifests(tmp_path)
    assert [(Path(p.source.file).name, p.field) for p in raised.value.problems] == [
        ("a.yaml", "apiVersion"), ("b.yaml", None)]
    assert str(raised.value).startswith("2 problems in the manifests:")


def test_an_unreadable_path_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"missing\.yaml: cannot read the file"):
        read_manifests(tmp_path / "missing.yaml")


# --- order ------------------------------------------------------------------------------

KINDS = {"crd": ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
         "ns": ("v1", "Namespace"), "cm": ("v1", "ConfigMap"),
         "oldcrd": ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
         "w": ("example.com/v1", "Widget"), "fakens": ("example.com/v1", "Namespace")}


@given(st.lists(st.sampled_from(sorted(KINDS)), max_size=12))
def test_order_is_crds_then_namespaces_then_the_rest_each_as_read(kinds: list[str]) -> None:
    manifests = [_manifest(_obj(KINDS[k][1], f"o{i}", KINDS[k][0]), i + 1) for i, k in enumerate(kinds)]
    ordered = order(manifests)
    rank = {"crd": 0, "oldcrd": 0, "ns": 1}
    expected = sorted(range(len(kinds)), key=lambda i: (rank.get(kinds[i], 2), i))
    assert [m.source.document for m in ordered] == [i + 1 for i in expected]


# --- namespaces -------------------------------------------------------------------------


def test_namespaced_object_without_namespace_gets_the_argument_or_the_default() -> None:
    cm = _manifest(_obj("ConfigMap", "a"))
    assert place(cm, CONFIGMAP, "given", "from-config") == ("given", None)
    assert place(cm, CONFIGMAP, None, "from-config") == ("from-config", None)


def test_an_object_keeps_its_own_namespace_unless_another_is_given() -> None:
    cm = _manifest(_obj("ConfigMap", "a", namespace="own"))
    assert place(cm, CONFIGMAP, None, "from-config") == ("own", None)
    assert place(cm, CONFIGMAP, "own", "from-config") == ("own", None)
    namespace, problem = place(cm, CONFIGMAP, "other", "from-config")
    assert namespace is None and problem is not None
    assert str(problem) == ("m.yaml: document 1: metadata.namespace: the object's namespace 'own' "
                            "does not match the namespace 'other' given to apply")


def test_a_cluster_scoped_object_must_not_carry_a_namespace() -> None:
    assert place(_manifest(_obj("Namespace", "n")), NAMESPACE, "x", "d") == (None, None)
    _, problem = place(_manifest(_obj("Namespace", "n", namespace="x")), NAMESPACE, None, "d")
    assert problem is not None and problem.field == "metadata.namespace"
    assert "Namespace is cluster-scoped" in str(problem)


# --- action -----------------------------------------------------------------------------


def _stored(rv: str, data: str, time: str = "t1") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": data},
            "metadata": {"name": "a", "resourceVersion": rv,
                         "managedFields": [{"manager": "m", "time": time, "fieldsV1": {}}]}}


def test_action_from_before_and_after() -> None:
    assert action(None, _stored("1", "a"), dry_run=False) == "created"
    assert action(_stored("1", "a"), _stored("1", "a"), dry_run=False) == "unchanged"
    assert action(_stored("1", "a"), _stored("2", "a"), dry_run=False) == "configured"
    # A dry run writes nothing: the content decides, not the bookkeeping of a write.
    assert action(_stored("1", "a"), _stored("1", "a", time="t2"), dry_run=True) == "unchanged"
    assert action(_stored("1", "a"), _stored("1", "b"), dry_run=True) == "configured"


# --- the plan, driven by a table --------------------------------------------------------


def _mapper(*infos: ResourceInfo) -> RESTMapper:
    groups: dict[str, list[ResourceInfo]] = {}
    for info in infos:
        groups.setdefault(info.api_version, []).append(info)
    return RESTMapper(ServerResources(
        tuple(APIGroup(gv.rpartition("/")[0], (gv.rpartition("/")[2],), gv.rpartition("/")[2])
              for gv in groups),
        {gv: tuple(APIResource(i, i.kind.lower(), (), ()) for i in found) for gv, found in groups.items()}))


def _ok(obj: dict[str, Any]) -> Response:
    return Response(200, (("content-type", "application/json"),), json.dumps(obj).encode())


class Driver:
    """Answers the planner's steps from a RESTMapper and an in-memory store."""

    def __init__(self, infos: list[ResourceInfo], crd_status: Callable[[int], dict[str, Any]]) -> None:
        self.infos = infos
        self.mapper = _mapper(*infos)
        self.store: dict[str, dict[str, Any]] = {}
        self.crd_reads = 0
        self.crd_status = crd_status
        self.clock = 0.0
        self.steps: list[str] = []

    def answer(self, step: Any) -> Any:
        if isinstance(step, Sleep):
            self.clock += step.seconds
            return None
        if isinstance(step, Refresh):
            self.steps.append("refresh")
            return None
        if isinstance(step, Resolve):
            try:
                return self.mapper.rest_mapping(step.kind, group=step.group, versions=(step.version,))
            except NoKindMatch as exc:
                return exc
        assert isinstance(step, Send)
        req = step.request
        self.steps.append(f"{req.method} {req.path}")
        if req.method == "GET":
            if req.path not in self.store:
                return NotFound(404, "NotFound", "not found")
            obj = self.store[req.path]
            if obj["kind"] == "CustomResourceDefinition":
                self.crd_reads += 1
                return _ok({**obj, "status": self.crd_status(self.crd_reads)})
            return _ok(obj)
        assert req.body is not None
        obj = json.loads(req.body)
        obj["metadata"]["resourceVersion"] = str(len(self.store) + 1)
        self.store[req.path] = obj
        return _ok(obj)

    def run(self, manifests: list[Manifest], **options: Any) -> list[Any]:
        opts = ApplyOptions(field_manager="t", default_namespace="default",
                            clock=lambda: self.clock, **options)
        plan = plan_apply(manifests, opts)
        try:
            step = next(plan)
            while True:
                step = plan.send(self.answer(step))
        except StopIteration as done:
            return list(done.value)


def _crd(name: str = "widgets.example.com") -> dict[str, Any]:
    return {**_obj("CustomResourceDefinition", name, "apiextensions.k8s.io/v1"),
            "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"},
                     "versions": [{"name": "v1", "served": True}, {"name": "v0", "served": False}]}}


def _established(established: bool) -> dict[str, Any]:
    return {"conditions": [{"type": "Established", "status": "True" if established else "False"}]}


def test_crd_is_awaited_then_the_mapper_refreshed_then_its_resources_applied() -> None:
    driver = Driver([CRD, CONFIGMAP], lambda reads: _established(reads >= 3))
    widget = _manifest(_obj("Widget", "w", "example.com/v1"), 1)

    def learn_widget(step: Any, answer: Callable[[Any], Any] = driver.answer) -> Any:
        if isinstance(step, Refresh):  # the server now serves the CRD's kind
            driver.mapper = _mapper(CRD, CONFIGMAP, WIDGET)
        return answer(step)

    driver.answer = learn_widget  # type: ignore[method-assign]
    results = driver.run([widget, _manifest(_crd(), 2)])
    assert [(r.gvk.kind, r.action, r.error) for r in results] == [
        ("CustomResourceDefinition", "created", None), ("Widget", "created", None)]
    assert results[1].namespace == "default"
    crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
    assert driver.steps == [
        f"GET {crd_path}", f"PATCH {crd_path}", f"GET {crd_path}", f"GET {crd_path}",
        f"GET {crd_path}", "refresh",
        "GET /apis/example.com/v1/namespaces/default/widgets/w",
        "PATCH /apis/example.com/v1/namespaces/default/widgets/w"]


def test_a_crd_that_never_becomes_established_is_an_error_naming_it() -> None:
    driver = Driver([CRD], lambda reads: _established(False))
    widget = _manifest(_obj("Widget", "w", "example.com/v1"), 2)
    results = driver.run([_manifest(_crd(), 1), widget], wait_for_crds=2.0)
    crd, cr = results
    assert isinstance(crd.error, CRDNotEstablished)
    assert str(crd.error).startswith("CustomResourceDefinition 'widgets.example.com' is not "
                                     "established: still not Established after 2s")
    assert crd.action == "created"  # applied, but not usable
    assert isinstance(cr.error, ManifestError)
    assert str(cr.error).startswith("m.yaml: document 2: kind: ")
    assert "did not become established" in str(cr.error)
    assert 2.0 <= driver.clock < 3.0  # waited for the deadline, not forever


def test_names_not_accepted_fails_at_once() -> None:
    refused = {"conditions": [{"type": "NamesAccepted", "status": "False",
                               "reason": "KindConflict", "message": "Widget is already in use"}]}
    driver = Driver([CRD], lambda reads: refused)
    (crd,) = driver.run([_manifest(_crd(), 1)])
    assert isinstance(crd.error, CRDNotEstablished)
    assert "names not accepted: Widget is already in use" in str(crd.error)
    assert driver.clock == 0.0


def test_dry_run_does_not_wait_for_crds_and_says_why_their_kinds_are_unknown() -> None:
    driver = Driver([CRD], lambda reads: _established(False))
    crd, cr = driver.run([_manifest(_crd(), 1), _manifest(_obj("Widget", "w", "example.com/v1"), 2)],
                         dry_run=True)
    assert crd.action == "created" and crd.dry_run and crd.error is None
    assert "a dry run does not create it" in str(cr.error)
    assert driver.crd_reads == 0 and driver.clock == 0.0


def test_describe_reads_like_kubectl_and_names_the_source_once() -> None:
    driver = Driver([CONFIGMAP, NAMESPACE], lambda reads: {})
    bad, ok = driver.run([_manifest(_obj("ConfigMap", "a"), 1),  # Namespaces go first
                          _manifest(_obj("Namespace", "n", namespace="x"), 2)], dry_run=True)
    assert bad.describe() == ("m.yaml: document 2: namespace/n in namespace 'x': metadata.namespace: "
                              "Namespace is cluster-scoped and takes no namespace (found 'x')")
    assert ok.describe() == "configmap/a in namespace 'default' created (server dry run)"


def test_a_version_the_crd_does_not_serve_is_not_waited_for() -> None:
    driver = Driver([CRD], lambda reads: _established(True))
    crd, cr = driver.run([_manifest(_crd(), 1), _manifest(_obj("Widget", "w", "example.com/v0"), 2)])
    assert crd.error is None
    assert isinstance(cr.error, ManifestError) and "version v0" in str(cr.error)
    assert "did not become established" not in str(cr.error)
    assert driver.clock == 0.0
