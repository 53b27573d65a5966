"""The one place the CRD-file reader takes its YAML from: the runtime's kubectl-compatible loader.

CRD files are read exactly as ``kubectl apply -f`` reads them (go-yaml v2 scalars, then JSON
values; bounded aliases and nesting), so the generator and the runtime's ``decode_yaml`` never
disagree about what a manifest says. The runtime package is being renamed; keeping the import
here alone makes that a one-line change.
"""

from __future__ import annotations

from kubecodegen_runtime.yamljson import YAMLError, load_all

__all__ = ["YAMLError", "load_all"]
