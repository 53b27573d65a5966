"""Runtime support for generated Kubernetes clients.

This package is copied verbatim into every generated package as ``_runtime``. It must
therefore only use relative imports among its own modules and must never import
``kubecodegen`` or any generated code.
"""
