"""kubeconfig semantics that follow client-go's clientcmd exactly (issue 8, section 2 and 5).

Each test names the client-go rule it pins down; the real-server counterparts are in
tests/integration/test_impersonation_cluster.py.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubecodegen_runtime.config import (
    BasicAuth,
    BearerTokenAuth,
    ClientConfig,
    ConfigError,
    ConfigOverrides,
    ExecAuth,
    Impersonation,
    Kubeconfig,
    OIDCAuth,
    TokenFileAuth,
    load_config,
    load_kubeconfig,
)
from kubecodegen_runtime.config.impersonation import escape_extra_key
from kubecodegen_runtime.config.server_url import ServerURLError, default_server_url
from kubecodegen_runtime.config.text import header_value_problem, terminal_safe
from kubecodegen_runtime.transport import build_client
from tests.unit.test_kubeconfig import b64, kubeconfig_doc, make_pki, write

EXEC_V1 = {
    "apiVersion": "client.authentication.k8s.io/v1",
    "command": "some-plugin",
    "interactiveMode": "Never",
}


def sent_headers(cfg: ClientConfig) -> httpx.Headers:
    """The headers a request built by the runtime's own httpx client carries, after auth."""
    with build_client(cfg) as client:
        request = client.build_request("GET", "/api")
        if cfg.auth is not None:
            request = next(cfg.auth.sync_auth_flow(request))
        return request.headers


# -- credential precedence -------------------------------------------------------------------


def test_token_with_exec_is_accepted_and_the_token_wins(tmp_path: Path) -> None:
    cfg = load_kubeconfig(
        write(tmp_path / "c", kubeconfig_doc(user={"token": "t0k", "exec": EXEC_V1}))
    )
    assert isinstance(cfg.auth, BearerTokenAuth)
    assert sent_headers(cfg)["Authorization"] == "Bearer t0k"


def test_basic_auth_with_exec_uses_basic_auth(tmp_path: Path) -> None:
    user = {"username": "u", "password": "p", "exec": EXEC_V1}
    cfg = load_kubeconfig(write(tmp_path / "c", kubeconfig_doc(user=user)))
    assert isinstance(cfg.auth, BasicAuth)


def test_static_client_certificate_disables_the_exec_plugin(tmp_path: Path) -> None:
    pki = make_pki()
    user = {
        "client-certificate-data": b64(pki.client_cert_pem),
        "client-key-data": b64(pki.client_key_pem),
        "exec": EXEC_V1,
    }
    cluster = {"certificate-authority-data": b64(pki.ca_pem)}
    cfg = load_kubeconfig(write(tmp_path / "c", kubeconfig_doc(user=user, cluster=cluster)))
    assert cfg.auth is None


def test_exec_alone_is_used(tmp_path: Path) -> None:
    cfg = load_kubeconfig(write(tmp_path / "c", kubeconfig_doc(user={"exec": EXEC_V1})))
    assert isinstance(cfg.auth, ExecAuth)


@pytest.mark.parametrize(
    "user",
    [
        {"token": "t", "username": "u"},
        {"token": "t", "password": "p"},
        {"tokenFile": "f", "username": "u", "password": "p"},
    ],
)
def test_token_and_basic_auth_conflict(tmp_path: Path, user: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="more than one authentication method"):
        load_kubeconfig(write(tmp_path / "c", kubeconfig_doc(user=user)))


def test_token_beats_oidc_and_oidc_is_used_alone(tmp_path: Path) -> None:
    provider = {
        "name": "oidc",
        "config": {"idp-issuer-url": "https://issuer.example", "client-id": "kube"},
    }
    both = load_kubeconfig(
        write(tmp_path / "a", kubeconfig_doc(user={"token": "t", "auth-provider": provider}))
    )
    assert isinstance(both.auth, BearerTokenAuth)
    alone = load_kubeconfig(write(tmp_path / "b", kubeconfig_doc(user={"auth-provider": provider})))
    assert isinstance(alone.auth, OIDCAuth)


# -- validation only of what the context uses ------------------------------------------------


def test_incomplete_unused_users_do_not_break_loading(tmp_path: Path) -> None:
    doc = kubeconfig_doc(user={"token": "t"})
    doc["users"] += [
        {"name": "broken-exec", "user": {"exec": {"args": ["only-args"]}}},
        {"name": "broken-env", "user": {"exec": {**EXEC_V1, "env": [{"value": "v"}]}}},
        {"name": "broken-provider", "user": {"auth-provider": {"config": {}}}},
        {"name": "conflict", "user": {"token": "t", "username": "u"}},
        {"name": "groups-only", "user": {"as-groups": ["g"]}},
    ]
    config = Kubeconfig.load(write(tmp_path / "c", doc))
    assert isinstance(config.client_config().auth, BearerTokenAuth)
    with pytest.raises(ConfigError, match="command must be specified") as info:
        config.client_config(user="broken-exec")
    assert info.value.field == "users[1].user.exec.command"


def test_wrong_types_are_still_reported_in_unused_entries(tmp_path: Path) -> None:
    """Go's decoder fails on a type error anywhere; only semantic checks are deferred."""
    doc = kubeconfig_doc()
    doc["users"].append({"name": "typo", "user": {"exec": {"args": "not-a-list"}}})
    with pytest.raises(ConfigError, match="expected a list") as info:
        Kubeconfig.load(write(tmp_path / "c", doc))
    assert info.value.field == "users[1].user.exec.args"


# -- server URL ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "default_tls", "expected"),
    [
        ("https://h:6443", False, "https://h:6443"),
        ("http://h:8080/", True, "http://h:8080"),
        ("https://h/prefix/", False, "https://h/prefix"),
        ("h:6443", False, "http://h:6443"),
        ("h:6443", True, "https://h:6443"),
        ("h", False, "http://h"),
        ("10.0.0.1:6443", True, "https://10.0.0.1:6443"),
        ("[::1]:6443", True, "https://[::1]:6443"),
    ],
)
def test_default_server_url(server: str, default_tls: bool, expected: str) -> None:
    assert default_server_url(server, default_tls=default_tls) == expected


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ("", "host must be a URL or a host:port pair"),
        ("h:6443/api", "no path without a scheme"),
        ("ftp://h", "the scheme must be http or https"),
        ("https://h:99999", "not a valid URL"),
        ("https://h\x1bx", "Invalid non-printable ASCII character"),
        ("https://a\u200b.example", "Invalid IDNA hostname"),
    ],
)
def test_default_server_url_rejects(server: str, message: str) -> None:
    with pytest.raises(ServerURLError, match=message):
        default_server_url(server, default_tls=True)


def test_scheme_less_server_is_http_even_with_a_ca_and_credentials_stay_home(
    tmp_path: Path,
) -> None:
    """clientcmd asks "is this TLS?" before merging the CA, so host:port is http://, and
    over http it sends no credentials (impersonation headers still go)."""
    pki = make_pki()
    doc = kubeconfig_doc(
        server="127.0.0.1:6443",
        cluster={"certificate-authority-data": b64(pki.ca_pem)},
        user={"token": "t0k", "as": "someone"},
    )
    cfg = load_kubeconfig(write(tmp_path / "c", doc))
    assert cfg.server == "http://127.0.0.1:6443"
    assert cfg.auth is None
    headers = sent_headers(cfg)
    assert "Authorization" not in headers
    assert headers["Impersonate-User"] == "someone"


def test_explicit_http_server_sends_no_credentials(tmp_path: Path) -> None:
    doc = kubeconfig_doc(server="http://127.0.0.1:8001", user={"token": "t0k"})
    assert load_kubeconfig(write(tmp_path / "c", doc)).auth is None


# -- impersonation ---------------------------------------------------------------------------


def test_kubeconfig_impersonation_becomes_headers(tmp_path: Path) -> None:
    user = {
        "token": "t",
        "as": "jane",
        "as-uid": "1234",
        "as-groups": ["devs", "ops"],
        "as-user-extra": {"scopes": ["view", "edit"], "example.com/team": ["a"]},
    }
    cfg = load_kubeconfig(write(tmp_path / "c", kubeconfig_doc(user=user)))
    assert cfg.impersonate == Impersonation.of(
        "jane",
        uid="1234",
        groups=["devs", "ops"],
        extra={"scopes": ["view", "edit"], "example.com/team": ["a"]},
    )
    headers = sent_headers(cfg)
    assert headers["Impersonate-User"] == "jane"
    assert headers["Impersonate-Uid"] == "1234"
    assert headers.get_list("Impersonate-Group") == ["devs", "ops"]
    assert headers.get_list("Impersonate-Extra-scopes") == ["view", "edit"]
    assert headers.get_list("Impersonate-Extra-example.com%2Fteam") == ["a"]
    assert headers["Authorization"] == "Bearer t"


def test_impersonation_is_hashable_and_compares_by_value() -> None:
    one = Impersonation.of("a", groups=["g"], extra={"k": ["v"]})
    assert one == Impersonation.of("a", groups=("g",), extra={"k": ("v",)})
    assert hash(one) == hash(Impersonation.of("a", groups=["g"], extra={"k": ["v"]}))
    hash(ClientConfig(server="https://h", verify=ssl.create_default_context(), impersonate=one))


def test_no_impersonation_no_headers(tmp_path: Path) -> None:
    cfg = load_kubeconfig(write(tmp_path / "c", kubeconfig_doc()))
    assert cfg.impersonate is None
    assert not [key for key in sent_headers(cfg) if key.lower().startswith("impersonate")]


@pytest.mark.parametrize(
    ("key", "escaped"),
    [
        ("scopes", "scopes"),
        ("example.com/scopes", "example.com%2Fscopes"),
        ("100%", "100%25"),
        ("a b:c", "a%20b%3Ac"),
        ("ümlaut", "%C3%BCmlaut"),
        ("!#$&'*+-.^_`|~", "!#$&'*+-.^_`|~"),
    ],
)
def test_extra_keys_are_escaped_like_client_go(key: str, escaped: str) -> None:
    assert escape_extra_key(key) == escaped


def test_client_config_rejects_impersonation_values_that_are_not_header_safe() -> None:
    with pytest.raises(ConfigError, match="impersonation value contains a line break") as info:
        ClientConfig(
            server="https://h",
            verify=ssl.create_default_context(),
            impersonate=Impersonation.of("x", groups=["ok", "bad\r\nX-Evil: 1"]),
        )
    assert "X-Evil" not in str(info.value)
    assert info.value.field == "ClientConfig.impersonate.groups[1]"


# -- overrides -------------------------------------------------------------------------------


def test_overrides_replace_server_and_clear_tls_server_name(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c",
        kubeconfig_doc(cluster={"tls-server-name": "kubernetes.default"}),
    )
    config = Kubeconfig.load(path)
    assert config.client_config().tls_server_name == "kubernetes.default"
    cfg = config.client_config(overrides=ConfigOverrides(server="https://other:6443"))
    assert cfg.server == "https://other:6443" and cfg.tls_server_name is None
    cfg = config.client_config(
        overrides=ConfigOverrides(server="https://other:6443", tls_server_name="api.other")
    )
    assert cfg.tls_server_name == "api.other"


def test_insecure_override_clears_the_kubeconfig_ca(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pki = make_pki()
    path = write(
        tmp_path / "c", kubeconfig_doc(cluster={"certificate-authority-data": b64(pki.ca_pem)})
    )
    with caplog.at_level(logging.WARNING):
        cfg = Kubeconfig.load(path).client_config(
            overrides=ConfigOverrides(insecure_skip_tls_verify=True)
        )
    assert cfg.verify.verify_mode.name == "CERT_NONE"


def test_ca_override_replaces_ca_data_and_insecure(tmp_path: Path) -> None:
    pki = make_pki()
    (tmp_path / "ca.crt").write_bytes(pki.ca_pem)
    path = write(tmp_path / "c", kubeconfig_doc(cluster={"insecure-skip-tls-verify": True}))
    cfg = Kubeconfig.load(path).client_config(
        overrides=ConfigOverrides(certificate_authority=str(tmp_path / "ca.crt"))
    )
    assert cfg.verify.verify_mode.name == "CERT_REQUIRED"
    assert len(cfg.verify.get_ca_certs()) == 1
    data = Kubeconfig.load(path).client_config(
        overrides=ConfigOverrides(certificate_authority_data=pki.ca_pem)
    )
    assert len(data.verify.get_ca_certs()) == 1


def test_credential_overrides(tmp_path: Path) -> None:
    pki = make_pki()
    (tmp_path / "crt").write_bytes(pki.client_cert_pem)
    (tmp_path / "key").write_bytes(pki.client_key_pem)
    path = write(tmp_path / "c", kubeconfig_doc(user={"exec": EXEC_V1}))
    config = Kubeconfig.load(path)
    token = config.client_config(overrides=ConfigOverrides(token="flag-token"))
    assert sent_headers(token)["Authorization"] == "Bearer flag-token"
    basic = config.client_config(overrides=ConfigOverrides(username="u", password="p"))
    assert isinstance(basic.auth, BasicAuth)
    # Cert files override inline data (both file and data are replaced).
    inline = write(
        tmp_path / "d",
        kubeconfig_doc(
            user={
                "client-certificate-data": b64(b"not used"),
                "client-key-data": b64(b"not used"),
            }
        ),
    )
    cert = Kubeconfig.load(inline).client_config(
        overrides=ConfigOverrides(
            client_certificate=str(tmp_path / "crt"), client_key=str(tmp_path / "key")
        )
    )
    assert cert.auth is None  # authenticated by the certificate
    with pytest.raises(ConfigError, match="more than one authentication method"):
        config.client_config(overrides=ConfigOverrides(token="t", username="u"))


def test_namespace_and_timeout_overrides(tmp_path: Path) -> None:
    path = write(tmp_path / "c", kubeconfig_doc(namespace="team"))
    cfg = Kubeconfig.load(path).client_config(overrides=ConfigOverrides(namespace="x", timeout=5))
    assert cfg.namespace == "x" and cfg.timeout == 5
    assert (
        Kubeconfig.load(path)
        .client_config(namespace="kw", overrides=ConfigOverrides(namespace="x"))
        .namespace
        == "kw"
    )


def test_errors_about_overridden_fields_name_the_override(tmp_path: Path) -> None:
    path = write(tmp_path / "c", kubeconfig_doc())
    with pytest.raises(ConfigError) as info:
        Kubeconfig.load(path).client_config(overrides=ConfigOverrides(server="ftp://x"))
    assert info.value.field == "overrides.server" and info.value.file is None
    with pytest.raises(ConfigError) as info:
        Kubeconfig.load(path).client_config(overrides=ConfigOverrides(token="a\nb"))
    assert info.value.field == "overrides.token"


def test_server_override_works_without_any_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cfg = load_config(overrides=ConfigOverrides(server="https://h:6443", token="t"))
    assert cfg.server == "https://h:6443" and sent_headers(cfg)["Authorization"] == "Bearer t"
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        load_config()


# -- terminal and header safety --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("plain text, ünïcode ✓", "plain text, ünïcode ✓"),
        ("line\nbreak\ttab\r", "line\nbreak\ttab\r"),
        ("\x1b]0;pwned\x07title", "U+001B]0;pwnedU+0007title"),
        ("bidi \u202e override", "bidi U+202E override"),
        ("zero\u200bwidth", "zeroU+200Bwidth"),
        ("\x00\x7f\x9b", "U+0000U+007FU+009B"),
    ],
)
def test_terminal_safe_escapes_like_clean_ansi_escape_codes(text: str, safe: str) -> None:
    assert terminal_safe(text) == safe


def test_install_hint_and_every_message_are_terminal_safe(tmp_path: Path) -> None:
    hint = "Install it:\n\x1b[2J\x1b]0;owned\x07 brew install x"
    user = {"exec": {**EXEC_V1, "command": "kcg-no-such-plugin", "installHint": hint}}
    cfg = load_kubeconfig(write(tmp_path / "c", kubeconfig_doc(user=user)))
    assert isinstance(cfg.auth, ExecAuth)
    assert (
        cfg.auth.plugin.config.install_hint
        == "Install it:\nU+001B[2JU+001B]0;ownedU+0007 brew install x"
    )
    with pytest.raises(ConfigError) as info:
        cfg.auth.plugin.credential()
    assert "\x1b" not in str(info.value) and "U+001B[2J" in str(info.value)
    # Names from the file quoted in a message are escaped as well.
    doc = kubeconfig_doc()
    doc["contexts"][0]["context"]["cluster"] = "evil\x1b[31m"
    with pytest.raises(ConfigError) as info:
        load_kubeconfig(write(tmp_path / "d", doc))
    assert "\x1b" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc.DEF-123_~+/=", None),
        ("with\ttab", None),
        ("a\nb", "contains a line break (CR or LF)"),
        ("a\rb", "contains a line break (CR or LF)"),
        ("a\x00b", "contains a control character"),
        ("a\x7fb", "contains a control character"),
        ("josé", "contains a non-ASCII character"),
    ],
)
def test_header_value_problem(value: str, problem: str | None) -> None:
    assert header_value_problem(value) == problem


def test_bad_token_file_content_is_refused_without_showing_it(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("SECRET-first-line\nX-Injected: yes\n")
    with pytest.raises(ConfigError, match="contains a line break") as info:
        load_kubeconfig(write(tmp_path / "c", kubeconfig_doc(user={"tokenFile": "tok"})))
    assert "SECRET" not in str(info.value) and "Injected" not in str(info.value)


def test_bearer_token_auth_refuses_a_token_with_a_newline() -> None:
    with pytest.raises(ConfigError, match="contains a line break") as info:
        BearerTokenAuth("SECRET-a\r\nb")
    assert "SECRET" not in str(info.value)


def test_rotated_token_file_with_a_newline_keeps_the_previous_token(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("good")
    auth = TokenFileAuth(tmp_path / "tok")
    (tmp_path / "tok").write_text("SECRET-bad\nX: y")
    assert auth.reload() == "good"


def test_no_secret_in_debug_logs_of_a_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A full request through the runtime's client at DEBUG (httpx, httpcore, ours)
    logs no credential, and a token with a newline is refused before anything is sent
    or logged. The server is a socket that answers 401 and closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def answer() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        connection.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    bad = kubeconfig_doc(user={"token": "SECRET-newline\nX-Injected: 1"})
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ConfigError):
            load_kubeconfig(write(tmp_path / "c", bad))
        cfg = ClientConfig(
            server=f"http://127.0.0.1:{port}",
            verify=ssl.create_default_context(),
            auth=BearerTokenAuth("SECRET-debug-token"),
            impersonate=Impersonation.of("x"),
        )
        with build_client(cfg) as client:
            assert client.get("/api").status_code == 401
    thread.join(5)
    listener.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "SECRET" not in logged
    assert logged  # DEBUG logging really happened


def test_client_config_refuses_an_unusable_server_or_user_agent() -> None:
    context = ssl.create_default_context()
    with pytest.raises(ConfigError, match="not a usable URL") as info:
        ClientConfig(server="https://bad\x1bhost", verify=context)
    assert info.value.field == "ClientConfig.server" and "\x1b" not in str(info.value)
    with pytest.raises(ConfigError, match="user agent contains a line break"):
        ClientConfig(server="https://h", verify=context, user_agent="me\r\nX: y")


def test_in_cluster_takes_token_ca_and_namespace_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """clientcmd's in-cluster config honours only token, CA file (and namespace) overrides;
    a server override selects the kubeconfig path instead."""
    from kubecodegen_runtime.config import incluster

    pki = make_pki()
    directory = tmp_path / "sa"
    directory.mkdir()
    (directory / "token").write_text("sa-token")
    (directory / "ca.crt").write_bytes(pki.ca_pem)
    (tmp_path / "other-ca.crt").write_bytes(make_pki.__wrapped__().ca_pem)
    monkeypatch.setattr(incluster, "TOKEN_PATH", str(directory / "token"))
    monkeypatch.setattr(incluster, "CA_PATH", str(directory / "ca.crt"))
    monkeypatch.setattr(incluster, "NAMESPACE_PATH", str(directory / "namespace"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    plain = load_config()
    assert sent_headers(plain)["Authorization"] == "Bearer sa-token"
    flags = ConfigOverrides(
        token="flag-token", certificate_authority=str(tmp_path / "other-ca.crt"), namespace="ns"
    )
    cfg = load_config(overrides=flags)
    assert cfg.server == "https://10.0.0.1:443" and cfg.namespace == "ns"
    assert sent_headers(cfg)["Authorization"] == "Bearer flag-token"
    assert cfg.verify.get_ca_certs() != plain.verify.get_ca_certs()
    assert load_config(overrides=ConfigOverrides(server="https://elsewhere")).server == (
        "https://elsewhere"
    )
