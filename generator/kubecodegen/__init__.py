"""kubecodegen: generate typed Python Kubernetes clients from an OpenAPI v2 document.

The generator (spec loading, model, naming, rendering, CLI) lives in this package. The code
generated packages run on is a separate library, ``kubecodegen_runtime`` (distribution
``kubecodegen-runtime``, in ``generator/runtime/``); generated packages import it, or carry
a verbatim copy as ``<package>._runtime`` when generated with ``--vendor-runtime``.
"""

__version__ = "0.1.0"

# The runtime versions the code this generator writes works with. Generated packages
# record it and check it at import time; pyproject.toml requires the same range.
RUNTIME_REQUIREMENT = ">=0.2,<0.3"
