"""httpx authentication for the credential kinds a kubeconfig can hold.

Each class is an ``httpx.Auth`` usable by both ``httpx.Client`` and ``httpx.AsyncClient``
(the ClientConfig is shared by the sync and async clients). Credentials that can change
(token files, exec plugins) are refreshed and the request retried once on a 401; static
ones are not, because resending the same credential cannot help. Every repr hides the
secret it holds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator

import httpx

from .errors import ConfigError, ExecPluginError
from .exec_plugin import ExecCredential, ExecPlugin
from .files import MAX_CREDENTIAL_FILE_BYTES, FileTooLarge, describe_read_error, read_bounded
from .text import header_value_problem
from .tls import PemInput, load_client_certificate

logger = logging.getLogger(__name__)

_HIDDEN = "<hidden>"


def _bearer(token: str) -> str:
    return f"Bearer {token}"


class BearerTokenAuth(httpx.Auth):
    """A static bearer token (``users[].user.token``).

    A token that cannot be a header value (CR/LF, control or non-ASCII characters) is
    refused here, with an error that does not show it.
    """

    def __init__(
        self, token: str, *, origin_file: str | None = None, origin_field: str | None = None
    ) -> None:
        problem = header_value_problem(token)
        if problem is not None:
            raise ConfigError(f"the bearer token {problem}", file=origin_file, field=origin_field)
        self._header = _bearer(token)

    def __repr__(self) -> str:
        return f"BearerTokenAuth(token={_HIDDEN})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class BasicAuth(httpx.BasicAuth):
    """HTTP basic auth (``username``/``password``) with a repr that omits the password."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        self.username = username

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password={_HIDDEN})"


class TokenFileAuth(httpx.Auth):
    """A bearer token read from a file that something else rotates.

    Why re-read: projected service-account tokens and ``tokenFile`` users are rewritten
    in place (kubelet swaps a symlink) long before a process restarts. The file is
    re-read when its identity (inode, size, mtime) changes, and at least every
    ``refresh_interval`` seconds even if it looks unchanged; after a 401 it is re-read at
    once and the request retried if the token is different. Reads are a few bytes from
    local disk, so they are done inline in both the sync and async flows.

    If the file becomes unreadable later, the last good token keeps being used (and a
    warning logged), as client-go does. At construction it must be readable -- unless a
    ``fallback_token`` is given (a kubeconfig user with both ``token`` and
    ``tokenFile``): the file's token wins whenever it can be read, the fallback is used
    until it can (client-go's bearer round tripper over a cached file token source).
    """

    requires_request_body = True  # the body is resent on the 401 retry

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        refresh_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        origin_file: str | None = None,
        origin_field: str | None = None,
        fallback_token: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.refresh_interval = refresh_interval
        self._clock = clock
        self._origin_file = origin_file
        self._origin_field = origin_field
        self._lock = threading.Lock()
        if fallback_token is None:
            self._token, self._identity = self._read()
        else:
            BearerTokenAuth(fallback_token, origin_file=origin_file)  # same header check
            try:
                self._token, self._identity = self._read()
            except ConfigError as exc:
                logger.warning("using the inline token for now: %s", exc)
                self._token, self._identity = fallback_token, None
        self._read_at = clock()

    def __repr__(self) -> str:
        return f"TokenFileAuth(path={self.path!r}, token={_HIDDEN})"

    def token(self) -> str:
        """The current token, re-read if the file changed or the interval elapsed."""
        with self._lock:
            if (
                self._clock() - self._read_at >= self.refresh_interval
                or self._stat() != self._identity
            ):
                self._reload_locked()
            return self._token

    def reload(self) -> str:
        """Re-read the file now (after a 401) and return the token."""
        with self._lock:
            self._reload_locked()
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = _bearer(token)
        response = yield request
        if response.status_code != 401:
            return
        fresh = self.reload()
        if fresh != token:
            request.headers["Authorization"] = _bearer(fresh)
            yield request

    def _reload_locked(self) -> None:
        try:
            self._token, self._identity = self._read()
        except ConfigError as exc:
            logger.warning("keeping the previous token: %s", exc)
        self._read_at = self._clock()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def _read(self) -> tuple[str, tuple[int, int, int] | None]:
        identity = self._stat()
        try:
            token = read_bounded(self.path, MAX_CREDENTIAL_FILE_BYTES).decode("utf-8").strip()
        except (OSError, FileTooLarge, UnicodeDecodeError) as exc:
            reason = (
                "not UTF-8 text"
                if isinstance(exc, UnicodeDecodeError)
                else describe_read_error(exc)
            )
            raise ConfigError(
                f"cannot read token file {self.path}: {reason}",
                file=self._origin_file,
                field=self._origin_field,
            ) from None
        if not token:
            raise ConfigError(
                f"token file {self.path} is empty", file=self._origin_file, field=self._origin_field
            )
        problem = header_value_problem(token)
        if problem is not None:
            raise ConfigError(
                f"the token in {self.path} {problem}",
                file=self._origin_file,
                field=self._origin_field,
            )
        return token, identity


class ExecAuth(httpx.Auth):
    """Credentials from an exec plugin: bearer token and/or client certificate.

    Token results become the ``Authorization`` header. Certificate results are loaded
    into ``ssl_context`` (the ClientConfig's ``verify`` context, which the loader binds
    here) before the request is sent; since httpx opens connections after the auth flow
    has run, the very first connection already presents the plugin's certificate. When
    a *new* certificate replaces an older one, pooled keep-alive connections still carry
    the old one: callbacks registered with :meth:`add_certificate_listener` are called
    so the transport can drop its pool.

    The plugin runs in a worker thread for async clients so the event loop never blocks;
    the plugin object's lock allows one run at a time.
    """

    requires_request_body = True  # the body is resent on the 401 retry

    def __init__(
        self,
        plugin: ExecPlugin,
        *,
        ssl_context: ssl.SSLContext | None = None,
        has_static_client_certificate: bool = False,
    ) -> None:
        self.plugin = plugin
        self._ssl_context = ssl_context
        self._has_static_client_certificate = has_static_client_certificate
        self._installed: ExecCredential | None = None
        self._install_lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"ExecAuth(command={self.plugin.config.command!r}, user={self.plugin.config.user!r})"

    def add_certificate_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever a plugin certificate replaces a previous one."""
        self._listeners.append(callback)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()
        credential = self._ready(self.plugin.credential())
        self._apply(request, credential)
        response = yield request
        if response.status_code != 401:
            return
        fresh = self._ready(self.plugin.refresh(credential))
        self._apply(request, fresh)
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        credential = self.plugin.cached()
        if credential is None or credential is not self._installed:
            credential = await asyncio.to_thread(lambda: self._ready(self.plugin.credential()))
        self._apply(request, credential)
        response = yield request
        if response.status_code != 401:
            return
        rejected = credential
        fresh = await asyncio.to_thread(lambda: self._ready(self.plugin.refresh(rejected)))
        self._apply(request, fresh)
        yield request

    def _apply(self, request: httpx.Request, credential: ExecCredential) -> None:
        if credential.token is not None:
            request.headers["Authorization"] = _bearer(credential.token)

    def _ready(self, credential: ExecCredential) -> ExecCredential:
        """Make sure a certificate credential is loaded into the TLS context."""
        if credential.client_certificate_data is None or credential.client_key_data is None:
            self._installed = credential
            return credential
        with self._install_lock:
            if credential is self._installed:
                return credential
            config = self.plugin.config
            if self._has_static_client_certificate:
                raise ExecPluginError(
                    f"exec plugin for user {config.user!r} returned a client certificate, but the "
                    "user also configures client-certificate/client-key; use only one",
                    file=config.file,
                    field=config.field,
                )
            if self._ssl_context is None:
                raise ExecPluginError(
                    f"exec plugin for user {config.user!r} returned a client certificate, but this "
                    "ExecAuth has no ssl_context to load it into",
                    file=config.file,
                    field=config.field,
                )
            origin = {"origin_file": config.file, "origin_field": f"{config.field} (plugin output)"}
            load_client_certificate(
                self._ssl_context,
                PemInput(data=credential.client_certificate_data.encode(), **origin),
                PemInput(data=credential.client_key_data.encode(), **origin),
            )
            rotated = self._installed is not None and self._installed.has_client_certificate
            self._installed = credential
        if rotated:
            for callback in self._listeners:
                callback()
        return credential
