"""The ``oidc`` auth-provider: an OpenID Connect ID token as the bearer credential.

Semantics follow client-go's oidc plugin (still part of client-go; only the gcp and
azure providers were removed):

* ``idp-issuer-url`` and ``client-id`` are required, ``client-secret`` optional;
* the ``id-token`` is used while its JWT ``exp`` claim is more than ten seconds away.
  The signature is *not* checked -- the API server does that; the client only needs to
  know whether sending the token is pointless;
* otherwise, with a ``refresh-token``, the issuer's discovery document
  (``<issuer>/.well-known/openid-configuration``) gives the ``token_endpoint``, which is
  asked for a ``refresh_token`` grant (client credentials as HTTP basic auth first, then
  in the form body, like golang.org/x/oauth2's auto-detection); the answer's
  ``id_token`` becomes the credential and a rotated ``refresh_token`` replaces the old;
* ``idp-certificate-authority(-data)`` is the CA for talking to the issuer (data wins);
* one provider object per (API server, issuer, client id) in the process, so every
  client built from the same kubeconfig user shares one refreshed token;
* a 401 does not trigger a refresh (client-go does not either: the token's own expiry
  decides).

Refreshed tokens are kept in memory only; they are not written back to the kubeconfig
(kubectl does that). Errors name the kubeconfig field and never contain a token, a
secret or the issuer's raw answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import ssl
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote_plus

import httpx

from .errors import ConfigError
from .text import header_value_problem, terminal_safe
from .tls import PemInput, create_ssl_context

ISSUER_URL = "idp-issuer-url"
CLIENT_ID = "client-id"
CLIENT_SECRET = "client-secret"
CERTIFICATE_AUTHORITY = "idp-certificate-authority"
CERTIFICATE_AUTHORITY_DATA = "idp-certificate-authority-data"
ID_TOKEN = "id-token"
REFRESH_TOKEN = "refresh-token"

EXPIRY_MARGIN = 10.0
"""Seconds before ``exp`` at which an ID token already counts as expired (client-go's)."""

ISSUER_TIMEOUT = 30.0
MAX_ISSUER_RESPONSE = 1024 * 1024


@dataclass(frozen=True)
class OIDCConfig:
    """A validated ``auth-provider`` ``config`` map of an ``oidc`` user."""

    issuer_url: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    id_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    ca: PemInput | None = None
    file: str | None = None
    field: str | None = None

    @classmethod
    def from_kubeconfig(
        cls, config: Mapping[str, str], *, file: str | None, field: str
    ) -> OIDCConfig:
        """Check the required keys and header safety; nothing is fetched yet."""

        def error(message: str, key: str) -> ConfigError:
            return ConfigError(message, file=file, field=f"{field}.{key}")

        for key in (ISSUER_URL, CLIENT_ID):
            if not config.get(key):
                raise error(f"the oidc auth-provider needs {key}", key)
        for key in (ID_TOKEN, REFRESH_TOKEN):
            problem = header_value_problem(config.get(key) or "")
            if problem is not None:
                raise error(f"{key} {problem}", key)
        ca: PemInput | None = None
        if config.get(CERTIFICATE_AUTHORITY_DATA):
            try:
                data = base64.b64decode(config[CERTIFICATE_AUTHORITY_DATA], validate=True)
            except (binascii.Error, ValueError):
                raise error(
                    f"{CERTIFICATE_AUTHORITY_DATA} is not valid base64", CERTIFICATE_AUTHORITY_DATA
                ) from None
            ca = PemInput(
                data=data, origin_file=file, origin_field=f"{field}.{CERTIFICATE_AUTHORITY_DATA}"
            )
        elif config.get(CERTIFICATE_AUTHORITY):
            # client-go resolves this path against the working directory, not the
            # kubeconfig's folder; we do the same.
            ca = PemInput(
                path=config[CERTIFICATE_AUTHORITY],
                origin_file=file,
                origin_field=f"{field}.{CERTIFICATE_AUTHORITY}",
            )
        return cls(
            issuer_url=config[ISSUER_URL],
            client_id=config[CLIENT_ID],
            client_secret=config.get(CLIENT_SECRET) or "",
            id_token=config.get(ID_TOKEN) or "",
            refresh_token=config.get(REFRESH_TOKEN) or "",
            ca=ca,
            file=file,
            field=field,
        )


def id_token_expired(token: str, now: float) -> bool:
    """Whether ``token`` (a JWT) expires within :data:`EXPIRY_MARGIN` of ``now``.

    Raises ValueError for something that is not a JWT with a JSON payload; a missing or
    non-numeric ``exp`` counts as expired (Go decodes it as the zero time).
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("the id-token is not a JWT (three dot-separated parts)")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("the id-token's payload is not base64url-encoded JSON") from None
    if not isinstance(claims, dict):
        raise ValueError("the id-token's payload is not a JSON object")
    expiry = claims.get("exp")
    if isinstance(expiry, bool) or not isinstance(expiry, int | float):
        return True
    return now + EXPIRY_MARGIN >= int(expiry)


class OIDCAuth(httpx.Auth):
    """Bearer auth with an OIDC ID token, refreshed through the issuer when expired.

    The refresh is a blocking HTTP exchange with the issuer; async clients run it in a
    worker thread. A lock makes concurrent requests share one refresh.
    """

    def __init__(
        self,
        config: OIDCConfig,
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._transport = transport
        self._lock = threading.Lock()
        self._id_token = config.id_token
        self._refresh_token = config.refresh_token
        self._params_style = False  # learned: the issuer wants client credentials in the body

    def __repr__(self) -> str:
        return (
            f"OIDCAuth(issuer={self.config.issuer_url!r}, client_id={self.config.client_id!r}, "
            "tokens=<hidden>)"
        )

    @property
    def refresh_token(self) -> str:
        """The current refresh token (rotated by the issuer on refresh); for write-back."""
        return self._refresh_token

    def token(self) -> str:
        """A usable ID token: the current one, or a freshly refreshed one."""
        with self._lock:
            if self._id_token:
                try:
                    expired = id_token_expired(self._id_token, self._clock())
                except ValueError as exc:
                    raise self._error(str(exc), ID_TOKEN) from None
                if not expired:
                    return self._id_token
            if not self._refresh_token:
                raise self._error(
                    "the id-token is missing or expired and there is no refresh-token to "
                    "get a new one (log in again, e.g. with kubelogin)",
                    REFRESH_TOKEN if self._id_token else ID_TOKEN,
                )
            self._id_token, self._refresh_token = self._refresh()
            return self._id_token

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await asyncio.to_thread(self.token)}"
        yield request

    # -- talking to the issuer ---------------------------------------------------------

    def _error(self, message: str, key: str | None = None) -> ConfigError:
        where = f"{self.config.field}.{key}" if key else self.config.field
        return ConfigError(message, file=self.config.file, field=where)

    def _client(self) -> httpx.Client:
        verify: ssl.SSLContext = create_ssl_context(ca=self.config.ca)
        return httpx.Client(
            verify=verify,
            timeout=ISSUER_TIMEOUT,
            follow_redirects=False,
            transport=self._transport,
            trust_env=True,
        )

    def _refresh(self) -> tuple[str, str]:
        issuer = self.config.issuer_url
        with self._client() as client:
            endpoint = self._token_endpoint(client, issuer)
            answer = self._token_request(client, endpoint)
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise self._error(
                'the issuer\'s token response has no id_token: either the scope "openid" '
                "was not requested at login, or the provider does not return ID tokens on "
                "refresh",
                REFRESH_TOKEN,
            )
        problem = header_value_problem(id_token)
        if problem is not None:
            raise self._error(f"the id_token returned by the issuer {problem}", REFRESH_TOKEN)
        rotated = answer.get("refresh_token")
        refresh = rotated if isinstance(rotated, str) and rotated else self._refresh_token
        return id_token, refresh

    def _exchange(
        self, client: httpx.Client, what: str, request: httpx.Request
    ) -> tuple[int, object]:
        """Send ``request``; the status and the JSON answer (None if not JSON), read
        within :data:`MAX_ISSUER_RESPONSE` bytes."""
        try:
            response = client.send(request, stream=True)
            try:
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_ISSUER_RESPONSE:
                        raise self._error(
                            f"the OIDC issuer's {what} answer is larger than "
                            f"{MAX_ISSUER_RESPONSE} bytes",
                            ISSUER_URL,
                        )
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise self._error(
                # httpx's text names the failure (refused, certificate verify failed);
                # requests carry secrets only in bodies and headers, never in its text.
                f"cannot reach the OIDC issuer for its {what}: {type(exc).__name__}: "
                f"{str(exc)[:300]}",
                ISSUER_URL,
            ) from None
        try:
            document: object = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            document = None
        return response.status_code, document

    def _token_endpoint(self, client: httpx.Client, issuer: str) -> str:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise self._error(f"{ISSUER_URL} is not a valid URL: {exc}", ISSUER_URL) from None
        request = client.build_request("GET", url, headers={"Accept": "application/json"})
        status, document = self._exchange(client, "discovery document", request)
        if status != 200:
            raise self._error(
                f"the OIDC issuer's discovery document answered HTTP {status}", ISSUER_URL
            )
        endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
        if not isinstance(endpoint, str) or not endpoint:
            raise self._error(
                "the OIDC issuer's discovery document has no token_endpoint", ISSUER_URL
            )
        try:
            httpx.URL(endpoint)
        except httpx.InvalidURL:
            raise self._error(
                "the issuer's token_endpoint is not a valid URL", ISSUER_URL
            ) from None
        return endpoint

    def _token_request(self, client: httpx.Client, endpoint: str) -> dict[str, object]:
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        styles = [True, False] if not self._params_style else [False]
        status, document = 0, None
        for in_header in styles:
            request = self._token_http_request(client, endpoint, form, in_header)
            status, document = self._exchange(client, "token endpoint", request)
            if 200 <= status < 300:
                self._params_style = not in_header
                break
        if not 200 <= status < 300 or not isinstance(document, dict):
            raise self._error(
                f"refreshing the id-token failed: the issuer answered HTTP {status}"
                f"{_oauth_error(document)}",
                REFRESH_TOKEN,
            )
        if not document.get("access_token"):
            raise self._error(
                "refreshing the id-token failed: the issuer's answer has no access_token",
                REFRESH_TOKEN,
            )
        return document

    def _token_http_request(
        self, client: httpx.Client, endpoint: str, form: dict[str, str], in_header: bool
    ) -> httpx.Request:
        data = dict(form)
        headers = {"Accept": "application/json"}
        config = self.config
        if in_header:
            # RFC 6749 2.3.1: both parts form-urlencoded before basic-auth encoding.
            pair = f"{quote_plus(config.client_id)}:{quote_plus(config.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            data["client_id"] = config.client_id
            if config.client_secret:
                data["client_secret"] = config.client_secret
        return client.build_request("POST", endpoint, data=data, headers=headers)


def _oauth_error(document: object) -> str:
    """The RFC 6749 ``error`` code of a failed token request (short, escaped)."""
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        return f" ({terminal_safe(document['error'])[:100]})"
    return ""


_PROVIDERS: dict[tuple[str, str, str], OIDCAuth] = {}
_PROVIDERS_LOCK = threading.Lock()


def shared_oidc_auth(server: str, config: OIDCConfig) -> OIDCAuth:
    """The process-wide provider for (server, issuer, client id), created on first use,
    so all clients of one kubeconfig user share refreshed tokens (as in client-go)."""
    key = (server, config.issuer_url, config.client_id)
    with _PROVIDERS_LOCK:
        auth = _PROVIDERS.get(key)
        if auth is None:
            auth = _PROVIDERS[key] = OIDCAuth(config)
        return auth
