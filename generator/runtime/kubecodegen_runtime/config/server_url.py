"""The API server URL a ``server``/``Host`` string means (client-go's ``DefaultServerURL``).

client-go accepts a full URL or a bare ``host``/``host:port``. Without a scheme it
prepends ``https://`` if the config *already* carries TLS settings (a CA, a client
certificate or the insecure flag) and ``http://`` otherwise; after adding a scheme, a path
is an error ("host must be a URL or a host:port pair"), while a full URL may carry a path
that prefixes every request (an API server behind a relocating proxy).

Quirk worth knowing, reproduced by the kubeconfig loader: clientcmd asks this question
*before* it has merged the cluster's CA and the user's certificate into the config, so a
kubeconfig ``server: host:6443`` always means ``http://host:6443`` -- and because the
scheme is then http, clientcmd also leaves the credentials out (it only sends them over
TLS; see :func:`is_tls`).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

import httpx


class ServerURLError(ValueError):
    """``server`` is not usable; the message never needs more than the field name."""


def default_server_url(server: str, *, default_tls: bool) -> str:
    """The absolute http(s) URL for ``server``, without a trailing slash.

    Raises :class:`ServerURLError` for an empty value, a scheme other than http/https, a
    missing host, a bad port, a path after an added scheme, or anything httpx cannot use
    (control characters, an invalid international host name).
    """
    if not server:
        raise ServerURLError("host must be a URL or a host:port pair")
    url = server
    parts = _split(url)
    if parts is None and "://" in server:
        raise ServerURLError("not a valid URL (is the port a number from 1 to 65535?)")
    if parts is None or not parts.scheme or not parts.netloc:
        url = ("https://" if default_tls else "http://") + server
        parts = _split(url)
        if parts is None:
            raise ServerURLError("not a valid URL or host:port pair")
        if parts.path not in ("", "/"):
            raise ServerURLError(
                "host must be a URL or a host:port pair (no path without a scheme)"
            )
    if parts.scheme not in ("http", "https"):
        raise ServerURLError("the scheme must be http or https (e.g. https://host:6443)")
    if not parts.hostname:
        raise ServerURLError("the URL has no host (expected e.g. https://host:6443)")
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ServerURLError(f"not a usable URL: {exc}") from None
    return url.rstrip("/")


def is_tls(server: str) -> bool:
    """Whether requests to ``server`` (an output of :func:`default_server_url`) use TLS."""
    return server.startswith("https://")


def _split(url: str) -> SplitResult | None:
    """``urlsplit`` with the port checked (None if either fails)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed or out-of-range port
    except ValueError:
        return None
    return parts
