"""Load kubeconfig files the way kubectl does and resolve one context to a ClientConfig.

Loading rules (client-go's ``ClientConfigLoadingRules``):

* an explicit path (or list of paths) must exist;
* otherwise ``$KUBECONFIG`` is an ``os.pathsep``-separated list; files that do not exist
  are skipped, duplicates ignored, and the files are *merged*: for clusters, users and
  contexts the first file that defines a name wins, and ``current-context`` comes from
  the first file that sets it;
* otherwise ``~/.kube/config``.

Each file is validated against :data:`KUBECONFIG_SCHEMA` when read (so a wrong type is
an error even in an entry that is not used, as with kubectl), while semantic checks
(server present, CA readable, one auth method, ...) apply only to the context in use.
Relative paths in an entry are relative to the directory of the file that defined that
entry. A name defined twice *within one file* is an error, again as in kubectl. A user is
only checked when the selected context uses it, so an incomplete entry elsewhere in the
file breaks nothing.

Credentials follow clientcmd: they are only used when the server URL is https (a
``server`` without a scheme means http, see :mod:`.server_url`); a token (inline or
``tokenFile``, the file winning) or basic auth takes precedence over an exec plugin or
auth-provider, and a static client certificate over an exec plugin.

Error messages name the file and the field path and never contain credential values.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .auth import BasicAuth, BearerTokenAuth, ExecAuth, TokenFileAuth
from .errors import ConfigError
from .exec_plugin import CLUSTER_CONFIG_EXTENSION, ExecConfig, ExecPlugin, cluster_info_for_plugin
from .files import MAX_KUBECONFIG_BYTES, FileTooLarge, describe_read_error, read_bounded
from .impersonation import Impersonation
from .incluster import in_cluster_available, load_incluster_config
from .kubeconfig_schema import KUBECONFIG_SCHEMA, validate
from .oidc import OIDCConfig, shared_oidc_auth
from .overrides import OVERRIDE_NAMES, ConfigOverrides, merge_cluster, merge_user
from .server_url import ServerURLError, default_server_url, is_tls
from .text import header_value_problem, terminal_safe
from .tls import PemInput, create_ssl_context
from .types import ClientConfig
from .yaml_load import parse_yaml

logger = logging.getLogger(__name__)

PathArg = str | os.PathLike[str]
KUBECONFIG_ENV = "KUBECONFIG"
DEFAULT_KUBECONFIG = os.path.join("~", ".kube", "config")

_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))


@dataclass(frozen=True)
class ContextInfo:
    """One context as tooling shows it (``kubectl config get-contexts``)."""

    name: str
    cluster: str | None
    user: str | None
    namespace: str | None
    file: str | None


@dataclass(frozen=True)
class _Entry:
    """A named cluster/user/context body and where it was defined."""

    name: str
    body: Mapping[str, Any]
    file: str | None
    field: str  # path of ``body`` inside ``file``, e.g. ``users[2].user``
    overridden: frozenset[str] = frozenset()  # keys whose value came from ConfigOverrides

    def error(self, message: str, key: str | None = None) -> ConfigError:
        if key is not None and key.split(".")[0] in self.overridden:
            return ConfigError(message, field=f"overrides.{OVERRIDE_NAMES[key.split('.')[0]]}")
        return ConfigError(
            message, file=self.file, field=f"{self.field}.{key}" if key else self.field
        )

    def with_overrides(self, body: Mapping[str, Any], keys: Sequence[str]) -> _Entry:
        return dataclasses.replace(self, body=body, overridden=frozenset(keys))

    @property
    def base_dir(self) -> str:
        return os.path.dirname(self.file) if self.file else os.getcwd()

    def path(self, key: str) -> str | None:
        """A file-path field resolved against this entry's kubeconfig directory."""
        value = self.body.get(key)
        if not value:
            return None
        if "\0" in value:
            raise self.error(f"{key} contains a NUL character", key)
        return os.path.normpath(os.path.join(self.base_dir, value))


class Kubeconfig:
    """A merged set of kubeconfig files.

    Build with :meth:`load` (from paths / ``$KUBECONFIG`` / ``~/.kube/config``) or
    :meth:`from_text`; turn a context into connection settings with
    :meth:`client_config`. Tooling can list :attr:`contexts` and read
    :attr:`current_context` without touching any credential.
    """

    def __init__(self) -> None:
        self.files: tuple[str, ...] = ()
        self.current_context: str | None = None
        self._current_context_file: str | None = None
        self._sections: dict[str, dict[str, _Entry]] = {name: {} for name, _ in _SECTIONS}

    def __repr__(self) -> str:
        return f"Kubeconfig(files={self.files!r}, current_context={self.current_context!r})"

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: PathArg | Sequence[PathArg] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> Kubeconfig:
        """Load and merge kubeconfig files following kubectl's precedence rules."""
        paths, explicit = _candidate_paths(path, environ)
        config = cls()
        found: list[str] = []
        for candidate in paths:
            if not os.path.exists(candidate):
                if explicit:
                    raise ConfigError("kubeconfig file does not exist", file=candidate)
                logger.debug("skipping missing kubeconfig %s", terminal_safe(candidate))
                continue
            found.append(candidate)
            config._merge(candidate, _read_yaml(candidate))
        if not found:
            raise ConfigError(_nothing_found_message(paths, environ))
        config.files = tuple(found)
        return config

    @classmethod
    def from_text(cls, text: str, *, file: str | None = None) -> Kubeconfig:
        """Parse one kubeconfig document given as text (``file`` is used for messages and
        for resolving relative paths; without it they are relative to the working directory)."""
        config = cls()
        config._merge(file, parse_yaml(text, file))
        config.files = (file,) if file else ()
        return config

    def _merge(self, file: str | None, document: object) -> None:
        if document is None:
            return  # an empty file contributes nothing (kubectl accepts it)
        problems = validate(document, KUBECONFIG_SCHEMA)
        if problems:
            first = problems[0]
            more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
            message = first.message if first.path else f"top level: {first.message}"
            raise ConfigError(message + more, file=file, field=first.path or None)
        assert isinstance(document, dict)
        for section, body_key in _SECTIONS:
            merged = self._sections[section]
            seen: dict[str, int] = {}
            for index, item in enumerate(document.get(section) or ()):
                name = item["name"]
                if name in seen:
                    raise ConfigError(
                        f"duplicate name {name!r} (already defined at {section}[{seen[name]}])",
                        file=file,
                        field=f"{section}[{index}].name",
                    )
                seen[name] = index
                if name not in merged:  # first file to define a name wins
                    merged[name] = _Entry(
                        name, item.get(body_key) or {}, file, f"{section}[{index}].{body_key}"
                    )
        current = document.get("current-context")
        if current and self.current_context is None:
            self.current_context = current
            self._current_context_file = file

    # -- inspection ------------------------------------------------------------------------

    @property
    def contexts(self) -> Mapping[str, ContextInfo]:
        """All contexts by name (first definition wins across files)."""
        return {
            name: ContextInfo(
                name=name,
                cluster=entry.body.get("cluster") or None,
                user=entry.body.get("user") or None,
                namespace=entry.body.get("namespace") or None,
                file=entry.file,
            )
            for name, entry in self._sections["contexts"].items()
        }

    @property
    def clusters(self) -> tuple[str, ...]:
        """Names of the defined clusters."""
        return tuple(self._sections["clusters"])

    @property
    def users(self) -> tuple[str, ...]:
        """Names of the defined users (their credentials are not exposed)."""
        return tuple(self._sections["users"])

    @property
    def is_empty(self) -> bool:
        return self.current_context is None and not any(self._sections.values())

    # -- resolution ------------------------------------------------------------------------

    def client_config(
        self,
        *,
        context: str | None = None,
        cluster: str | None = None,
        user: str | None = None,
        namespace: str | None = None,
        exec_timeout: float | None = 60.0,
        overrides: ConfigOverrides | None = None,
    ) -> ClientConfig:
        """Resolve a context (``context`` or ``current-context``) into a ClientConfig.

        ``cluster``, ``user`` and ``namespace`` override what the context names, like
        kubectl's ``--cluster``/``--user``/``--namespace``; ``overrides`` carries every
        other flag-style override (server, CA, credentials, impersonation, ...; see
        :class:`ConfigOverrides`). Explicit keyword arguments win over the same field of
        ``overrides``.
        """
        overrides = _named(
            overrides, context=context, cluster=cluster, user=user, namespace=namespace
        )
        optional = bool(overrides.server)  # --server needs no context, as in kubectl
        context_entry = self._select_context(overrides.context, optional=optional)
        cluster_entry = self._referenced(
            "clusters", "cluster", overrides.cluster, context_entry, optional=optional
        )
        if cluster_entry is None:
            cluster_entry = _Entry("", {}, context_entry.file, context_entry.field)
        cluster_entry = cluster_entry.with_overrides(
            merge_cluster(cluster_entry.body, overrides), list(overrides.cluster_fields())
        )
        user_entry = self._referenced("users", "user", overrides.user, context_entry)
        if user_entry is None:
            user_entry = _Entry("", {}, context_entry.file, context_entry.field)
        user_entry = user_entry.with_overrides(
            merge_user(user_entry.body, overrides), list(overrides.user_fields())
        )
        settings = _resolve_cluster(cluster_entry)
        verify, auth, impersonation = _resolve_user(
            user_entry, cluster_entry, settings, exec_timeout=exec_timeout
        )
        extra: dict[str, Any] = {}
        if overrides.timeout is not None:
            extra["timeout"] = overrides.timeout
        return ClientConfig(
            server=settings.server,
            verify=verify,
            auth=auth,
            namespace=overrides.namespace or context_entry.body.get("namespace") or "default",
            tls_server_name=settings.tls_server_name if settings.tls else None,
            proxy=settings.proxy,
            impersonate=impersonation,
            **extra,
        )

    def _files_text(self) -> str:
        return ", ".join(self.files) if self.files else "the kubeconfig"

    def _select_context(self, requested: str | None, *, optional: bool = False) -> _Entry:
        contexts = self._sections["contexts"]
        available = ", ".join(sorted(contexts)) or "none"
        if requested:
            entry = contexts.get(requested)
            if entry is None:
                raise ConfigError(
                    f"context {requested!r} is not defined in {self._files_text()} "
                    f"(available: {available})"
                )
            return entry
        if self.current_context is None:
            if optional:
                return _Entry("", {}, self.files[0] if self.files else None, "contexts")
            if self.is_empty:
                raise ConfigError("the kubeconfig is empty", file=self._files_text())
            raise ConfigError(
                "no context selected: current-context is not set and no context was given "
                f"(available: {available})",
                file=self._files_text(),
                field="current-context",
            )
        entry = contexts.get(self.current_context)
        if entry is None:
            raise ConfigError(
                f"current-context names context {self.current_context!r}, which is not defined "
                f"(available: {available})",
                file=self._current_context_file,
                field="current-context",
            )
        return entry

    def _referenced(
        self,
        section: str,
        key: str,
        override: str | None,
        context: _Entry,
        *,
        optional: bool = False,
    ) -> _Entry | None:
        """The cluster/user a context points at (or the override), with clear errors."""
        name = override or context.body.get(key)
        if not name:
            if key == "user" or optional:
                return None  # no user: anonymous requests, as kubectl allows
            raise context.error(f"context {context.name!r} does not name a {key}", key)
        entry = self._sections[section].get(name)
        if entry is None:
            if optional and not override:
                return None
            if override:
                raise ConfigError(f"{key} {name!r} is not defined in {self._files_text()}")
            raise context.error(
                f"context {context.name!r} refers to {key} {name!r}, which is not defined", key
            )
        return entry


def _named(
    overrides: ConfigOverrides | None,
    *,
    context: str | None,
    cluster: str | None,
    user: str | None,
    namespace: str | None,
) -> ConfigOverrides:
    """``overrides`` with the keyword-argument names filled in (they win)."""
    base = overrides or ConfigOverrides()
    return dataclasses.replace(
        base,
        context=context or base.context,
        cluster=cluster or base.cluster,
        user=user or base.user,
        namespace=namespace or base.namespace,
    )


# -- cluster ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cluster:
    """The connection half of a context: where, and how to trust it."""

    server: str
    tls: bool
    insecure: bool
    ca: PemInput | None
    tls_server_name: str | None
    proxy: str | None


def _resolve_cluster(entry: _Entry) -> _Cluster:
    body = entry.body
    raw = body.get("server") or ""
    if not raw:
        raise entry.error(f"no server found for cluster {entry.name!r}", "server")
    try:
        # clientcmd decides the scheme before merging TLS settings (see server_url).
        server = default_server_url(raw, default_tls=False)
    except ServerURLError as exc:
        raise entry.error(
            f"server of cluster {entry.name!r} is not usable: {exc}", "server"
        ) from None
    proxy = body.get("proxy-url") or None
    if proxy is not None and not _is_url(proxy, ("http", "https", "socks5")):
        raise entry.error(
            f"proxy-url of cluster {entry.name!r} must be an http, https or socks5 URL", "proxy-url"
        )
    ca = _pem_input(entry, "certificate-authority", "certificate-authority-data")
    name = body.get("tls-server-name") or None
    if name is not None and header_value_problem(name) is not None:
        raise entry.error("tls-server-name is not a host name", "tls-server-name")
    return _Cluster(
        server=server,
        tls=is_tls(server),
        insecure=bool(body.get("insecure-skip-tls-verify")),
        ca=ca,
        tls_server_name=name,
        proxy=proxy,
    )


def _is_url(value: str, schemes: tuple[str, ...]) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        return False
    return parts.scheme in schemes and bool(parts.hostname)


def _pem_input(entry: _Entry, file_key: str, data_key: str) -> PemInput | None:
    """PEM material from ``<file_key>`` or base64 ``<data_key>`` (setting both is an error)."""
    data = entry.body.get(data_key)
    path = entry.path(file_key)
    if data and path:
        raise entry.error(f"{file_key} and {data_key} are both set; set only one", data_key)
    if data:
        return PemInput(
            data=_decode_base64(entry, data_key),
            origin_file=entry.file,
            origin_field=f"{entry.field}.{data_key}",
        )
    if path:
        return PemInput(path=path, origin_file=entry.file, origin_field=f"{entry.field}.{file_key}")
    return None


def _decode_base64(entry: _Entry, key: str) -> bytes:
    value: str = entry.body[key]
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise entry.error(f"{key} is not valid base64", key) from None


# -- user ------------------------------------------------------------------------------------


def _client_certificate(entry: _Entry) -> tuple[PemInput | None, PemInput | None]:
    cert = _pem_input(entry, "client-certificate", "client-certificate-data")
    key = _pem_input(entry, "client-key", "client-key-data")
    if cert is not None and key is None:
        raise entry.error(
            f"user {entry.name!r} has a client certificate but no client-key or client-key-data",
            "client-key",
        )
    if key is not None and cert is None:
        raise entry.error(
            f"user {entry.name!r} has a client key but no client-certificate or "
            "client-certificate-data",
            "client-certificate",
        )
    return cert, key


def _resolve_user(
    entry: _Entry, cluster_entry: _Entry, cluster: _Cluster, *, exec_timeout: float | None
) -> tuple[ssl.SSLContext, httpx.Auth | None, Impersonation | None]:
    """TLS context, credential and impersonation for the selected user.

    Everything about the user is validated first (as clientcmd's ConfirmUsable does),
    then the credential is chosen by clientcmd's precedence. Over plain http no
    credential is used at all.
    """
    body = entry.body
    impersonation = _impersonation(entry)
    _check_methods(entry)
    client_cert, client_key = _client_certificate(entry)
    exec_config = _exec_config(entry, cluster_entry, cluster) if body.get("exec") else None
    provider = _auth_provider(entry) if body.get("auth-provider") else None
    if exec_config is not None and provider is not None:
        raise entry.error(
            f"user {entry.name!r} sets both exec and auth-provider; use only one", "auth-provider"
        )
    if not cluster.tls:
        if _has_credentials(body):
            # clientcmd drops them silently; saying so saves a puzzling 401/403.
            logger.warning(
                "server %s is not https: the credentials of user %s are not sent (as kubectl)",
                terminal_safe(cluster.server),
                terminal_safe(repr(entry.name)),
            )
        return create_ssl_context(), None, impersonation
    verify = create_ssl_context(
        ca=cluster.ca,
        client_cert=client_cert,
        client_key=client_key,
        insecure=cluster.insecure,
        server=cluster.server,
    )
    auth: httpx.Auth | None = None
    token_file = entry.path("tokenFile")
    if body.get("token") or token_file:
        auth = _token_auth(entry, token_file)
    elif body.get("username") or body.get("password"):
        if not body.get("username"):
            raise entry.error(f"user {entry.name!r} sets a password but no username", "username")
        auth = BasicAuth(body["username"], body.get("password") or "")
    elif exec_config is not None and client_cert is None:
        auth = ExecAuth(
            ExecPlugin(exec_config, timeout=exec_timeout),
            ssl_context=verify,
            has_static_client_certificate=False,
        )
    elif provider is not None:
        auth = shared_oidc_auth(cluster.server, provider)
    return verify, auth, impersonation


def _has_credentials(body: Mapping[str, Any]) -> bool:
    keys = (
        "token",
        "tokenFile",
        "username",
        "password",
        "exec",
        "auth-provider",
        "client-certificate",
        "client-certificate-data",
    )
    return any(body.get(key) for key in keys)


def _check_methods(entry: _Entry) -> None:
    """clientcmd's rule: a token and basic auth exclude each other; nothing else does.

    (client-go's validation counts only an inline token, but a ``tokenFile`` with basic
    auth fails when the transport is built, so both are refused here.)
    """
    body = entry.body
    has_token = bool(body.get("token") or body.get("tokenFile"))
    if has_token and (body.get("username") or body.get("password")):
        raise entry.error(
            f"more than one authentication method for user {entry.name!r} "
            "(token, username/password); only one is allowed"
        )
    token = body.get("token")
    if token:
        problem = header_value_problem(token)
        if problem is not None:
            raise entry.error(f"token {problem}", "token")


def _token_auth(entry: _Entry, token_file: str | None) -> httpx.Auth:
    """tokenFile wins over an inline token, which is then only the fallback for a file
    that cannot be read (client-go's cached file token source)."""
    token = entry.body.get("token") or None
    if token_file is None:
        assert token is not None
        return BearerTokenAuth(token)
    return TokenFileAuth(
        token_file,
        fallback_token=token,
        origin_file=entry.file,
        origin_field=f"{entry.field}.tokenFile",
    )


def _impersonation(entry: _Entry) -> Impersonation | None:
    body = entry.body
    user = body.get("as") or ""
    uid = body.get("as-uid") or ""
    groups = [group for group in body.get("as-groups") or () if group is not None]
    extra = {
        key: [value for value in values or () if value is not None]
        for key, values in (body.get("as-user-extra") or {}).items()
    }
    if not (user or uid or groups or extra):
        return None
    if not user:
        key = "as-uid" if uid else "as-groups" if groups else "as-user-extra"
        raise entry.error(
            f"user {entry.name!r} requests a uid, groups or user-extra without impersonating "
            "a user (set as)",
            key,
        )
    values = [("as", user), ("as-uid", uid)]
    values += [(f"as-groups[{index}]", group) for index, group in enumerate(groups)]
    values += [(f"as-user-extra.{key}", value) for key, items in extra.items() for value in items]
    for key, value in values:
        problem = header_value_problem(value)
        if problem is not None:
            raise entry.error(f"impersonation value {problem}", key)
    return Impersonation.of(user, uid=uid, groups=groups, extra=extra)


_REMOVED_PROVIDERS = {
    "gcp": "gke-gcloud-auth-plugin",
    "azure": "kubelogin (https://github.com/Azure/kubelogin)",
}


def _auth_provider(entry: _Entry) -> OIDCConfig:
    provider = entry.body["auth-provider"]
    name = provider.get("name") or ""
    if not name:
        raise entry.error("auth-provider needs a name", "auth-provider.name")
    if name in _REMOVED_PROVIDERS:
        raise entry.error(
            f"user {entry.name!r} uses the {name!r} auth-provider, which client-go and kubectl "
            f"removed in 1.26; use the exec credential plugin {_REMOVED_PROVIDERS[name]} instead",
            "auth-provider.name",
        )
    if name != "oidc":
        raise entry.error(
            f"user {entry.name!r} uses auth-provider {name!r}, which is not built in "
            "(built in: oidc; other providers are exec credential plugins now)",
            "auth-provider.name",
        )
    return OIDCConfig.from_kubeconfig(
        provider.get("config") or {},
        file=entry.file,
        field=f"{entry.field}.auth-provider.config",
    )


def _exec_config(entry: _Entry, cluster_entry: _Entry, cluster: _Cluster) -> ExecConfig:
    raw = entry.body["exec"]
    cluster_info = None
    if raw.get("provideClusterInfo"):
        cluster_info = _plugin_cluster_info(cluster_entry, cluster.server, cluster.ca)
    return ExecConfig.from_kubeconfig(
        raw,
        user=entry.name,
        file=entry.file,
        field=f"{entry.field}.exec",
        base_dir=entry.base_dir,
        cluster_info=cluster_info,
    )


def _plugin_cluster_info(cluster: _Entry, server: str, ca: PemInput | None) -> dict[str, Any]:
    body = cluster.body
    config = None
    for extension in body.get("extensions") or ():
        if extension.get("name") == CLUSTER_CONFIG_EXTENSION:
            config = extension.get("extension")
    return cluster_info_for_plugin(
        server=server,
        tls_server_name=body.get("tls-server-name"),
        insecure=bool(body.get("insecure-skip-tls-verify")),
        ca_data=ca.read("certificate-authority") if ca is not None else None,
        proxy_url=body.get("proxy-url"),
        disable_compression=bool(body.get("disable-compression")),
        config=config,
    )


# -- files -----------------------------------------------------------------------------------


def _candidate_paths(
    path: PathArg | Sequence[PathArg] | None, environ: Mapping[str, str] | None
) -> tuple[list[str], bool]:
    """The files to read, and whether they were given explicitly (must then exist)."""
    if path is not None:
        given = [path] if isinstance(path, str | os.PathLike) else list(path)
        named = [os.fspath(p) for p in given]
        for one in named:
            if "\0" in one:
                raise ConfigError("the kubeconfig path contains a NUL character")
        return [os.path.abspath(os.path.expanduser(p)) for p in named], True
    env = os.environ if environ is None else environ
    listed = env.get(KUBECONFIG_ENV, "")
    if listed:
        paths: list[str] = []
        for item in listed.split(os.pathsep):
            if item and os.path.abspath(item) not in paths:
                paths.append(os.path.abspath(item))
        if paths:
            return paths, False
    return [os.path.expanduser(DEFAULT_KUBECONFIG)], False


def _nothing_found_message(paths: Sequence[str], environ: Mapping[str, str] | None) -> str:
    env = os.environ if environ is None else environ
    if env.get(KUBECONFIG_ENV):
        return f"no kubeconfig found: none of the files in ${KUBECONFIG_ENV} exist ({', '.join(paths)})"
    return f"no kubeconfig found at {', '.join(paths)} and ${KUBECONFIG_ENV} is not set"


def _read_yaml(path: str) -> object:
    try:
        raw = read_bounded(path, MAX_KUBECONFIG_BYTES)
    except (OSError, FileTooLarge) as exc:
        raise ConfigError(
            f"cannot read kubeconfig: {describe_read_error(exc)}", file=path
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("kubeconfig is not UTF-8 text", file=path) from None
    return parse_yaml(text, path)


def _incluster_overrides(config: ClientConfig, overrides: ConfigOverrides) -> ClientConfig:
    """clientcmd's in-cluster config takes only a token and a CA file from the overrides
    (a server override never gets here: it selects the kubeconfig path)."""
    changes: dict[str, Any] = {}
    if overrides.token:
        changes["auth"] = BearerTokenAuth(overrides.token, origin_field="overrides.token")
    if overrides.certificate_authority:
        ca = PemInput(
            path=os.path.abspath(overrides.certificate_authority),
            origin_field="overrides.certificate_authority",
        )
        changes["verify"] = create_ssl_context(ca=ca)
    return dataclasses.replace(config, **changes) if changes else config


# -- entry points ----------------------------------------------------------------------------


def load_kubeconfig(
    path: PathArg | Sequence[PathArg] | None = None,
    *,
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
    namespace: str | None = None,
    exec_timeout: float | None = 60.0,
    overrides: ConfigOverrides | None = None,
) -> ClientConfig:
    """ClientConfig for a kubeconfig context (explicit path(s), ``$KUBECONFIG`` or
    ``~/.kube/config``), with optional flag-style ``overrides``."""
    return Kubeconfig.load(path).client_config(
        context=context,
        cluster=cluster,
        user=user,
        namespace=namespace,
        exec_timeout=exec_timeout,
        overrides=overrides,
    )


def load_config(
    path: PathArg | Sequence[PathArg] | None = None,
    *,
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
    namespace: str | None = None,
    exec_timeout: float | None = 60.0,
    overrides: ConfigOverrides | None = None,
) -> ClientConfig:
    """kubeconfig if there is one, else in-cluster config (client-go's default rules).

    A kubeconfig "is there" when ``path`` is given, when ``$KUBECONFIG`` lists an
    existing file, or when ``~/.kube/config`` exists. Without one, an ``overrides``
    server is used on its own (``--server``/``--token`` flags need no file); otherwise
    the pod's service account is used -- unless a context/cluster/user was asked for,
    which only a kubeconfig can satisfy.
    """
    candidates, explicit = _candidate_paths(path, None)
    arguments: dict[str, Any] = {
        "context": context,
        "cluster": cluster,
        "user": user,
        "namespace": namespace,
        "exec_timeout": exec_timeout,
        "overrides": overrides,
    }
    if explicit or any(os.path.exists(candidate) for candidate in candidates):
        return load_kubeconfig(path, **arguments)
    if overrides is not None and overrides.server:
        return Kubeconfig().client_config(**arguments)
    named = context or cluster or user
    if overrides is not None:
        named = named or overrides.context or overrides.cluster or overrides.user
    if in_cluster_available() and not named:
        fallback = overrides.namespace if overrides is not None else None
        config = load_incluster_config(namespace=namespace or fallback)
        return _incluster_overrides(config, overrides) if overrides is not None else config
    raise ConfigError(
        _nothing_found_message(candidates, None) + ", and not running inside a cluster "
        "(KUBERNETES_SERVICE_HOST is not set)"
    )
