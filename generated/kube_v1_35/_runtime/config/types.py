"""The resolved connection settings that the transport consumes.

``kubeconfig.py`` and ``incluster.py`` produce a :class:`ClientConfig`; ``transport.py``
turns it into httpx clients. Nothing else in the runtime reads kubeconfig files.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class ClientConfig:
    """Where the API server is and how to authenticate to it.

    ``verify`` is an ``ssl.SSLContext`` already holding the cluster CA and any client
    certificate (TLS is verified unless the kubeconfig says ``insecure-skip-tls-verify``,
    in which case it is a context with verification off). ``auth`` is an ``httpx.Auth``
    (bearer token, token file, basic, exec plugin) that works for sync and async clients
    and retries once on 401 where credentials can be refreshed. ``tls_server_name`` is
    sent as SNI and checked against the certificate instead of the URL's host.
    Credentials never appear in ``repr``.
    """

    server: str
    verify: ssl.SSLContext = field(repr=False)
    auth: httpx.Auth | None = field(default=None, repr=False)
    namespace: str = "default"
    tls_server_name: str | None = None
    proxy: str | None = None
    user_agent: str | None = None
    qps: float = 5.0
    burst: int = 10
    timeout: float = 60.0
