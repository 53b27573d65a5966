"""HTTP clients for the test clusters, built like envtest's own (`kubecodegen_runtime.envtest.api`).

What a real cluster's controllers would have made (each namespace's ``default`` service account)
and the restricted user's RBAC are created by envtest (`Environment.create_namespace`,
`Environment.grant`); this module only keeps the token-authenticated client the tests use.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from kubecodegen_runtime.config.auth import BearerTokenAuth
from kubecodegen_runtime.config.tls import PemInput, create_ssl_context
from kubecodegen_runtime.config.types import ClientConfig
from kubecodegen_runtime.envtest.api import http_client

#: Label on every namespace the harness creates.
HARNESS_LABEL = "kubecodegen.test/harness"


def api_client(server: str, ca_file: Path, token: str | None) -> httpx.Client:
    """An httpx client for the cluster that verifies TLS against the cluster's CA, sending
    ``token`` as bearer token (none: anonymous). Proxy variables and ~/.netrc are ignored."""
    config = ClientConfig(
        server=server,
        verify=create_ssl_context(ca=PemInput(path=str(ca_file))),
        auth=BearerTokenAuth(token) if token is not None else None,
    )
    return http_client(config)
