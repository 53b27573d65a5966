"""Fetch ``/openapi/v3`` (or ``/openapi/v2``) from a live cluster through kubeconfig (CRD schemas included).

Uses the runtime's own kubeconfig and auth code, so ``--from-cluster`` authenticates
exactly as the generated clients will (tokens, client certificates, exec plugins).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import httpx

from kubecodegen_runtime.config import ConfigError, load_config

from .crd_defaults import restore_crd_defaults
from .crd_publish import crd_kinds, crd_scales
from .crd_schemas import crd_schemas
from .errors import SpecError
from .load import MAX_SPEC_BYTES, LoadedSpec, load_spec_bytes
from .openapi_v3 import index_urls, merge_v3
from .records import Origin

_CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


#: ``--openapi``: which document set ``--from-cluster`` reads.
OPENAPI_CHOICES = ("auto", "v2", "v3")


def load_spec_from_cluster(kubeconfig: str | None = None, context: str | None = None,
                           *, timeout: float = 60.0, openapi: str = "auto") -> LoadedSpec:
    """The cluster's served OpenAPI document; errors name the server, never credentials.

    ``openapi``: ``v3`` reads the per group-version documents of ``/openapi/v3`` (an error
    when the server serves none), ``v2`` reads ``/openapi/v2``, ``auto`` (the default) reads
    v3 where the server serves it (1.27+) and v2 where it does not (404: 1.20).
    ``LoadedSpec.openapi_documents`` says which documents were read.
    """
    if openapi not in OPENAPI_CHOICES:
        raise SpecError("--openapi", "", f"expected one of {', '.join(OPENAPI_CHOICES)}, got {openapi!r}")
    try:
        config = load_config(kubeconfig, context=context)
    except ConfigError as exc:
        raise SpecError("kubeconfig", "", str(exc)) from None
    server = config.server.rstrip("/")
    extensions = {"sni_hostname": config.tls_server_name} if config.tls_server_name else {}
    headers = {"Accept": "application/json"}
    source = f"{server}/openapi/v2"
    try:
        with httpx.Client(verify=config.verify, auth=config.auth, timeout=timeout,
                          proxy=config.proxy) as client:
            def get(url: str) -> httpx.Response:
                return client.get(url, headers=headers, extensions=extensions)

            crds = _custom_resource_definitions(client, server + _CRDS, extensions)
            if openapi != "v2":
                source = f"{server}/openapi/v3"
                index = get(source)
                if index.status_code == 200:
                    return _v3_set(get, server, load_spec_bytes(index.content, source,
                                                                origin=Origin.CLUSTER), crds)
                if openapi == "v3" or index.status_code != 404:
                    raise SpecError(source, "", f"the server answered HTTP {index.status_code} "
                                    f"{index.reason_phrase}; may this user read /openapi/v3?")
                source = f"{server}/openapi/v2"
            response = get(source)
    except httpx.HTTPError as exc:
        raise SpecError(source, "", f"cannot fetch the cluster's OpenAPI document: "
                        f"{type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise SpecError(source, "", f"the server answered HTTP {response.status_code} "
                        f"{response.reason_phrase}; may this user read /openapi/v2?")
    spec = load_spec_bytes(response.content, source, max_bytes=MAX_SPEC_BYTES, origin=Origin.CLUSTER)
    restore_crd_defaults(spec.document, crds)
    return dataclasses.replace(spec, custom_resource_kinds=crd_kinds(crds), crd_scales=crd_scales(crds),
                               crd_schemas=crd_schemas(crds))


def _v3_set(get: Callable[[str], httpx.Response], server: str, index: LoadedSpec,
            crds: list[Any]) -> LoadedSpec:
    """Every document the ``/openapi/v3`` index lists, merged (see :mod:`.openapi_v3`)."""
    documents = []
    for _, url in index_urls(index):
        where = server + url.partition("?")[0]  # the hash query only busts caches
        response = get(server + url)
        if response.status_code != 200:
            raise SpecError(where, "", f"the server answered HTTP {response.status_code} "
                            f"{response.reason_phrase} for a document its /openapi/v3 index lists")
        documents.append(load_spec_bytes(response.content, where, origin=Origin.CLUSTER))
    spec = merge_v3(documents, index.source, origin=Origin.CLUSTER, custom_resource_kinds=crd_kinds(crds))
    restore_crd_defaults(spec.document, crds)  # v3 keeps them; this finds nothing to add
    return dataclasses.replace(spec, crd_scales=crd_scales(crds), crd_schemas=crd_schemas(crds))


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
