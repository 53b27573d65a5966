"""Write kubeconfig files for an environment's users.

The files reference the CA, client certificate and key by absolute path (not inline data) so that
a reader of the file can see which of the environment's files it depends on, and TLS is always
verified against the environment's CA. Files are created owner-readable only: they hold bearer
tokens.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    ca_file: Path,
    user: str,
    token: str | None = None,
    client_cert: Path | None = None,
    client_key: Path | None = None,
    namespace: str | None = None,
) -> None:
    """Write a single-context kubeconfig for one user of the API server at ``server``."""
    if (token is None) == (client_cert is None):
        raise ValueError(f"{path}: give exactly one of token or client_cert")
    if (client_cert is None) != (client_key is None):
        raise ValueError(f"{path}: client_cert and client_key go together")
    credentials: dict[str, str] = {}
    if token is not None:
        credentials["token"] = token
    if client_cert is not None and client_key is not None:
        credentials["client-certificate"] = str(client_cert)
        credentials["client-key"] = str(client_key)
    context: dict[str, str] = {"cluster": "envtest", "user": user}
    if namespace is not None:
        context["namespace"] = namespace
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "envtest",
                "cluster": {"server": server, "certificate-authority": str(ca_file)},
            }
        ],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": user, "context": context}],
        "current-context": user,
        "preferences": {},
    }
    write_private(path, yaml.safe_dump(document, sort_keys=False).encode())


def write_private(path: Path, data: bytes) -> None:
    """Create or replace ``path`` with mode 0600 from the first byte (no readable window)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
