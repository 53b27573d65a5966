"""How the fake server reads request paths (kube-apiserver's RequestInfoFactory rules)."""

from __future__ import annotations

import pytest

from kubecodegen_runtime.fake.paths import DiscoveryPath, ResourcePath, parse


@pytest.mark.parametrize(("path", "expected"), [
    ("/api/v1/namespaces/ns/pods", ResourcePath("", "v1", "pods", "ns")),
    ("/api/v1/namespaces/ns/pods/p", ResourcePath("", "v1", "pods", "ns", "p")),
    ("/api/v1/namespaces/ns/pods/p/status", ResourcePath("", "v1", "pods", "ns", "p", "status")),
    ("/api/v1/pods", ResourcePath("", "v1", "pods")),
    ("/api/v1/namespaces", ResourcePath("", "v1", "namespaces")),
    ("/api/v1/namespaces/ns", ResourcePath("", "v1", "namespaces", None, "ns")),
    ("/api/v1/namespaces/ns/status", ResourcePath("", "v1", "namespaces", None, "ns", "status")),
    ("/api/v1/namespaces/ns/finalize",
     ResourcePath("", "v1", "namespaces", None, "ns", "finalize")),
    ("/apis/apps/v1/namespaces/ns/deployments/d/scale",
     ResourcePath("apps", "v1", "deployments", "ns", "d", "scale")),
    ("/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aadmin",
     ResourcePath("rbac.authorization.k8s.io", "v1", "clusterroles", None, "system:admin")),
    ("/api/v1/namespaces/ns/pods/p/proxy/a/b",
     ResourcePath("", "v1", "pods", "ns", "p", "proxy", ("a", "b"))),
])
def test_resource_paths(path: str, expected: ResourcePath) -> None:
    assert parse(path) == expected


@pytest.mark.parametrize(("path", "expected"), [
    ("/version", DiscoveryPath("version")),
    ("/api", DiscoveryPath("api")),
    ("/apis", DiscoveryPath("apis")),
    ("/apis/apps", DiscoveryPath("group", "apps")),
    ("/api/v1", DiscoveryPath("groupversion", "", "v1")),
    ("/apis/apps/v1", DiscoveryPath("groupversion", "apps", "v1")),
])
def test_discovery_paths(path: str, expected: DiscoveryPath) -> None:
    assert parse(path) == expected


@pytest.mark.parametrize("path", ["/healthz", "/", "/apis/apps/v1/namespaces//pods", "/openapi/v2"])
def test_paths_the_api_does_not_have(path: str) -> None:
    assert parse(path) is None
