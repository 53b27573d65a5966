"""Where the API server is and how to authenticate: kubeconfig, in-cluster, credentials.

Everything here produces or supports :class:`ClientConfig`; the transport consumes it.
"""

from .auth import BasicAuth, BearerTokenAuth, ExecAuth, TokenFileAuth
from .errors import ConfigError, ExecPluginError
from .exec_plugin import ExecConfig, ExecCredential, ExecPlugin
from .impersonation import Impersonation
from .incluster import in_cluster_available, load_incluster_config
from .kubeconfig import ContextInfo, Kubeconfig, load_config, load_kubeconfig
from .oidc import OIDCAuth, OIDCConfig
from .overrides import ConfigOverrides
from .tls import PemInput, create_ssl_context
from .types import ClientConfig

__all__ = [
    "BasicAuth",
    "BearerTokenAuth",
    "ClientConfig",
    "ConfigError",
    "ConfigOverrides",
    "ContextInfo",
    "ExecAuth",
    "ExecConfig",
    "ExecCredential",
    "ExecPlugin",
    "ExecPluginError",
    "Impersonation",
    "Kubeconfig",
    "OIDCAuth",
    "OIDCConfig",
    "PemInput",
    "TokenFileAuth",
    "create_ssl_context",
    "in_cluster_available",
    "load_config",
    "load_incluster_config",
    "load_kubeconfig",
]
