"""The resolved connection settings that the transport consumes.

``kubeconfig.py`` and ``incluster.py`` produce a :class:`ClientConfig`; ``transport.py``
turns it into httpx clients. Nothing else in the runtime reads kubeconfig files.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

import httpx

from .errors import ConfigError
from .impersonation import Impersonation
from .text import header_value_problem


@dataclass(frozen=True)
class ClientConfig:
    """Where the API server is and how to authenticate to it.

    ``verify`` is an ``ssl.SSLContext`` already holding the cluster CA and any client
    certificate (TLS is verified unless the kubeconfig says ``insecure-skip-tls-verify``,
    in which case it is a context with verification off). ``auth`` is an ``httpx.Auth``
    (bearer token, token file, basic, exec plugin) that works for sync and async clients
    and retries once on 401 where credentials can be refreshed. ``tls_server_name`` is
    sent as SNI and checked against the certificate instead of the URL's host.
    ``impersonate`` asks the server to act as another user (``Impersonate-*`` headers,
    see :meth:`default_headers`). Credentials never appear in ``repr``.
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
    impersonate: Impersonation | None = None

    def __post_init__(self) -> None:
        # Refused here, as ConfigErrors, rather than as untyped errors from httpx (whose
        # messages would quote header values).
        try:
            httpx.URL(self.server)
        except httpx.InvalidURL as exc:
            raise ConfigError(f"not a usable URL: {exc}", field="ClientConfig.server") from None
        if self.user_agent is not None and header_value_problem(self.user_agent) is not None:
            raise ConfigError(
                f"user agent {header_value_problem(self.user_agent)}",
                field="ClientConfig.user_agent",
            )
        if self.impersonate is None:
            return
        values = [("user", self.impersonate.user), ("uid", self.impersonate.uid)]
        values += [(f"groups[{i}]", group) for i, group in enumerate(self.impersonate.groups)]
        values += [
            (f"extra[{key!r}][{i}]", value)
            for key, items in self.impersonate.extra.items()
            for i, value in enumerate(items)
        ]
        for where, value in values:
            problem = header_value_problem(value)
            if problem is not None:
                raise ConfigError(
                    f"impersonation value {problem}", field=f"ClientConfig.impersonate.{where}"
                )

    def default_headers(self) -> list[tuple[str, str]]:
        """Headers every request carries besides the credential (impersonation)."""
        return self.impersonate.headers() if self.impersonate is not None else []
