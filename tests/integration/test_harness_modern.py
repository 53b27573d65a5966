"""The modern (v1.36, CRDs only) test server the harness starts: what it is and what it lacks."""

from __future__ import annotations

import ssl

import httpx

from kubecodegen_runtime.client import RESTClient
from kubecodegen_runtime.config import load_kubeconfig
from tests.harness.assets import MODERN_APISERVER_VERSION, ServerKind
from tests.harness.bootstrap import api_client
from tests.harness.cluster import TestCluster

from .cr_machinery import GIZMO_CRD, Gizmos, gizmo, install_crd


def test_version_auth_and_missing_core_api(modern_cluster: TestCluster) -> None:
    assert modern_cluster.kind is ServerKind.MODERN and modern_cluster.modern
    assert modern_cluster.version == MODERN_APISERVER_VERSION
    admin = modern_cluster.admin_client()
    assert admin.get("/api").status_code == 404  # no core/v1 at all
    aggregated = admin.get("/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"})
    assert aggregated.status_code == 200 and aggregated.json()["kind"] == "APIGroupDiscoveryList"
    assert "apiextensions.k8s.io" in {g["name"] for g in admin.get("/apis").json()["groups"]}
    with api_client(modern_cluster.server, modern_cluster.ca_file, "wrong-token") as wrong:
        assert wrong.get("/apis").status_code == 401
    with api_client(modern_cluster.server, modern_cluster.ca_file,
                    modern_cluster.restricted_token) as restricted:
        assert restricted.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").status_code == 403
    # The x509 admin kubeconfig works as on kube-apiserver.
    context = ssl.create_default_context(cafile=str(modern_cluster.ca_file))
    context.load_cert_chain(str(modern_cluster.client_cert_file), str(modern_cluster.client_key_file))
    with httpx.Client(base_url=modern_cluster.server, verify=context, trust_env=False) as cert:
        assert cert.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").status_code == 200


def test_namespaces_are_names_only_and_data_survives_a_restart(
    modern_private_cluster: TestCluster,
) -> None:
    cluster = modern_private_cluster
    first, second = cluster.create_namespace(), cluster.create_namespace()
    assert first != second
    assert cluster.admin_client().get(f"/api/v1/namespaces/{first}").status_code == 404
    install_crd(cluster.admin_client(), GIZMO_CRD)
    with RESTClient(load_kubeconfig(cluster.cert_kubeconfig)) as rest:
        Gizmos(rest, first).create(gizmo("kept"))
    cluster.restart()
    install_crd(cluster.admin_client(), GIZMO_CRD)  # waits until the CRD is served again
    with RESTClient(load_kubeconfig(cluster.admin_kubeconfig)) as rest:
        assert [g.metadata.name for g in Gizmos(rest, first).list().items if g.metadata] == ["kept"]
        assert Gizmos(rest, second).list().items == []
    assert cluster.apiserver_log.name == "apiextensions-apiserver.log" and cluster.apiserver_log.is_file()
