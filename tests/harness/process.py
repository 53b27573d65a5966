"""The test clusters' child processes are the runtime envtest's (`ChildProcess`, `free_ports`)."""

from kubecodegen_runtime.envtest.process import ChildProcess, free_ports

__all__ = ["ChildProcess", "free_ports"]
