"""Fetch ``/openapi/v2`` from a live cluster through kubeconfig (CRD schemas included).

Uses the runtime's own kubeconfig and auth code, so ``--from-cluster`` authenticates
exactly as the generated clients will (tokens, client certificates, exec plugins).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from kubecodegen_runtime.config import ConfigError, load_config

from .crd_defaults import restore_crd_defaults
from .errors import SpecError
from .load import MAX_SPEC_BYTES, LoadedSpec, load_spec_bytes
from .records import Origin

_CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


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
            crds = _custom_resource_definitions(client, config.server.rstrip("/") + _CRDS, extensions)
    except httpx.HTTPError as exc:
        raise SpecError(source, "", f"cannot fetch the cluster's OpenAPI document: "
                        f"{type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise SpecError(source, "", f"the server answered HTTP {response.status_code} "
                        f"{response.reason_phrase}; may this user read /openapi/v2?")
    spec = load_spec_bytes(response.content, source, max_bytes=MAX_SPEC_BYTES, origin=Origin.CLUSTER)
    restore_crd_defaults(spec.document, crds)
    return spec


def _custom_resource_definitions(client: httpx.Client, url: str, extensions: dict[str, Any]) -> list[Any]:
    """The cluster's CRD objects, for the schema ``default``s /openapi/v2 leaves out (see
    ``crd_defaults``); empty when this user may not list them or the answer is unusable,
    in which case defaulted properties simply stay required."""
    try:
        response = client.get(url, headers={"Accept": "application/json"}, extensions=extensions)
    except httpx.HTTPError:
        return []
    if response.status_code != 200 or len(response.content) > MAX_SPEC_BYTES:
        return []
    try:
        items = json.loads(response.content).get("items")
    except (ValueError, AttributeError, RecursionError):
        return []
    return items if isinstance(items, list) else []
