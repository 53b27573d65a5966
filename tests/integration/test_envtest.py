"""kubecodegen_runtime.envtest as a user meets it: binaries from KUBEBUILDER_ASSETS, a generated
clientset on `Environment.config`, RBAC users, CRDs from files, a restart that keeps the data."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.config import load_kubeconfig
from kubecodegen_runtime.envtest import CRDFileError, CRDInstallError, Environment
from kubecodegen_runtime.errors import Forbidden
from tests.generated_packages import import_reference
from tests.harness import Assets

kube = import_reference("kube_v1_20")
from kube_v1_20 import Clientset  # noqa: E402
from kube_v1_20.models import core_v1, meta_v1  # noqa: E402

GROUP = "envtest.kubecodegen.io"


def crd(plural: str, kind: str, scope: str = "Namespaced") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer"}},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def kubebuilder_assets(cluster_assets: Assets, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of symlinks laid out as setup-envtest lays out its downloads."""
    folder = tmp_path_factory.mktemp("kubebuilder-assets")
    for name, target in (
        ("kube-apiserver", cluster_assets.kube_apiserver),
        ("etcd", cluster_assets.etcd),
        ("etcdctl", cluster_assets.etcdctl),
    ):
        if target is not None:
            (folder / name).symlink_to(target)
    return folder


@pytest.fixture(scope="module")
def crd_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crds")
    (folder / "widgets.yaml").write_text(yaml.safe_dump(crd("widgets", "Widget")))
    (folder / "kustomization.yaml").write_text("resources: [widgets.yaml]\n")
    return folder


@pytest.fixture(scope="module")
def env(kubebuilder_assets: Path, crd_folder: Path) -> Iterator[Environment]:
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("TEST_ASSET_KUBE_APISERVER", "TEST_ASSET_ETCD", "TEST_ASSET_ETCDCTL"):
            patch.delenv(variable, raising=False)
        patch.setenv("KUBEBUILDER_ASSETS", str(kubebuilder_assets))
        environment = Environment(crds=[crd_folder], watch_cache=False)
    with environment:
        yield environment
    assert not environment.directory.exists()


def test_binaries_come_from_kubebuilder_assets(env: Environment, kubebuilder_assets: Path) -> None:
    assert env.binaries.kube_apiserver == kubebuilder_assets / "kube-apiserver"
    assert env.binaries.etcd == kubebuilder_assets / "etcd"
    assert env.version.startswith("v1.")
    assert env.running and env.server.startswith("https://127.0.0.1:")


def test_admin_may_do_everything(env: Environment) -> None:
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "*", "group": "*", "resource": "*"}},
    }
    with RESTClient(env.config) as rest:
        answer = rest.post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", json.dumps(review).encode()
        )
    assert answer["status"]["allowed"] is True
    namespace = env.create_namespace()
    with Clientset.from_config(env.config) as cs:
        created = cs.core_v1.config_maps(namespace).create(
            core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="a"), data={"k": "v"})
        )
        assert created.metadata.uid
        assert cs.core_v1.service_accounts(namespace).get("default").metadata.name == "default"


def test_kubeconfig_path_is_the_admin(env: Environment) -> None:
    path = env.kubeconfig_path
    assert path.stat().st_mode & 0o077 == 0
    with Clientset.from_kubeconfig(str(path)) as cs:
        names = {ns.metadata.name for ns in cs.core_v1.namespaces().list().items}
    assert {"default", "kube-system"} <= names


def test_a_user_is_forbidden_until_a_role_binding(env: Environment) -> None:
    namespace = env.create_namespace()
    alice = env.user_config("alice", namespace=namespace)
    with Clientset.from_config(alice) as cs:
        configmaps = cs.core_v1.config_maps(namespace)
        with pytest.raises(Forbidden) as refused:
            configmaps.list()
        assert 'User "alice" cannot list resource "configmaps"' in str(refused.value)
        env.grant(
            [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "create"]}],
            users=["alice"],
            namespace=namespace,
        )
        env.wait_for_access(alice, f"/api/v1/namespaces/{namespace}/configmaps")
        configmaps.create(core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="mine")))
        assert [cm.metadata.name for cm in configmaps.list().items] == ["mine"]
        with pytest.raises(Forbidden):
            cs.core_v1.secrets(namespace).list()
        with pytest.raises(Forbidden):
            cs.core_v1.config_maps("default").list()


def test_restricted_config_and_groups(env: Environment) -> None:
    namespace = env.create_namespace()
    path = f"/api/v1/namespaces/{namespace}/pods"
    bob = env.restricted_config(
        "bob",
        [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        namespace=namespace,
        ready_path=path,
    )
    assert bob.namespace == namespace
    with RESTClient(bob) as rest:
        assert rest.get(path)["items"] == []
        with pytest.raises(Forbidden):
            rest.get("/api/v1/namespaces")
    env.grant(
        [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]}],
        groups=["readers"],
    )
    carol = env.user_config("carol", ["readers"])
    env.wait_for_access(carol, "/api/v1/namespaces")


def test_crds_from_a_folder_are_served(env: Environment) -> None:
    namespace = env.create_namespace()
    path = f"/apis/{GROUP}/v1/namespaces/{namespace}/widgets"
    body = {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 3}}
    with RESTClient(env.config) as rest:
        assert rest.post(path, json.dumps(body).encode())["spec"] == {"size": 3}
        assert [item["metadata"]["name"] for item in rest.get(path)["items"]] == ["w"]


def test_install_crds_later_from_a_multi_document_file(env: Environment, tmp_path: Path) -> None:
    file = tmp_path / "more.yaml"
    file.write_text(
        yaml.safe_dump_all([crd("gadgets", "Gadget"), None, crd("clusterthings", "ClusterThing", "Cluster")])
    )
    installed = env.install_crds([file])
    assert [c.name for c in installed] == [f"gadgets.{GROUP}", f"clusterthings.{GROUP}"]
    with RESTClient(env.config) as rest:
        assert rest.get(f"/apis/{GROUP}/v1/clusterthings")["items"] == []
        assert rest.get(f"/apis/{GROUP}/v1/gadgets")["items"] == []
    with pytest.raises(CRDFileError, match=rf"{file}, document 2: not an object"):
        file.write_text("kind: Other\n---\n- a list\n")
        env.install_crds([file])


def test_a_crd_the_server_refuses_names_its_origin(env: Environment) -> None:
    broken = crd("brokens", "Broken")
    broken["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["type"] = "nonsense"
    with pytest.raises(CRDInstallError, match=r"CRD dictionary #1: the server refused CRD 'brokens"):
        env.install_crds([broken])


def test_restart_keeps_data_ports_and_configs(env: Environment) -> None:
    namespace = env.create_namespace()
    server, config = env.server, env.config
    with Clientset.from_config(config) as cs:
        uid = cs.core_v1.config_maps(namespace).create(
            core_v1.ConfigMap(metadata=meta_v1.ObjectMeta(name="survivor"), data={"a": "1"})
        ).metadata.uid
    env.stop()
    assert not env.running and not any(child.running for child in env.processes)
    env.start()
    assert env.server == server
    with Clientset.from_config(config) as cs:
        survivor = cs.core_v1.config_maps(namespace).get("survivor")
    assert (survivor.metadata.uid, survivor.data) == (uid, {"a": "1"})
    loaded = load_kubeconfig(env.kubeconfig_path)
    with RESTClient(loaded) as rest:
        assert rest.get(f"/apis/{GROUP}/v1/widgets")["kind"] == "WidgetList"
    revision = env.compact()
    assert revision > int(survivor.metadata.resource_version or 0)


def test_processes_belong_to_their_own_session(env: Environment) -> None:
    """Ctrl-C in a terminal reaches Python only, which then stops the servers in order."""
    for child in env.processes:
        assert child.pid is not None
        assert os.getsid(child.pid) == child.pid != os.getsid(0)
