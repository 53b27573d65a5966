"""The test clusters' kubeconfig files are written by the runtime envtest's writer."""

from kubecodegen_runtime.envtest.kubeconfig import write_kubeconfig, write_private

__all__ = ["write_kubeconfig", "write_private"]
