"""The oidc auth-provider against a small OpenID Connect issuer the tests run on loopback.

The issuer serves a discovery document and a token endpoint and records every request,
so the tests check what the client sends to the issuer (refresh grant, client
credentials) and what it then sends to the API server (the ID token as bearer). The test
cluster does not trust an OIDC issuer, so the API server side is checked on the request
the runtime's own httpx client builds.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubecodegen_runtime.config import ConfigError, Kubeconfig, OIDCAuth, OIDCConfig
from kubecodegen_runtime.config.oidc import id_token_expired
from tests.unit.test_kubeconfig import kubeconfig_doc, write


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT with ``claims`` (the client never checks signatures)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def token_expiring_in(seconds: float, **claims: Any) -> str:
    return jwt({"iss": "test", "exp": int(time.time() + seconds), **claims})


# -- a tiny issuer -----------------------------------------------------------------------------


@dataclass
class Issuer:
    """Issuer state and the requests it saw (path, headers, form)."""

    url: str = ""
    requests: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    discovery_status: int = 200
    with_token_endpoint: bool = True
    accept_basic_auth: bool = True
    id_token: str | None = None
    rotate_refresh_token: str | None = None
    delay: float = 0.0
    reject_grant: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token_requests(self) -> list[tuple[str, dict[str, str], dict[str, str]]]:
        return [r for r in self.requests if r[0] == "/token"]


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            with issuer.lock:
                issuer.requests.append((self.path, dict(self.headers), {}))
            if self.path != "/.well-known/openid-configuration":
                self._reply(404, {})
                return
            document: dict[str, Any] = {"issuer": issuer.url}
            if issuer.with_token_endpoint:
                document["token_endpoint"] = issuer.url + "/token"
            self._reply(issuer.discovery_status, document)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            with issuer.lock:
                issuer.requests.append((self.path, dict(self.headers), form))
            time.sleep(issuer.delay)
            in_header = "Authorization" in self.headers
            if in_header and not issuer.accept_basic_auth:
                self._reply(401, {"error": "invalid_client"})
                return
            if issuer.reject_grant or form.get("grant_type") != "refresh_token":
                self._reply(400, {"error": "invalid_grant"})
                return
            answer: dict[str, Any] = {"access_token": "opaque-access", "token_type": "Bearer"}
            if issuer.id_token is not None:
                answer["id_token"] = issuer.id_token
            if issuer.rotate_refresh_token:
                answer["refresh_token"] = issuer.rotate_refresh_token
            self._reply(200, answer)

    return Handler


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    state = Issuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


def oidc_user(issuer: Issuer, **config: str) -> dict[str, Any]:
    return {
        "auth-provider": {
            "name": "oidc",
            "config": {"idp-issuer-url": issuer.url, "client-id": "kube", **config},
        }
    }


def auth_for(issuer: Issuer, **config: str) -> OIDCAuth:
    settings = {"idp-issuer-url": issuer.url, "client-id": "kube", **config}
    return OIDCAuth(
        OIDCConfig.from_kubeconfig(settings, file="kc", field="users[0].user.auth-provider.config")
    )


def bearer(auth: httpx.Auth) -> str:
    request = httpx.Request("GET", "https://127.0.0.1:6443/api")
    return str(next(auth.sync_auth_flow(request)).headers["Authorization"])


# -- expiry --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "expired"),
    [
        ({"exp": 2_000_000_000}, False),
        ({"exp": 1_000_000_000}, True),
        ({"exp": 1_500_000_005}, True),  # within the 10 s margin of "now"
        ({"exp": 1_500_000_011.5}, False),  # float exp, truncated as in Go
        ({}, True),  # no exp: Go's zero time
        ({"exp": "soon"}, True),
    ],
)
def test_id_token_expiry(claims: dict[str, Any], expired: bool) -> None:
    assert id_token_expired(jwt(claims), now=1_500_000_000) is expired


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b", "a.!!!.c", "a." + base64.urlsafe_b64encode(b"[1]").decode() + ".c"],
)
def test_id_token_that_is_not_a_jwt(token: str) -> None:
    with pytest.raises(ValueError):
        id_token_expired(token, now=0)


# -- behaviour against the issuer ------------------------------------------------------------


def test_valid_id_token_is_sent_without_asking_the_issuer(issuer: Issuer) -> None:
    token = token_expiring_in(3600)
    assert (
        bearer(auth_for(issuer, **{"id-token": token, "refresh-token": "r1"})) == f"Bearer {token}"
    )
    assert issuer.requests == []


def test_expired_id_token_is_refreshed_through_discovery(issuer: Issuer) -> None:
    fresh = token_expiring_in(3600, sub="fresh")
    issuer.id_token = fresh
    issuer.rotate_refresh_token = "r2"
    auth = auth_for(
        issuer,
        **{"id-token": token_expiring_in(-60), "refresh-token": "r1", "client-secret": "s3cr et"},
    )
    assert bearer(auth) == f"Bearer {fresh}"
    paths = [path for path, _, _ in issuer.requests]
    assert paths == ["/.well-known/openid-configuration", "/token"]
    _, headers, form = issuer.token_requests()[0]
    assert form == {"grant_type": "refresh_token", "refresh_token": "r1"}
    # Client credentials in a basic-auth header, form-encoded first (RFC 6749 2.3.1).
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"kube:s3cr+et").decode()
    assert auth.refresh_token == "r2"
    # Still valid: no further traffic.
    assert bearer(auth) == f"Bearer {fresh}"
    assert len(issuer.requests) == 2


def test_rotated_refresh_token_is_used_next_time(issuer: Issuer) -> None:
    issuer.id_token = token_expiring_in(-60)  # the issuer hands out already-expired tokens
    issuer.rotate_refresh_token = "r2"
    auth = auth_for(issuer, **{"refresh-token": "r1"})
    bearer(auth)
    bearer(auth)
    assert [form["refresh_token"] for _, _, form in issuer.token_requests()] == ["r1", "r2"]


def test_issuer_that_wants_credentials_in_the_body(issuer: Issuer) -> None:
    issuer.accept_basic_auth = False
    issuer.id_token = token_expiring_in(-60)
    auth = auth_for(issuer, **{"refresh-token": "r1", "client-secret": "sec"})
    bearer(auth)
    first, second = issuer.token_requests()
    assert "Authorization" in first[1]
    assert "Authorization" not in second[1]
    assert second[2] == {
        "grant_type": "refresh_token",
        "refresh_token": "r1",
        "client_id": "kube",
        "client_secret": "sec",
    }
    bearer(auth)  # the style is remembered: straight to the body
    assert "Authorization" not in issuer.token_requests()[2][1]


SECRETS = {
    "id-token": token_expiring_in(-60),
    "refresh-token": "SECRET-refresh",
    "client-secret": "SECRET-client",
}


def refresh_error(auth: OIDCAuth) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        bearer(auth)
    rendered = f"{info.value}{info.value!r}"
    for secret in SECRETS.values():
        assert secret not in rendered
    return info.value


def test_expired_without_refresh_token(issuer: Issuer) -> None:
    error = refresh_error(auth_for(issuer, **{"id-token": SECRETS["id-token"]}))
    assert "no refresh-token" in error.message
    assert error.field == "users[0].user.auth-provider.config.refresh-token"
    assert issuer.requests == []


def test_answer_without_id_token(issuer: Issuer) -> None:
    error = refresh_error(auth_for(issuer, **SECRETS))
    assert 'has no id_token: either the scope "openid"' in error.message


def test_discovery_failures(issuer: Issuer) -> None:
    issuer.with_token_endpoint = False
    assert "has no token_endpoint" in refresh_error(auth_for(issuer, **SECRETS)).message
    issuer.discovery_status = 500
    assert "answered HTTP 500" in refresh_error(auth_for(issuer, **SECRETS)).message


def test_refused_refresh_names_the_oauth_error(issuer: Issuer) -> None:
    issuer.reject_grant = True
    error = refresh_error(auth_for(issuer, **SECRETS))
    assert "answered HTTP 400 (invalid_grant)" in error.message
    assert len(issuer.token_requests()) == 2  # header style, then body style


def test_unreachable_issuer(tmp_path: Path) -> None:
    settings = {"idp-issuer-url": "http://127.0.0.1:9", "client-id": "kube", **SECRETS}
    auth = OIDCAuth(OIDCConfig.from_kubeconfig(settings, file="kc", field="f"))
    assert "cannot reach the OIDC issuer" in refresh_error(auth).message


def test_not_a_jwt_id_token_is_an_error(issuer: Issuer) -> None:
    error = refresh_error(auth_for(issuer, **{"id-token": "SECRET-opaque", "refresh-token": "r"}))
    assert "not a JWT" in error.message


def test_concurrent_requests_share_one_refresh(issuer: Issuer) -> None:
    issuer.id_token = token_expiring_in(3600)
    issuer.delay = 0.3
    auth = auth_for(issuer, **{"refresh-token": "r1"})
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(bearer(auth))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 5 and len(set(results)) == 1
    assert len(issuer.token_requests()) == 1


async def test_async_flow_refreshes_off_the_event_loop(issuer: Issuer) -> None:
    fresh = token_expiring_in(3600)
    issuer.id_token = fresh
    auth = auth_for(issuer, **{"refresh-token": "r1"})
    request = httpx.Request("GET", "https://127.0.0.1:6443/api")
    flow = auth.async_auth_flow(request)
    sent = await flow.__anext__()
    assert sent.headers["Authorization"] == f"Bearer {fresh}"


# -- from a kubeconfig -------------------------------------------------------------------------


def test_kubeconfig_oidc_user_shares_one_provider(issuer: Issuer, tmp_path: Path) -> None:
    fresh = token_expiring_in(3600)
    issuer.id_token = fresh
    path = write(tmp_path / "c", kubeconfig_doc(user=oidc_user(issuer, **{"refresh-token": "r1"})))
    first = Kubeconfig.load(path).client_config().auth
    second = Kubeconfig.load(path).client_config().auth
    assert isinstance(first, OIDCAuth) and first is second  # client-go's provider cache
    assert bearer(first) == bearer(second) == f"Bearer {fresh}"
    assert len(issuer.token_requests()) == 1
    assert "r1" not in repr(first)


# -- an https issuer with its own CA -------------------------------------------------------------


def _issuer_tls(tmp_path: Path) -> tuple[bytes, ssl.SSLContext]:
    """A CA and a server context for 127.0.0.1 signed by it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oidc-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")]))
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    return ca.public_bytes(serialization.Encoding.PEM), context


def test_https_issuer_is_verified_with_idp_certificate_authority(tmp_path: Path) -> None:
    ca_pem, server_context = _issuer_tls(tmp_path)
    state = Issuer(id_token=token_expiring_in(3600))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    state.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        (tmp_path / "ca.crt").write_bytes(ca_pem)
        by_data = auth_for(
            state,
            **{
                "refresh-token": "r",
                "idp-certificate-authority-data": base64.b64encode(ca_pem).decode(),
            },
        )
        assert bearer(by_data) == f"Bearer {state.id_token}"
        by_file = auth_for(
            state, **{"refresh-token": "r", "idp-certificate-authority": str(tmp_path / "ca.crt")}
        )
        assert bearer(by_file) == f"Bearer {state.id_token}"
        untrusted = auth_for(state, **{"refresh-token": "r"})  # system roots do not know this CA
        with pytest.raises(ConfigError, match=r"cannot reach the OIDC issuer.*CERTIFICATE_VERIFY"):
            bearer(untrusted)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
