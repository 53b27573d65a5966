"""Configuration for code running in a pod, from its service account.

The API server address comes from the ``KUBERNETES_SERVICE_HOST``/``_PORT`` variables
kubelet injects; credentials from the projected service-account volume. The token there
is rotated by kubelet (bound tokens expire after about an hour), which is why it is
served by :class:`TokenFileAuth` and re-read rather than read once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .auth import TokenFileAuth
from .errors import ConfigError
from .tls import PemInput, create_ssl_context
from .types import ClientConfig

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_PATH = f"{SERVICE_ACCOUNT_DIR}/token"
CA_PATH = f"{SERVICE_ACCOUNT_DIR}/ca.crt"
NAMESPACE_PATH = f"{SERVICE_ACCOUNT_DIR}/namespace"

HOST_ENV = "KUBERNETES_SERVICE_HOST"
PORT_ENV = "KUBERNETES_SERVICE_PORT"
NAMESPACE_ENV = "POD_NAMESPACE"


def in_cluster_available(environ: Mapping[str, str] | None = None) -> bool:
    """True when the service-host variables are set (we are probably in a pod)."""
    env = os.environ if environ is None else environ
    return bool(env.get(HOST_ENV)) and bool(env.get(PORT_ENV))


def load_incluster_config(
    *,
    namespace: str | None = None,
    environ: Mapping[str, str] | None = None,
    token_path: str | None = None,
    ca_path: str | None = None,
    namespace_path: str | None = None,
    token_refresh_interval: float = 60.0,
) -> ClientConfig:
    """Build a ClientConfig from the pod's environment and service-account files.

    The namespace is ``namespace`` if given, else ``$POD_NAMESPACE``, else the
    service-account namespace file, else ``default`` (client-go's order). The file
    paths default to the module constants, read at call time so tests can point them
    elsewhere.
    """
    env = os.environ if environ is None else environ
    host, port = env.get(HOST_ENV, ""), env.get(PORT_ENV, "")
    if not host or not port:
        raise ConfigError(
            f"not running inside a cluster: {HOST_ENV} and {PORT_ENV} must both be set"
        )
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    token_path = token_path or TOKEN_PATH
    ca_path = ca_path or CA_PATH
    auth = TokenFileAuth(token_path, refresh_interval=token_refresh_interval)
    verify = create_ssl_context(ca=PemInput(path=ca_path, origin_file=ca_path))
    return ClientConfig(
        server=f"https://{host}:{port}",
        verify=verify,
        auth=auth,
        namespace=namespace
        or env.get(NAMESPACE_ENV)
        or _read_namespace(namespace_path or NAMESPACE_PATH),
    )


def _read_namespace(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or "default"
    except OSError:
        return "default"
