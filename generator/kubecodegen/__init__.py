"""kubecodegen: generate typed Python Kubernetes clients from an OpenAPI v2 document.

The generator (spec loading, model, naming, rendering, CLI) lives in this package; the
``runtime`` subpackage is the hand-written code that every generated package carries a
verbatim copy of, as ``<package>._runtime``.
"""

__version__ = "0.1.0"
