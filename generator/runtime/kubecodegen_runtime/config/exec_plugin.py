"""client.authentication.k8s.io exec credential plugins (``users[].user.exec``).

A plugin is a program (aws, gke-gcloud-auth-plugin, kubelogin, ...) that prints an
``ExecCredential`` JSON document with a bearer token or a client certificate. Semantics
follow client-go: the plugin runs lazily on first use, its result is cached until
``status.expirationTimestamp``, it is rerun when the server answers 401 to the cached
credential, and only one run happens at a time per plugin object.

Why neither output stream appears in errors or logs: stdout *is* the credential, and a
failing plugin may well print it (or other secrets) to stderr. As in client-go, the
plugin's stderr is our stderr -- what it says goes to the user's terminal, never into an
exception that ends up in a log or a bug report.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .errors import ConfigError, ExecPluginError
from .text import header_value_problem, terminal_safe

API_V1 = "client.authentication.k8s.io/v1"
API_V1BETA1 = "client.authentication.k8s.io/v1beta1"
SUPPORTED_API_VERSIONS = (API_V1, API_V1BETA1)
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
EXEC_INFO_ENV = "KUBERNETES_EXEC_INFO"
CLUSTER_CONFIG_EXTENSION = "client.authentication.k8s.io/exec"
"""Name of the cluster extension whose value is passed to plugins as ``spec.cluster.config``."""


@dataclass(frozen=True)
class ExecConfig:
    """A validated ``exec`` stanza plus what the plugin may learn about the cluster.

    ``command`` is already resolved: relative paths containing a separator are relative
    to the kubeconfig's directory (as in kubectl); bare names are looked up on PATH when
    the plugin runs. ``env`` values can be secrets, hence hidden from repr.
    """

    command: str
    api_version: str
    user: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    interactive_mode: str = "IfAvailable"
    install_hint: str | None = None
    provide_cluster_info: bool = False
    cluster_info: Mapping[str, Any] | None = field(default=None, repr=False)
    file: str | None = None
    field: str | None = None

    @classmethod
    def from_kubeconfig(
        cls,
        raw: Mapping[str, Any],
        *,
        user: str,
        file: str | None,
        field: str,
        base_dir: str,
        cluster_info: Mapping[str, Any] | None,
    ) -> ExecConfig:
        """Build from a schema-validated ``exec`` mapping, enforcing kubectl's rules."""

        def error(message: str, sub: str) -> ConfigError:
            return ConfigError(message, file=file, field=f"{field}.{sub}")

        command = raw.get("command") or ""
        if not command:
            raise error(
                f"command must be specified for user {user!r} to use an exec plugin", "command"
            )
        api_version = raw.get("apiVersion") or ""
        if api_version not in SUPPORTED_API_VERSIONS:
            raise error(
                f"exec plugin apiVersion {api_version!r} of user {user!r} is not supported; "
                f"use one of: {', '.join(SUPPORTED_API_VERSIONS)}",
                "apiVersion",
            )
        mode = raw.get("interactiveMode")
        if mode is None:
            if api_version == API_V1:
                raise error(
                    f"interactiveMode must be specified for user {user!r} with {API_V1} "
                    f"(one of: {', '.join(INTERACTIVE_MODES)})",
                    "interactiveMode",
                )
            mode = "IfAvailable"
        if "\0" in command:
            raise error("command contains a NUL character", "command")
        args = tuple(raw.get("args") or ())
        for index, arg in enumerate(args):
            if "\0" in arg:
                raise error("argument contains a NUL character", f"args[{index}]")
        env: list[tuple[str, str]] = []
        for index, item in enumerate(raw.get("env") or ()):
            name = item.get("name") or ""
            value = item.get("value") or ""
            if not name:
                raise error("env variable name must not be empty", f"env[{index}].name")
            if "=" in name or "\0" in name:
                raise error(
                    "env variable name must not contain '=' or a NUL character",
                    f"env[{index}].name",
                )
            if "\0" in value:
                raise error("env variable value contains a NUL character", f"env[{index}].value")
            env.append((name, value))
        if _has_separator(command):
            command = os.path.normpath(os.path.join(base_dir, command))
        return cls(
            command=command,
            api_version=api_version,
            user=user,
            args=args,
            env=tuple(env),
            interactive_mode=mode,
            install_hint=terminal_safe(raw.get("installHint") or "") or None,
            provide_cluster_info=bool(raw.get("provideClusterInfo")),
            cluster_info=cluster_info,
            file=file,
            field=field,
        )


@dataclass(frozen=True, eq=False)
class ExecCredential:
    """What a plugin returned. Compared by identity: a rerun yields a *new* object even
    when the token is unchanged, which is how "already refreshed" is detected."""

    token: str | None = field(default=None, repr=False)
    client_certificate_data: str | None = field(default=None, repr=False)
    client_key_data: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    """Epoch seconds after which the credential must not be used (None: until a 401)."""

    @property
    def has_client_certificate(self) -> bool:
        return self.client_certificate_data is not None


def cluster_info_for_plugin(
    *,
    server: str,
    tls_server_name: str | None,
    insecure: bool,
    ca_data: bytes | None,
    proxy_url: str | None,
    disable_compression: bool,
    config: Any,
) -> dict[str, Any]:
    """The ``spec.cluster`` object of an ExecCredential (empty fields omitted, as in Go)."""
    info: dict[str, Any] = {"server": server}
    if tls_server_name:
        info["tls-server-name"] = tls_server_name
    if insecure:
        info["insecure-skip-tls-verify"] = True
    if ca_data:
        info["certificate-authority-data"] = base64.b64encode(ca_data).decode("ascii")
    if proxy_url:
        info["proxy-url"] = proxy_url
    if disable_compression:
        info["disable-compression"] = True
    if config is not None:
        info["config"] = config
    return info


def _has_separator(command: str) -> bool:
    return os.sep in command or bool(os.altsep and os.altsep in command)


def _stdin_is_tty() -> bool:
    stream = sys.stdin
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed or detached stdin
        return False


class ExecPlugin:
    """Runs one configured plugin and caches its credential.

    Blocking by design (it is a subprocess); async callers run :meth:`credential` in a
    worker thread. The lock makes concurrent callers share one run instead of spawning
    the plugin once per request.
    """

    def __init__(
        self,
        config: ExecConfig,
        *,
        timeout: float | None = 60.0,
        clock: Callable[[], float] = time.time,
        stdin_is_tty: Callable[[], bool] = _stdin_is_tty,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self._clock = clock
        self._stdin_is_tty = stdin_is_tty
        self._environ = environ
        self._lock = threading.Lock()
        self._cached: ExecCredential | None = None

    def __repr__(self) -> str:
        return f"ExecPlugin(command={self.config.command!r}, user={self.config.user!r})"

    def cached(self) -> ExecCredential | None:
        """The cached credential if it is still valid (no plugin run, no lock)."""
        current = self._cached
        if current is None or self._expired(current):
            return None
        return current

    def credential(self) -> ExecCredential:
        """Return a valid credential, running the plugin if none is cached or it expired."""
        current = self.cached()
        if current is not None:
            return current
        with self._lock:
            current = self.cached()  # another thread may have refreshed meanwhile
            if current is None:
                current = self._run()
                self._cached = current
            return current

    def refresh(self, rejected: ExecCredential) -> ExecCredential:
        """Rerun the plugin because the server rejected ``rejected`` (401).

        If another caller already replaced that credential, its replacement is returned
        instead of running the plugin again.
        """
        with self._lock:
            if self._cached is not None and self._cached is not rejected:
                return self._cached
            current = self._run()
            self._cached = current
            return current

    def _expired(self, credential: ExecCredential) -> bool:
        return credential.expires_at is not None and self._clock() >= credential.expires_at

    def _error(self, message: str) -> ExecPluginError:
        return ExecPluginError(message, file=self.config.file, field=self.config.field)

    def _interactive(self) -> bool:
        mode = self.config.interactive_mode
        if mode == "Never":
            return False
        tty = self._stdin_is_tty()
        if mode == "Always" and not tty:
            raise self._error(
                f"exec plugin for user {self.config.user!r} has interactiveMode Always, "
                "but standard input is not a terminal"
            )
        return tty

    def _resolve_command(self) -> str:
        command = self.config.command
        is_path = _has_separator(command)
        found = (command if os.path.isfile(command) else None) if is_path else shutil.which(command)
        if found is None:
            hint = f"\n\n{self.config.install_hint}" if self.config.install_hint else ""
            raise self._error(
                f"exec plugin executable {command!r} for user {self.config.user!r} was not "
                f"found{'' if is_path else ' on PATH'}{hint}"
            )
        return found

    def _request_document(self, interactive: bool) -> str:
        spec: dict[str, Any] = {"interactive": interactive}
        if self.config.provide_cluster_info and self.config.cluster_info is not None:
            spec["cluster"] = dict(self.config.cluster_info)
        return json.dumps(
            {"apiVersion": self.config.api_version, "kind": "ExecCredential", "spec": spec},
            separators=(",", ":"),
        )

    def _run(self) -> ExecCredential:
        interactive = self._interactive()
        executable = self._resolve_command()
        env = dict(os.environ if self._environ is None else self._environ)
        env.update(self.config.env)
        env[EXEC_INFO_ENV] = self._request_document(interactive)
        # Interactive plugins talk to the user on the terminal (stdin), so it stays
        # connected and no timeout applies; otherwise stdin is closed. stderr is always
        # ours (see the module docstring).
        try:
            completed = subprocess.run(
                [executable, *self.config.args],
                env=env,
                stdin=None if interactive else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=None,
                timeout=None if interactive else self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise self._error(
                f"exec plugin {self.config.command!r} for user {self.config.user!r} did not "
                f"finish within {self.timeout:g} seconds"
            ) from None
        except (OSError, ValueError) as exc:
            # ValueError: a NUL byte or '=' in an ExecConfig built without from_kubeconfig.
            reason = (
                exc.strerror if isinstance(exc, OSError) else "invalid command, argument or env"
            )
            raise self._error(
                f"exec plugin {self.config.command!r} for user {self.config.user!r} could not "
                f"be started: {reason}"
            ) from None
        if completed.returncode != 0:
            raise self._error(
                f"exec plugin {self.config.command!r} for user {self.config.user!r} failed with "
                f"exit status {completed.returncode} (its own messages, if any, went to "
                "standard error)"
            )
        return self._parse(completed.stdout)

    def _parse(self, stdout: bytes) -> ExecCredential:
        name = f"exec plugin {self.config.command!r} for user {self.config.user!r}"
        try:
            document = json.loads(stdout)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            where = (
                f" (line {exc.lineno} column {exc.colno}: {exc.msg})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            raise self._error(f"{name} printed output that is not valid JSON{where}") from None
        return parse_exec_credential(document, self.config.api_version, self._error, name)


def parse_exec_credential(
    document: object,
    api_version: str,
    error: Callable[[str], ConfigError],
    name: str = "exec plugin",
) -> ExecCredential:
    """Validate a decoded ExecCredential response; messages never quote its values."""
    if not isinstance(document, dict):
        raise error(f"{name} printed JSON that is not an ExecCredential object")
    got_version = document.get("apiVersion")
    if got_version != api_version:
        shown = (
            repr(got_version) if isinstance(got_version, str) and len(got_version) < 100 else "?"
        )
        raise error(f"{name} returned apiVersion {shown}, expected {api_version!r}")
    if document.get("kind") != "ExecCredential":
        raise error(f"{name} returned kind other than 'ExecCredential'")
    status = document.get("status")
    if not isinstance(status, dict):
        raise error(f"{name} returned an ExecCredential without a status object")
    token = _optional_string(status, "token", error, name)
    cert = _optional_string(status, "clientCertificateData", error, name)
    key = _optional_string(status, "clientKeyData", error, name)
    if (cert is None) != (key is None):
        raise error(
            f"{name} returned only one of status.clientCertificateData and status.clientKeyData"
        )
    if token is None and cert is None:
        raise error(f"{name} returned neither status.token nor a client certificate")
    if token is not None:
        problem = header_value_problem(token)
        if problem is not None:
            raise error(f"{name} returned a status.token that {problem}")
    expires_at: float | None = None
    stamp = status.get("expirationTimestamp")
    if stamp is not None:
        if not isinstance(stamp, str):
            raise error(f"{name} returned a status.expirationTimestamp that is not a string")
        expires_at = parse_rfc3339(stamp)
        if expires_at is None:
            raise error(f"{name} returned a status.expirationTimestamp that is not RFC 3339")
    return ExecCredential(
        token=token, client_certificate_data=cert, client_key_data=key, expires_at=expires_at
    )


def _optional_string(
    status: Mapping[str, Any], key: str, error: Callable[[str], ConfigError], name: str
) -> str | None:
    value = status.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise error(f"{name} returned a status.{key} that is not a string")
    return value


_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: str) -> float | None:
    """Parse Go's RFC 3339 timestamps (``Z`` suffix, up to nanoseconds) to epoch seconds.

    ``datetime.fromisoformat`` on Python 3.10 rejects both ``Z`` and 9-digit fractions.
    """
    match = _RFC3339.match(text.strip())
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    fraction = (fraction or ".0")[:7]
    offset = "+00:00" if zone in ("Z", "z") else zone
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}{fraction.ljust(7, '0')}{offset}")
    except ValueError:
        return None
    return moment.astimezone(timezone.utc).timestamp()
