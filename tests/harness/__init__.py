"""A real Kubernetes control plane (etcd + kube-apiserver on loopback) for the tests.

Everything the generated clients do is proven against a real API server, never a mock. The
servers are started by the runtime's envtest (`kubecodegen_runtime.envtest`, the same code users
run); this package adds the project's own parts: the binaries of both server flavours (`assets`),
the suite's cluster with its users and kubeconfigs (`cluster`), pytest fixtures (`plugin`), fault
proxies and a hostile server, and the foreground cluster for people (`python -m tests.harness`).
"""

from .assets import Assets, AssetsMisconfiguredError, AssetsNotFoundError, find_assets
from .cluster import ClusterStartError, TestCluster

__all__ = [
    "Assets",
    "AssetsMisconfiguredError",
    "AssetsNotFoundError",
    "ClusterStartError",
    "TestCluster",
    "find_assets",
]
