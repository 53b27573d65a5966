"""A real Kubernetes control plane (etcd + kube-apiserver on loopback) for the tests.

Everything the generated clients do is proven against a real API server, never a mock. This
package finds the binaries (`assets`), starts and stops a private cluster (`cluster`), exposes it to
pytest as fixtures (`plugin`) and runs it in the foreground for people (`python -m tests.harness`).
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
