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
entry. A name defined twice *within one file* is an error, again as in kubectl.

Error messages name the file and the field path and never contain credential values.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from .auth import BasicAuth, BearerTokenAuth, ExecAuth, TokenFileAuth
from .errors import ConfigError
from .exec_plugin import CLUSTER_CONFIG_EXTENSION, ExecConfig, ExecPlugin, cluster_info_for_plugin
from .incluster import in_cluster_available, load_incluster_config
from .kubeconfig_schema import KUBECONFIG_SCHEMA, validate
from .tls import PemInput, create_ssl_context
from .types import ClientConfig

logger = logging.getLogger(__name__)

PathArg = str | os.PathLike[str]
KUBECONFIG_ENV = "KUBECONFIG"
DEFAULT_KUBECONFIG = os.path.join("~", ".kube", "config")

_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
_IMPERSONATION_KEYS = ("as", "as-uid", "as-groups", "as-user-extra")


class _Loader(yaml.SafeLoader):
    """Safe YAML loading without timestamp resolution.

    kubectl converts YAML to JSON before decoding, so an unquoted ``2024-01-01`` is a
    string there; PyYAML would make it a ``date`` and fail the string type check.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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

    def error(self, message: str, key: str | None = None) -> ConfigError:
        return ConfigError(
            message, file=self.file, field=f"{self.field}.{key}" if key else self.field
        )

    @property
    def base_dir(self) -> str:
        return os.path.dirname(self.file) if self.file else os.getcwd()

    def path(self, key: str) -> str | None:
        """A file-path field resolved against this entry's kubeconfig directory."""
        value = self.body.get(key)
        if not value:
            return None
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
                logger.debug("skipping missing kubeconfig %s", candidate)
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
        config._merge(file, _parse_yaml(text, file))
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
    ) -> ClientConfig:
        """Resolve a context (``context`` or ``current-context``) into a ClientConfig.

        ``cluster``, ``user`` and ``namespace`` override what the context names, like
        kubectl's ``--cluster``/``--user``/``--namespace``.
        """
        context_entry = self._select_context(context)
        cluster_entry = self._referenced("clusters", "cluster", cluster, context_entry)
        assert cluster_entry is not None
        user_entry = self._referenced("users", "user", user, context_entry)
        server, insecure, ca, tls_server_name, proxy = _resolve_cluster(cluster_entry)
        if user_entry is None:
            user_entry = _Entry("", {}, context_entry.file, context_entry.field)
        client_cert, client_key = _client_certificate(user_entry)
        verify = create_ssl_context(
            ca=ca, client_cert=client_cert, client_key=client_key, insecure=insecure, server=server
        )
        auth = _resolve_auth(
            user_entry,
            cluster_entry,
            verify=verify,
            has_client_certificate=client_cert is not None,
            exec_timeout=exec_timeout,
            server=server,
            ca=ca,
        )
        return ClientConfig(
            server=server,
            verify=verify,
            auth=auth,
            namespace=namespace or context_entry.body.get("namespace") or "default",
            tls_server_name=tls_server_name,
            proxy=proxy,
        )

    def _files_text(self) -> str:
        return ", ".join(self.files) if self.files else "the kubeconfig"

    def _select_context(self, requested: str | None) -> _Entry:
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
        self, section: str, key: str, override: str | None, context: _Entry
    ) -> _Entry | None:
        """The cluster/user a context points at (or the override), with clear errors."""
        name = override or context.body.get(key)
        if not name:
            if key == "user":
                return None  # no user: anonymous requests, as kubectl allows
            raise context.error(f"context {context.name!r} does not name a {key}", key)
        entry = self._sections[section].get(name)
        if entry is None:
            if override:
                raise ConfigError(f"{key} {name!r} is not defined in {self._files_text()}")
            raise context.error(
                f"context {context.name!r} refers to {key} {name!r}, which is not defined", key
            )
        return entry


# -- cluster ---------------------------------------------------------------------------------


def _resolve_cluster(
    entry: _Entry,
) -> tuple[str, bool, PemInput | None, str | None, str | None]:
    body = entry.body
    server = body.get("server") or ""
    if not server:
        raise entry.error(f"no server found for cluster {entry.name!r}", "server")
    if not _is_url(server, ("http", "https")):
        raise entry.error(
            f"server of cluster {entry.name!r} is not a valid http(s) URL "
            "(expected e.g. https://host:6443)",
            "server",
        )
    proxy = body.get("proxy-url") or None
    if proxy is not None and not _is_url(proxy, ("http", "https", "socks5")):
        raise entry.error(
            f"proxy-url of cluster {entry.name!r} must be an http, https or socks5 URL", "proxy-url"
        )
    ca = _pem_input(entry, "certificate-authority", "certificate-authority-data")
    return (
        server.rstrip("/"),
        bool(body.get("insecure-skip-tls-verify")),
        ca,
        body.get("tls-server-name") or None,
        proxy,
    )


def _is_url(value: str, schemes: tuple[str, ...]) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
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


def _resolve_auth(
    entry: _Entry,
    cluster: _Entry,
    *,
    verify: ssl.SSLContext,
    has_client_certificate: bool,
    exec_timeout: float | None,
    server: str,
    ca: PemInput | None,
) -> httpx.Auth | None:
    body = entry.body
    provider = body.get("auth-provider")
    if provider:
        raise entry.error(
            f"user {entry.name!r} uses auth-provider {provider.get('name')!r}, which is not "
            "supported (kubectl removed these providers); use an exec credential plugin such "
            "as gke-gcloud-auth-plugin or kubelogin instead",
            "auth-provider",
        )
    for key in _IMPERSONATION_KEYS:
        if body.get(key):
            raise entry.error(
                f"user {entry.name!r} uses impersonation, which is not supported", key
            )
    methods = []
    if body.get("token") or body.get("tokenFile"):
        methods.append("token")
    if body.get("username") or body.get("password"):
        methods.append("username/password")
    if body.get("exec"):
        methods.append("exec")
    if len(methods) > 1:
        raise entry.error(
            f"more than one authentication method for user {entry.name!r} "
            f"({', '.join(methods)}); only one is allowed"
        )
    if body.get("token"):
        if body.get("tokenFile"):
            logger.debug("user %r sets token and tokenFile; the token wins", entry.name)
        return BearerTokenAuth(body["token"])
    token_file = entry.path("tokenFile")
    if token_file:
        return TokenFileAuth(
            token_file, origin_file=entry.file, origin_field=f"{entry.field}.tokenFile"
        )
    if body.get("username") or body.get("password"):
        if not body.get("username"):
            raise entry.error(f"user {entry.name!r} sets a password but no username", "username")
        return BasicAuth(body["username"], body.get("password") or "")
    if body.get("exec"):
        cluster_info = None
        if body["exec"].get("provideClusterInfo"):
            cluster_info = _plugin_cluster_info(cluster, server, ca)
        exec_config = ExecConfig.from_kubeconfig(
            body["exec"],
            user=entry.name,
            file=entry.file,
            field=f"{entry.field}.exec",
            base_dir=entry.base_dir,
            cluster_info=cluster_info,
        )
        return ExecAuth(
            ExecPlugin(exec_config, timeout=exec_timeout),
            ssl_context=verify,
            has_static_client_certificate=has_client_certificate,
        )
    return None


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
        return [os.path.abspath(os.path.expanduser(os.fspath(p))) for p in given], True
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
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read kubeconfig: {exc.strerror}", file=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError("kubeconfig is not UTF-8 text", file=path) from None
    return _parse_yaml(text, path)


def _parse_yaml(text: str, file: str | None) -> object:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        # Only the position and PyYAML's problem statement: its full str() quotes the
        # offending source line, which may hold a token.
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = exc.problem or exc.context or "syntax error"
        if exc.problem and exc.context:
            started = exc.context_mark
            detail += f" ({exc.context}" + (
                f" started at line {started.line + 1})" if started else ")"
            )
        raise ConfigError(f"invalid YAML{where}: {detail}", file=file) from None
    except yaml.YAMLError:
        raise ConfigError("invalid YAML", file=file) from None


# -- entry points ----------------------------------------------------------------------------


def load_kubeconfig(
    path: PathArg | Sequence[PathArg] | None = None,
    *,
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
    namespace: str | None = None,
    exec_timeout: float | None = 60.0,
) -> ClientConfig:
    """ClientConfig for a kubeconfig context (explicit path(s), ``$KUBECONFIG`` or
    ``~/.kube/config``)."""
    return Kubeconfig.load(path).client_config(
        context=context, cluster=cluster, user=user, namespace=namespace, exec_timeout=exec_timeout
    )


def load_config(
    path: PathArg | Sequence[PathArg] | None = None,
    *,
    context: str | None = None,
    cluster: str | None = None,
    user: str | None = None,
    namespace: str | None = None,
    exec_timeout: float | None = 60.0,
) -> ClientConfig:
    """kubeconfig if there is one, else in-cluster config (client-go's default rules).

    A kubeconfig "is there" when ``path`` is given, when ``$KUBECONFIG`` lists an
    existing file, or when ``~/.kube/config`` exists. Without one, the pod's service
    account is used — unless a context/cluster/user was asked for, which only a
    kubeconfig can satisfy.
    """
    candidates, explicit = _candidate_paths(path, None)
    if explicit or any(os.path.exists(candidate) for candidate in candidates):
        return load_kubeconfig(
            path,
            context=context,
            cluster=cluster,
            user=user,
            namespace=namespace,
            exec_timeout=exec_timeout,
        )
    if in_cluster_available() and not (context or cluster or user):
        return load_incluster_config(namespace=namespace)
    raise ConfigError(
        _nothing_found_message(candidates, None) + ", and not running inside a cluster "
        "(KUBERNETES_SERVICE_HOST is not set)"
    )
