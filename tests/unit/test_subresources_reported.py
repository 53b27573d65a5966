"""Subresources are counted like definitions: each is rendered by a mixin or reported.

``pods/resize`` (Kubernetes 1.33+) used to vanish in render/plan.py because no mixin
existed for it; now it has one, and anything still left out is listed by ``inspect``
and warned about by ``generate``.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kubecodegen.cli import main
from kubecodegen.generate import load_model
from kubecodegen.render.plan import plan_package, unrendered_subresources
from kubecodegen.spec import load_spec
from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.config import ClientConfig
from kubecodegen_runtime.retry import NO_RETRY
from tests.generated_packages import import_reference
from tests.harness.hostile import HostileServer, answer

POD = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
                  "spec": {"containers": [{"name": "c", "image": "x"}]}}).encode()
JSON = (("Content-Type", "application/json"),)


@pytest.mark.parametrize("spec", ["builtin:v1.35", "builtin:v1.20"])
def test_every_subresource_is_rendered_or_reported(spec: str) -> None:
    """Count: subresources in the model = mixins in the clientset + reported ones."""
    _, model = load_model(spec)
    planned = {f.path: f for f in plan_package(model, "pkg", "t")}
    reported = {(u.resource.group, u.resource.version, u.resource.plural, u.subresource.name)
                for u in unrendered_subresources(model)}
    rendered = set()
    for gv in model.group_versions():
        context = planned.get(f"clientset/{gv.py_name}.py")
        for r in context.context["resources"] if context else ():
            names = {m["name"] for m in r["mixins"]}
            for s in r["subresources"]:
                key = (r["group"], r["version"], r["plural"], s["name"])
                if key not in reported:
                    rendered.add(key)
            assert len(names) == len(r["mixins"])
            assert len(r["mixins"]) == sum(
                1 for s in r["subresources"]
                if (r["group"], r["version"], r["plural"], s["name"]) not in reported)
    every = {(r.group, r.version, r.plural, s.name)
             for r in model.resources() if r.struct_id is not None for s in r.subresources}
    assert rendered | reported == every and not rendered & reported
    # what is left out today is only the streaming (connect) endpoints
    assert all(u.subresource.connect for u in unrendered_subresources(model))


def test_pods_resize_is_rendered_for_1_35_and_absent_for_1_20() -> None:
    new = import_reference("kube_v1_35").Clientset
    old = import_reference("kube_v1_20").Clientset
    with RESTClient(ClientConfig(server="http://127.0.0.1:9", verify=ssl.create_default_context())) as rest:
        pods_35 = new(rest).core_v1.pods("ns")
        pods_20 = old(rest).core_v1.pods("ns")
        for verb in ("get_resize", "update_resize", "patch_resize"):
            assert callable(getattr(pods_35, verb))
            assert not hasattr(pods_20, verb)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


def test_pods_resize_speaks_the_resize_subresource(server: HostileServer) -> None:
    path = "/api/v1/namespaces/ns/pods/p/resize"
    for method in ("GET", "PUT", "PATCH"):
        server.route(method, path, answer("200 OK", POD, JSON))
    kube = import_reference("kube_v1_35")
    from kube_v1_35.models.core_v1 import Pod

    config = ClientConfig(server=server.url, verify=ssl.create_default_context(), qps=0.0)
    with RESTClient(config, retry=NO_RETRY) as rest:
        pods = kube.Clientset(rest).core_v1.pods("ns")
        got = pods.get_resize("p")
        assert isinstance(got, Pod) and got.metadata and got.metadata.name == "p"
        assert isinstance(pods.update_resize(got, dry_run=True), Pod)
        patch = {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": "2"}}}]}}
        assert isinstance(pods.patch_resize("p", patch), Pod)
    assert [(m, t.split("?")[0]) for m, t in server.seen] == [
        ("GET", path), ("PUT", path), ("PATCH", path)]
    assert "dryRun=All" in server.seen[1][1]


def test_an_unknown_subresource_is_warned_about_and_listed(tmp_path: Path) -> None:
    doc = load_spec("builtin:v1.20").document
    paths = {p: v for p, v in doc["paths"].items() if "/configmaps" in p and p.startswith("/api/v1/")}
    # a subresource no mixin knows, shaped as the server publishes them
    one = "/api/v1/namespaces/{namespace}/configmaps/{name}"
    frob = json.loads(json.dumps(paths[one]))
    for verb in ("put", "patch", "delete"):
        frob.pop(verb, None)
    frob["get"]["operationId"] = "readCoreV1NamespacedConfigMapFrob"
    paths[one + "/frob"] = frob
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"swagger": "2.0", "info": doc["info"], "paths": paths,
                                "definitions": doc["definitions"]}))
    inspected = CliRunner().invoke(main, ["inspect", "--spec", str(spec), "-o", "json"])
    assert inspected.exit_code == 0, inspected.output
    row = next(r for r in json.loads(inspected.stdout) if r["resource"] == "configmaps")
    assert "frob" in row["subresources"]
    assert row["unrendered"] == {"frob": "no client mixin for this subresource"}
    generated = CliRunner().invoke(main, ["generate", "--spec", str(spec), "--package", "p",
                                          "--out", str(tmp_path / "out")])
    assert generated.exit_code == 0, generated.output
    assert "warning: v1 configmaps/frob: no client mixin for this subresource" in generated.stderr
