"""Parse kubeconfig YAML the way kubectl does: one document, read as JSON values.

clientcmd decodes a kubeconfig through sigs.k8s.io/yaml (go-yaml v2, then JSON), the
same path kubectl uses for manifests, so the runtime's one implementation of it,
:mod:`..yamljson`, reads kubeconfigs too: go-yaml's scalar rules (an unquoted
``2024-01-01`` stays a string, ``on`` is true), and its bounds -- alias bombs, recursive
aliases and deep nesting are refused in milliseconds instead of ending in a MemoryError
or RecursionError. This module only turns its errors into a ConfigError naming the file.
Messages give the problem and position, never a source line (it may hold a token).
"""

from __future__ import annotations

from ..yamljson import YAMLError, load_all
from .errors import ConfigError


def parse_yaml(text: str, file: str | None) -> object:
    """The single document in ``text`` (None if there is none), or a ConfigError."""
    try:
        documents = load_all(text)
    except YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    except ValueError as exc:  # a loader defect must still be a ConfigError, never a crash
        raise ConfigError(f"invalid YAML ({type(exc).__name__})", file=file) from None
    if len(documents) > 1:
        raise ConfigError(
            f"a kubeconfig is one YAML document; this file has {len(documents)}", file=file
        )
    return documents[0] if documents else None
