"""The client side of the WebSocket opening handshake (RFC 6455 section 4), pure.

Why not wsproto's own handshake: wsproto's ``WSConnection`` speaks HTTP itself (h11),
while ours must go through the RESTClient's httpx client so that TLS verification,
client certificates, exec-plugin/OIDC tokens, proxies and SNI are the ones every other
request uses. So httpx sends the upgrade request built here and :func:`check_answer`
validates the ``101 Switching Protocols`` answer; only the framing that follows is
wsproto's (``wsproto.connection.Connection``).

The upgrade must be HTTP/1.1: HTTP/2 has no ``Upgrade`` (the runtime's httpx clients
never enable HTTP/2).
"""

from __future__ import annotations

from collections.abc import Sequence

from wsproto.utilities import generate_accept_token, generate_nonce

from ..errors import ApiError, KubernetesError
from ..rest.response import error_from


class HandshakeError(KubernetesError):
    """The server said ``101`` but the answer is not a valid WebSocket upgrade
    (wrong ``Sec-WebSocket-Accept``, or a subprotocol that was not offered)."""


class UpgradeRefused(ApiError):
    """The server answered the upgrade without ``101 Switching Protocols``.

    The raised object is also an instance of the typed error of that answer
    (:class:`~..errors.Forbidden`, :class:`~..errors.NotFound`, ``BadRequest``...), so
    ``except Forbidden`` and ``except UpgradeRefused`` both catch it.
    """


_REFUSED: dict[type[ApiError], type[UpgradeRefused]] = {}


def _refused_class(cls: type[ApiError]) -> type[UpgradeRefused]:
    if issubclass(cls, UpgradeRefused):
        return cls
    found = _REFUSED.get(cls)
    if found is None:
        found = type(f"UpgradeRefused{cls.__name__}", (UpgradeRefused, cls), {})
        found.__module__ = __name__
        _REFUSED[cls] = found
    return found


def refused(status_code: int, headers: tuple[tuple[str, str], ...], body: bytes, *,
            method: str, path: str) -> UpgradeRefused:
    """The typed error of a non-101 answer to an upgrade, as an :class:`UpgradeRefused`."""
    error = error_from(status_code, headers, body, method=method, path=path)
    cls = _refused_class(type(error))
    out = cls.__new__(cls)
    out.__dict__.update(error.__dict__)
    out.args = error.args
    return out


def request_headers(key: str, protocols: Sequence[str]) -> list[tuple[str, str]]:
    """The headers of the upgrade request for nonce ``key`` offering ``protocols``
    (in preference order, one comma-separated ``Sec-WebSocket-Protocol``)."""
    headers = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", key),
    ]
    if protocols:
        headers.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
    return headers


def new_key() -> str:
    """A fresh random ``Sec-WebSocket-Key`` (16 random bytes, base64)."""
    return generate_nonce().decode()


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def check_answer(key: str, protocols: Sequence[str],
                 headers: tuple[tuple[str, str], ...]) -> str | None:
    """Validate the headers of a ``101`` answer; return the subprotocol the server chose
    (``None`` if it chose none). Raise :class:`HandshakeError` when the answer is not a
    WebSocket upgrade of this request."""
    upgrade = (_header(headers, "upgrade") or "").lower()
    if upgrade != "websocket":
        raise HandshakeError(f"the server switched to {upgrade!r}, not to websocket")
    accept = _header(headers, "sec-websocket-accept")
    if accept != generate_accept_token(key.encode()).decode():
        raise HandshakeError("the server's Sec-WebSocket-Accept does not match the key sent")
    chosen = _header(headers, "sec-websocket-protocol")
    if chosen is not None:
        chosen = chosen.strip()
        if chosen not in protocols:
            raise HandshakeError(f"the server chose the subprotocol {chosen!r}, which was not "
                                 f"offered ({', '.join(protocols)})")
    return chosen
