"""kubecodegen-runtime: the library every generated Kubernetes client package imports.

Generated packages import it as ``kubecodegen_runtime`` (or, when generated with
``--vendor-runtime``, carry a verbatim copy as ``<package>._runtime``). Both uses need
the same rule: the modules here import each other only relatively and never import
``kubecodegen`` (the generator) or any generated code.

``__version__`` is the contract with generated packages: each records the range it was
generated for and refuses, at import time, a runtime outside it (see docs/runtime.md).
"""

__version__ = "0.2.0"
