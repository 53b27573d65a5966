"""Fetch ``/openapi/v2`` from a live cluster through kubeconfig (CRD schemas included).

Uses the runtime's own kubeconfig and auth code, so ``--from-cluster`` authenticates
exactly as the generated clients will (tokens, client certificates, exec plugins).
"""

from __future__ import annotations

import httpx

from ..runtime.config import ConfigError, load_config
from .errors import SpecError
from .load import MAX_SPEC_BYTES, LoadedSpec, load_spec_bytes


def load_spec_from_cluster(kubeconfig: str | None = None, context: str | None = None,
                           *, timeout: float = 60.0) -> LoadedSpec:
    """The cluster's served OpenAPI v2 document; errors name the server, never credentials."""
    try:
        config = load_config(kubeconfig, context=context)
    except ConfigError as exc:
        raise SpecError("kubeconfig", "", str(exc)) from None
    source = f"{config.server.rstrip('/')}/openapi/v2"
    extensions = {"sni_hostname": config.tls_server_name} if config.tls_server_name else {}
    try:
        with httpx.Client(verify=config.verify, auth=config.auth, timeout=timeout,
                          proxy=config.proxy) as client:
            response = client.get(source, headers={"Accept": "application/json"}, extensions=extensions)
    except httpx.HTTPError as exc:
        raise SpecError(source, "", f"cannot fetch the cluster's OpenAPI document: "
                        f"{type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise SpecError(source, "", f"the server answered HTTP {response.status_code} "
                        f"{response.reason_phrase}; may this user read /openapi/v2?")
    return load_spec_bytes(response.content, source, max_bytes=MAX_SPEC_BYTES)
