"""Command-line style overrides of a kubeconfig (client-go's ``ConfigOverrides``).

A tool that offers ``--server``, ``--token``, ``--certificate-authority``, ``--as`` or
``--namespace`` flags passes them here; :meth:`Kubeconfig.client_config` merges them over
the selected context, cluster and user the way client-go does:

* a set override replaces the kubeconfig's value (unset ones change nothing; a ``False``
  ``insecure_skip_tls_verify`` cannot turn a kubeconfig's ``true`` off);
* setting ``insecure_skip_tls_verify``, ``certificate_authority`` or
  ``certificate_authority_data`` replaces *all three* cluster fields, so ``--insecure``
  over a kubeconfig with a CA works, and ``--certificate-authority`` drops inline CA data;
* setting ``server`` or ``tls_server_name`` replaces the kubeconfig's ``tls-server-name``
  (a name meant for the kubeconfig's server rarely fits another one);
* ``client_certificate``/``client_key`` replace the kubeconfig's file *and* data fields;
* with ``server`` set, no context is needed at all (``--server URL --token T`` works with
  an empty or missing kubeconfig).

File paths in overrides are relative to the working directory, like flags.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ConfigOverrides:
    """Values that win over the kubeconfig; ``None``/empty means "not overridden"."""

    # context selection (kubectl --context, --cluster, --user, --namespace)
    context: str | None = None
    cluster: str | None = None
    user: str | None = None
    namespace: str | None = None
    # cluster (--server, --certificate-authority, --insecure-skip-tls-verify, --tls-server-name)
    server: str | None = None
    certificate_authority: str | None = None
    certificate_authority_data: bytes | None = field(default=None, repr=False)
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = None
    # credentials (--token, --username, --password, --client-certificate, --client-key)
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_certificate: str | None = None
    client_key: str | None = None
    # impersonation (--as, --as-uid, --as-group, and client-go's user extra)
    impersonate: str | None = None
    impersonate_uid: str | None = None
    impersonate_groups: Sequence[str] = ()
    impersonate_user_extra: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # request timeout in seconds (--request-timeout)
    timeout: float | None = None

    def cluster_fields(self) -> dict[str, Any]:
        """The overridden cluster fields, spelled as in a kubeconfig."""
        fields: dict[str, Any] = {}
        _put(fields, "server", self.server)
        _put(fields, "proxy-url", self.proxy_url)
        _put(fields, "certificate-authority", _absolute(self.certificate_authority))
        if self.certificate_authority_data:
            fields["certificate-authority-data"] = base64.b64encode(
                self.certificate_authority_data
            ).decode("ascii")
        if self.insecure_skip_tls_verify:
            fields["insecure-skip-tls-verify"] = True
        _put(fields, "tls-server-name", self.tls_server_name)
        return fields

    def replaces_trust(self) -> bool:
        """Whether the CA/insecure trio is replaced as a whole (see the module docstring)."""
        return bool(
            self.insecure_skip_tls_verify
            or self.certificate_authority
            or self.certificate_authority_data
        )

    def replaces_tls_server_name(self) -> bool:
        return bool(self.server or self.tls_server_name)

    def user_fields(self) -> dict[str, Any]:
        """The overridden user fields, spelled as in a kubeconfig."""
        fields: dict[str, Any] = {}
        _put(fields, "token", self.token)
        _put(fields, "username", self.username)
        _put(fields, "password", self.password)
        _put(fields, "client-certificate", _absolute(self.client_certificate))
        _put(fields, "client-key", _absolute(self.client_key))
        _put(fields, "as", self.impersonate)
        _put(fields, "as-uid", self.impersonate_uid)
        if self.impersonate_groups:
            fields["as-groups"] = list(self.impersonate_groups)
        if self.impersonate_user_extra:
            fields["as-user-extra"] = {
                key: list(values) for key, values in self.impersonate_user_extra.items()
            }
        return fields


#: kubeconfig key -> ConfigOverrides attribute, for error messages about overridden fields.
OVERRIDE_NAMES = {
    "server": "server",
    "proxy-url": "proxy_url",
    "certificate-authority": "certificate_authority",
    "certificate-authority-data": "certificate_authority_data",
    "insecure-skip-tls-verify": "insecure_skip_tls_verify",
    "tls-server-name": "tls_server_name",
    "token": "token",
    "username": "username",
    "password": "password",
    "client-certificate": "client_certificate",
    "client-key": "client_key",
    "as": "impersonate",
    "as-uid": "impersonate_uid",
    "as-groups": "impersonate_groups",
    "as-user-extra": "impersonate_user_extra",
}


def merge_cluster(body: Mapping[str, Any], overrides: ConfigOverrides) -> dict[str, Any]:
    """A cluster body with ``overrides`` applied by client-go's rules."""
    merged = dict(body)
    merged.update(overrides.cluster_fields())
    if overrides.replaces_trust():
        for key in ("certificate-authority", "certificate-authority-data"):
            merged.pop(key, None)
        merged["insecure-skip-tls-verify"] = overrides.insecure_skip_tls_verify
        merged.update(
            {k: v for k, v in overrides.cluster_fields().items() if k.startswith("certificate")}
        )
    if overrides.replaces_tls_server_name():
        merged.pop("tls-server-name", None)
        _put(merged, "tls-server-name", overrides.tls_server_name)
    return merged


def merge_user(body: Mapping[str, Any], overrides: ConfigOverrides) -> dict[str, Any]:
    """A user body with ``overrides`` applied by client-go's rules."""
    merged = dict(body)
    fields = overrides.user_fields()
    for file_key in ("client-certificate", "client-key"):
        if file_key in fields:
            merged.pop(f"{file_key}-data", None)
    merged.update(fields)
    return merged


def _put(fields: dict[str, Any], key: str, value: str | None) -> None:
    if value:
        fields[key] = value


def _absolute(path: str | None) -> str | None:
    return os.path.abspath(os.path.expanduser(path)) if path else None
