"""``apply_manifests`` against the real v1.20.2 server: ``kubectl apply --server-side -f DIR``.

One folder holds a custom resource (sorted first), its CRD (in a sub-folder), a Namespace
(sorted last) and objects in it (one of them inside a ``kind: List``); one call applies
it all: the CRD is applied and established first, then the Namespace, then the rest.
"""

from __future__ import annotations

import io
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.dynamic import AsyncDynamicClient, DynamicClient
from kubecodegen_runtime.errors import Conflict, NotFound
from kubecodegen_runtime.manifests import (
    ApplyError,
    ManifestError,
    apply_manifests,
    apply_manifests_async,
)
from kubecodegen_runtime.meta import GroupVersionResource
from tests.generated_packages import import_reference
from tests.harness.cluster import TestCluster

from .rest_helpers import admin_config

import_reference("kube_v1_20")
from kube_v1_20 import scheme  # noqa: E402
from kube_v1_20.models import core_v1  # noqa: E402

pytestmark = pytest.mark.cluster

CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")


@pytest.fixture
def rest(cluster: TestCluster) -> Iterator[RESTClient]:
    with RESTClient(admin_config(cluster)) as client:
        yield client


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def _folder(tmp_path: Path, ns: str, group: str, *, data: str = "one") -> Path:
    folder = tmp_path / "manifests"
    _write(folder, "a-widget.yaml", f"""\
        apiVersion: {group}/v1
        kind: Widget
        metadata: {{name: w1}}
        spec: {{size: 3}}
        """)
    _write(folder, "b/crd.yml", f"""\
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {{name: widgets.{group}}}
        spec:
          group: {group}
          scope: Namespaced
          names: {{plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}}
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
        """)
    _write(folder, "b/notes.txt", "not a manifest: kubectl skips it inside a folder\n")
    _write(folder, "c-app.yaml", f"""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: settings, namespace: {ns}}}
        data: {{value: {data}}}
        ---
        # an empty document: skipped, still counted
        ---
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata: {{name: listed}}
          data: {{from: list}}
        """)
    _write(folder, "d-namespace.json", f'{{"apiVersion": "v1", "kind": "Namespace", '
                                       f'"metadata": {{"name": "{ns}"}}}}')
    return folder


def _names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"mf-{tag}", f"m{tag}.example.com"


def _summary(results: list[Any]) -> list[tuple[str, str, str | None]]:
    return [(r.gvk.kind, r.name, r.action) for r in results]


def test_folder_with_crd_namespace_and_objects(rest: RESTClient, tmp_path: Path) -> None:
    ns, group = _names()
    folder = _folder(tmp_path, ns, group)
    dynamic = DynamicClient(rest)

    first = apply_manifests(dynamic, folder, field_manager="mf-test", namespace=ns, scheme=scheme)
    assert _summary(first) == [
        ("CustomResourceDefinition", f"widgets.{group}", "created"),
        ("Namespace", ns, "created"),
        ("Widget", "w1", "created"),
        ("ConfigMap", "settings", "created"),
        ("ConfigMap", "listed", "created"),
    ]
    by_name = {r.name: r for r in first}
    assert by_name["w1"].namespace == ns  # defaulted from the argument
    assert isinstance(by_name["w1"].object, dict)  # the scheme does not know Widget
    assert by_name["w1"].object["spec"] == {"size": 3}
    assert isinstance(by_name["settings"].object, core_v1.ConfigMap)
    assert str(by_name["listed"].source) == f"{folder / 'c-app.yaml'}: document 3, item 1"
    stored = dynamic.resource(CONFIGMAPS).namespace(ns).get("listed")
    managers = [m["manager"] for m in stored["metadata"]["managedFields"]]
    assert managers == ["mf-test"]

    again = apply_manifests(dynamic, folder, field_manager="mf-test", namespace=ns)
    # The 1.20 server writes a Namespace once more on its first re-apply (it records a
    # "before-first-apply" manager for the finalizer and phase it set itself): a real
    # write, so "configured" is the truth; everything else is untouched.
    assert {r.name: r.action for r in again if r.gvk.kind != "Namespace"} == {
        f"widgets.{group}": "unchanged", "w1": "unchanged", "settings": "unchanged",
        "listed": "unchanged"}

    changed = _folder(tmp_path, ns, group, data="two")
    third = apply_manifests(rest, changed, field_manager="mf-test", namespace=ns)
    assert {r.name: r.action for r in third} == {
        f"widgets.{group}": "unchanged", ns: "unchanged", "w1": "unchanged",
        "settings": "configured", "listed": "unchanged"}
    assert dynamic.resource(CONFIGMAPS).namespace(ns).get("settings")["data"] == {"value": "two"}


def test_namespace_defaults_to_the_config_context(cluster: TestCluster, tmp_path: Path) -> None:
    ns = cluster.create_namespace(_names()[0])
    with RESTClient(admin_config(cluster, namespace=ns)) as rest:
        (result,) = apply_manifests(rest, io.StringIO(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ctx}\n"), field_manager="mf-test")
        assert (result.namespace, result.action) == (ns, "created")
        DynamicClient(rest).resource(CONFIGMAPS).namespace(ns).get("ctx")


def test_dry_run_leaves_nothing(rest: RESTClient, tmp_path: Path) -> None:
    ns, group = _names()
    folder = _folder(tmp_path, ns, group)
    results = apply_manifests(rest, folder, field_manager="mf-test", namespace=ns, dry_run=True,
                              raise_on_error=False)
    by_kind = {r.gvk.kind: r for r in results}
    assert by_kind["CustomResourceDefinition"].action == "created"
    assert by_kind["Namespace"].action == "created"
    assert all(r.dry_run for r in results)
    # The CRD is not created, so its kind cannot resolve: an error naming the document.
    widget_error = by_kind["Widget"].error
    assert isinstance(widget_error, ManifestError)
    assert "a-widget.yaml: document 1: kind:" in str(widget_error)
    assert "dry run" in str(widget_error)
    dynamic = DynamicClient(rest)
    with pytest.raises(NotFound):
        dynamic.resource(GroupVersionResource("", "v1", "namespaces")).get(ns)
    with pytest.raises(NotFound):
        dynamic.resource(GroupVersionResource("apiextensions.k8s.io", "v1",
                                              "customresourcedefinitions")).get(f"widgets.{group}")


def test_dry_run_of_a_change_reports_configured_and_stores_nothing(rest: RESTClient,
                                                                   namespace: str) -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: dry}}\ndata: {{k: {}}}\n"
    apply_manifests(rest, io.StringIO(doc.format("a")), field_manager="mf-test", namespace=namespace)
    (same,) = apply_manifests(rest, io.StringIO(doc.format("a")), field_manager="mf-test",
                              namespace=namespace, dry_run=True)
    (changed,) = apply_manifests(rest, io.StringIO(doc.format("b")), field_manager="mf-test",
                                 namespace=namespace, dry_run=True)
    assert (same.action, changed.action) == ("unchanged", "configured")
    assert changed.object["data"] == {"k": "b"}
    stored = DynamicClient(rest).resource(CONFIGMAPS).namespace(namespace).get("dry")
    assert stored["data"] == {"k": "a"}


def test_conflict_without_force_and_takeover_with_it(rest: RESTClient, namespace: str) -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: owned}}\ndata: {{k: {}}}\n"
    apply_manifests(rest, io.StringIO(doc.format("mine")), field_manager="owner", namespace=namespace)
    with pytest.raises(ApplyError) as raised:
        apply_manifests(rest, io.StringIO(doc.format("theirs")), field_manager="intruder",
                        namespace=namespace)
    (result,) = raised.value.results
    assert isinstance(result.error, Conflict)
    assert "<stdin>: document 1" in str(raised.value)
    (forced,) = apply_manifests(rest, io.StringIO(doc.format("theirs")), field_manager="intruder",
                                namespace=namespace, force_conflicts=True)
    assert forced.action == "configured"
    assert forced.object["data"] == {"k": "theirs"}


def test_object_errors_name_file_document_and_field(rest: RESTClient, namespace: str,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: Namespace
        metadata: {name: cluster-scoped, namespace: nope}
        ---
        apiVersion: example.invalid/v1
        kind: Nothing
        metadata: {name: x}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: fine}
        """))
    results = apply_manifests(rest, path, field_manager="mf-test", namespace=namespace,
                              raise_on_error=False)
    errors = [str(r.error) if r.error else None for r in results]
    assert errors[0] is not None and errors[0].startswith(f"{path}: document 1: metadata.namespace:")
    assert errors[1] is not None and errors[1].startswith(f"{path}: document 2: kind:")
    assert errors[2] is None and results[2].action == "created"


async def test_async_apply(cluster: TestCluster, tmp_path: Path) -> None:
    ns, group = _names()
    folder = _folder(tmp_path, ns, group)
    async with AsyncRESTClient(admin_config(cluster)) as rest:
        dynamic = AsyncDynamicClient(rest)
        first = await apply_manifests_async(dynamic, folder, field_manager="mf-test", namespace=ns,
                                            scheme=scheme)
        assert [r.action for r in first] == ["created"] * 5
        assert isinstance(first[3].object, core_v1.ConfigMap)
        changed = _folder(tmp_path, ns, group, data="two")
        again = await apply_manifests_async(rest, changed, field_manager="mf-test", namespace=ns)
        assert [(r.name, r.action) for r in again if r.gvk.kind == "ConfigMap"] == [
            ("settings", "configured"), ("listed", "unchanged")]
        widget = await dynamic.resource_for("Widget", f"{group}/v1")
        assert (await widget.namespace(ns).get("w1"))["spec"] == {"size": 3}


def test_a_crd_whose_names_are_refused_is_an_error_naming_it(rest: RESTClient, tmp_path: Path) -> None:
    _, group = _names()
    crd = textwrap.dedent("""\
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {{name: {plural}.{group}}}
        spec:
          group: {group}
          scope: Cluster
          names: {{plural: {plural}, kind: Widget}}
          versions:
          - {{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object}}}}}}
        """)
    text = crd.format(plural="widgets", group=group) + "---\n" + crd.format(plural="gadgets", group=group)
    with pytest.raises(ApplyError) as raised:
        apply_manifests(rest, io.StringIO(text), field_manager="mf-test", wait_for_crds=30)
    first, second = raised.value.results
    assert first.error is None and first.action == "created"
    assert second.action == "created"  # stored, but the server will not serve it
    assert f"CustomResourceDefinition 'gadgets.{group}' is not established: names not accepted" \
        in str(second.error)
    assert "<stdin>: document 2" in str(raised.value)
