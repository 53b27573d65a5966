"""kubeconfig loading, merging, resolution to ClientConfig, TLS context and the bad-input corpus."""

from __future__ import annotations

import base64
import datetime
import functools
import logging
import os
import re
import ssl
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubecodegen_runtime.config import (
    BasicAuth,
    BearerTokenAuth,
    ConfigError,
    ExecAuth,
    Kubeconfig,
    PemInput,
    TokenFileAuth,
    create_ssl_context,
    incluster,
    load_config,
    load_kubeconfig,
    tls,
)
from kubecodegen_runtime.config.kubeconfig_schema import KUBECONFIG_SCHEMA, validate

CORPUS = Path(__file__).parent / "kubeconfig_corpus"


# -- test PKI ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """A CA, a client certificate it signed, and keys, all PEM."""

    ca_pem: bytes
    ca_key_pem: bytes
    client_cert_pem: bytes
    client_key_pem: bytes
    other_key_pem: bytes
    encrypted_key_pem: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@functools.cache
def make_pki() -> Pki:
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("kubecodegen-test-ca"))
        .issuer_name(_name("kubecodegen-test-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        x509.CertificateBuilder()
        .subject_name(_name("test-user"))
        .issuer_name(ca.subject)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    return Pki(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM),
        ca_key_pem=_pem_key(ca_key),
        client_cert_pem=client.public_bytes(serialization.Encoding.PEM),
        client_key_pem=_pem_key(client_key),
        other_key_pem=_pem_key(ec.generate_private_key(ec.SECP256R1())),
        encrypted_key_pem=_pem_key(client_key, b"passphrase"),
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig_doc(
    *,
    server: str = "https://127.0.0.1:6443",
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    current: str | None = "c",
    namespace: str | None = None,
    name: str = "c",
) -> dict[str, Any]:
    context: dict[str, Any] = {"cluster": "k", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "k", "cluster": {"server": server, **(cluster or {})}}],
        "users": [{"name": "u", "user": user or {"token": "t0ken"}}],
        "contexts": [{"name": name, "context": context}],
    }
    if current:
        doc["current-context"] = current
    return doc


def write(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


# -- loading and merging -------------------------------------------------------------------------


def test_explicit_path_resolves_context_cluster_user_and_namespace(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config", kubeconfig_doc(namespace="team-a", server="https://h.example:6443/")
    )
    cfg = load_kubeconfig(path)
    assert cfg.server == "https://h.example:6443"
    assert cfg.namespace == "team-a"
    assert isinstance(cfg.auth, BearerTokenAuth)
    assert cfg.verify.verify_mode == ssl.CERT_REQUIRED and cfg.verify.check_hostname


def test_namespace_defaults_to_default_and_overrides_win(tmp_path: Path) -> None:
    path = write(tmp_path / "config", kubeconfig_doc())
    assert load_kubeconfig(path).namespace == "default"
    assert load_kubeconfig(path, namespace="other").namespace == "other"


def test_explicit_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_kubeconfig(tmp_path / "nope")
    assert info.value.file == str(tmp_path / "nope")
    assert "does not exist" in info.value.message


def test_kubeconfig_env_merges_first_wins_and_skips_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = kubeconfig_doc(current=None, server="https://first.example")
    first["users"] = [{"name": "u", "user": {"username": "alice", "password": "pw"}}]
    second = kubeconfig_doc(current="c", server="https://second.example")
    second["clusters"].append(
        {"name": "only-second", "cluster": {"server": "https://only.example"}}
    )
    second["contexts"].append({"name": "c2", "context": {"cluster": "only-second", "user": "u"}})
    third = kubeconfig_doc(current="c2")
    a, b, c = (
        write(tmp_path / "a" / "cfg", first),
        write(tmp_path / "b" / "cfg", second),
        write(tmp_path / "c" / "cfg", third),
    )
    missing = tmp_path / "missing"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(missing), str(a), "", str(b), str(c)]))

    loaded = Kubeconfig.load()
    assert loaded.files == (str(a), str(b), str(c))
    assert loaded.current_context == "c"  # first file that sets it (b), not c's "c2"
    assert set(loaded.contexts) == {"c", "c2"}
    assert loaded.clusters == ("k", "only-second")

    cfg = loaded.client_config()
    assert cfg.server == "https://first.example"  # cluster "k" from the first file
    assert isinstance(cfg.auth, BasicAuth)  # user "u" from the first file
    assert loaded.client_config(context="c2").server == "https://only.example"


def test_kubeconfig_env_with_only_missing_files_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "x") + os.pathsep + str(tmp_path / "y"))
    with pytest.raises(ConfigError, match=r"none of the files in \$KUBECONFIG exist"):
        load_kubeconfig()


def test_home_kube_config_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="no kubeconfig found at"):
        load_kubeconfig()
    write(tmp_path / ".kube" / "config", kubeconfig_doc(server="https://home.example"))
    assert load_kubeconfig().server == "https://home.example"


def test_relative_paths_resolve_against_the_defining_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = make_pki()
    (tmp_path / "one" / "pki").mkdir(parents=True)
    (tmp_path / "one" / "pki" / "ca.crt").write_bytes(pki.ca_pem)
    (tmp_path / "two" / "secrets").mkdir(parents=True)
    (tmp_path / "two" / "secrets" / "token").write_text("file-token\n")
    clusters_file = kubeconfig_doc(cluster={"certificate-authority": "pki/ca.crt"})
    del clusters_file["users"]
    users_file = {"users": [{"name": "u", "user": {"tokenFile": "secrets/token"}}]}
    a = write(tmp_path / "one" / "config", clusters_file)
    b = write(tmp_path / "two" / "config", users_file)
    monkeypatch.chdir(tmp_path)  # relative paths must not depend on the working directory
    cfg = load_kubeconfig([a, b])
    assert isinstance(cfg.auth, TokenFileAuth)
    assert cfg.auth.path == str(tmp_path / "two" / "secrets" / "token")
    assert cfg.auth.token() == "file-token"
    assert [c["subject"] for c in cfg.verify.get_ca_certs()] == [
        ((("commonName", "kubecodegen-test-ca"),),)
    ]


def test_overrides_select_cluster_and_user(tmp_path: Path) -> None:
    doc = kubeconfig_doc()
    doc["clusters"].append({"name": "k2", "cluster": {"server": "https://k2.example"}})
    doc["users"].append({"name": "basic", "user": {"username": "bob", "password": "pw"}})
    path = write(tmp_path / "config", doc)
    cfg = load_kubeconfig(path, cluster="k2", user="basic")
    assert cfg.server == "https://k2.example"
    assert isinstance(cfg.auth, BasicAuth)
    with pytest.raises(ConfigError, match="cluster 'k3' is not defined"):
        load_kubeconfig(path, cluster="k3")


def test_context_listing_for_tooling(tmp_path: Path) -> None:
    doc = kubeconfig_doc(namespace="ns1")
    doc["contexts"].append({"name": "bare", "context": {"cluster": "k"}})
    loaded = Kubeconfig.load(write(tmp_path / "config", doc))
    assert loaded.current_context == "c"
    info = loaded.contexts["c"]
    assert (info.cluster, info.user, info.namespace, info.file) == (
        "k",
        "u",
        "ns1",
        str(tmp_path / "config"),
    )
    assert loaded.contexts["bare"].user is None
    assert loaded.users == ("u",)
    assert "t0ken" not in repr(loaded)


def test_context_without_user_is_anonymous(tmp_path: Path) -> None:
    doc = kubeconfig_doc()
    doc["contexts"] = [{"name": "c", "context": {"cluster": "k"}}]
    assert load_kubeconfig(write(tmp_path / "config", doc)).auth is None


def test_null_sections_and_fields_count_as_unset(tmp_path: Path) -> None:
    doc = kubeconfig_doc()
    doc["preferences"] = {}
    doc["extensions"] = None
    doc["users"][0]["user"] = {"token": "t", "tokenFile": None, "exec": None}
    text = yaml.safe_dump(doc) + "users2: null\n"
    assert isinstance(Kubeconfig.from_text(text).client_config().auth, BearerTokenAuth)


def test_unquoted_date_like_names_stay_strings() -> None:
    doc = kubeconfig_doc(name="2024-01-01", current="2024-01-01")
    text = yaml.safe_dump(doc).replace("'2024-01-01'", "2024-01-01")
    assert "2024-01-01" in Kubeconfig.from_text(text).contexts


def test_duplicate_names_across_files_first_wins(tmp_path: Path) -> None:
    a = write(tmp_path / "a", kubeconfig_doc(server="https://a.example"))
    b = write(tmp_path / "b", kubeconfig_doc(server="https://b.example"))
    assert load_kubeconfig([b, a]).server == "https://b.example"


def _bearer_header(auth: Any) -> str:
    request = httpx.Request("GET", "https://127.0.0.1:6443/api")
    flow = auth.sync_auth_flow(request)
    return str(next(flow).headers["Authorization"])


def test_token_file_wins_over_token_and_token_is_the_fallback(tmp_path: Path) -> None:
    """client-go: with token and tokenFile, the file's token is sent; the inline one only
    while the file cannot be read."""
    path = write(
        tmp_path / "config", kubeconfig_doc(user={"token": "inline", "tokenFile": "tok"})
    )
    (tmp_path / "tok").write_text("from-file\n")
    auth = load_kubeconfig(path).auth
    assert isinstance(auth, TokenFileAuth)
    assert _bearer_header(auth) == "Bearer from-file"
    (tmp_path / "tok").unlink()
    auth = load_kubeconfig(path).auth
    assert _bearer_header(auth) == "Bearer inline"
    (tmp_path / "tok").write_text("appeared")
    assert isinstance(auth, TokenFileAuth) and _bearer_header(auth) == "Bearer appeared"


def test_auth_kinds(tmp_path: Path) -> None:
    exec_user = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "plugin"}
    }
    cfg = load_kubeconfig(write(tmp_path / "e", kubeconfig_doc(user=exec_user)))
    assert isinstance(cfg.auth, ExecAuth)
    assert cfg.auth.plugin.config.interactive_mode == "IfAvailable"  # v1beta1 default
    assert cfg.auth.plugin.config.command == "plugin"  # bare names stay for PATH lookup

    relative_exec = {"exec": {**exec_user["exec"], "command": "./bin/plugin"}}
    cfg = load_kubeconfig(write(tmp_path / "sub" / "e", kubeconfig_doc(user=relative_exec)))
    assert isinstance(cfg.auth, ExecAuth)
    assert cfg.auth.plugin.config.command == str(tmp_path / "sub" / "bin" / "plugin")


def test_tls_server_name_and_proxy_are_passed_through(tmp_path: Path) -> None:
    cluster = {"tls-server-name": "kubernetes.default", "proxy-url": "http://proxy:3128"}
    cfg = load_kubeconfig(write(tmp_path / "config", kubeconfig_doc(cluster=cluster)))
    assert cfg.tls_server_name == "kubernetes.default"
    assert cfg.proxy == "http://proxy:3128"


def test_exec_provide_cluster_info_includes_ca_and_extension_config(tmp_path: Path) -> None:
    pki = make_pki()
    cluster = {
        "certificate-authority-data": b64(pki.ca_pem),
        "tls-server-name": "api",
        "extensions": [
            {"name": "client.authentication.k8s.io/exec", "extension": {"audience": "kube"}},
            {"name": "other", "extension": {"x": 1}},
        ],
    }
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "plugin",
            "interactiveMode": "Never",
            "provideClusterInfo": True,
        }
    }
    cfg = load_kubeconfig(write(tmp_path / "config", kubeconfig_doc(cluster=cluster, user=user)))
    assert isinstance(cfg.auth, ExecAuth)
    info = cfg.auth.plugin.config.cluster_info
    assert info is not None
    assert info["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(info["certificate-authority-data"]) == pki.ca_pem
    assert info["tls-server-name"] == "api"
    assert info["config"] == {"audience": "kube"}


# -- TLS -----------------------------------------------------------------------------------------


def test_ca_data_is_loaded_in_memory_and_replaces_system_roots(tmp_path: Path) -> None:
    pki = make_pki()
    cfg = load_kubeconfig(
        write(
            tmp_path / "config",
            kubeconfig_doc(cluster={"certificate-authority-data": b64(pki.ca_pem)}),
        )
    )
    assert len(cfg.verify.get_ca_certs()) == 1
    assert cfg.verify.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_no_ca_uses_system_trust_store(tmp_path: Path) -> None:
    cfg = load_kubeconfig(write(tmp_path / "config", kubeconfig_doc()))
    default = ssl.create_default_context()
    assert cfg.verify.cert_store_stats() == default.cert_store_stats()
    assert cfg.verify.verify_mode == ssl.CERT_REQUIRED


def test_insecure_skip_tls_verify_disables_checks_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "config", kubeconfig_doc(cluster={"insecure-skip-tls-verify": True}))
    with caplog.at_level(logging.WARNING):
        cfg = load_kubeconfig(path)
    assert cfg.verify.verify_mode == ssl.CERT_NONE
    assert not cfg.verify.check_hostname
    assert any("verification is disabled" in r.getMessage() for r in caplog.records)


def test_client_certificate_data_goes_through_a_private_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = make_pki()
    seen: list[tuple[str, int, int]] = []
    original = tls._load_chain

    def spy(context: ssl.SSLContext, cert_path: str, key_path: str, cert: PemInput) -> None:
        directory = os.path.dirname(key_path)
        seen.append(
            (
                directory,
                stat.S_IMODE(os.stat(directory).st_mode),
                stat.S_IMODE(os.stat(key_path).st_mode),
            )
        )
        original(context, cert_path, key_path, cert)

    monkeypatch.setattr(tls, "_load_chain", spy)
    user = {
        "client-certificate-data": b64(pki.client_cert_pem),
        "client-key-data": b64(pki.client_key_pem),
    }
    cfg = load_kubeconfig(write(tmp_path / "config", kubeconfig_doc(user=user)))
    assert cfg.auth is None
    [(directory, dir_mode, key_mode)] = seen
    assert (dir_mode, key_mode) == (0o700, 0o600)
    assert not os.path.exists(directory)  # removed right after loading


def test_temp_key_files_are_removed_even_when_loading_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pki = make_pki()
    created: list[str] = []
    original_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(**kwargs: Any) -> str:
        created.append(original_mkdtemp(**kwargs))
        return created[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    with pytest.raises(ConfigError, match="cannot be loaded: KEY_VALUES_MISMATCH"):
        create_ssl_context(
            client_cert=PemInput(
                data=pki.client_cert_pem, origin_field="users[0].user.client-certificate-data"
            ),
            client_key=PemInput(data=pki.other_key_pem),
        )
    assert created and not os.path.exists(created[0])


def test_client_certificate_files_and_encrypted_keys(tmp_path: Path) -> None:
    pki = make_pki()
    (tmp_path / "c.crt").write_bytes(pki.client_cert_pem)
    (tmp_path / "c.key").write_bytes(pki.client_key_pem)
    (tmp_path / "enc.key").write_bytes(pki.encrypted_key_pem)
    ok = kubeconfig_doc(user={"client-certificate": "c.crt", "client-key": "c.key"})
    assert load_kubeconfig(write(tmp_path / "ok", ok)).auth is None
    encrypted = kubeconfig_doc(user={"client-certificate": "c.crt", "client-key": "enc.key"})
    with pytest.raises(ConfigError, match="encrypted with a passphrase") as info:
        load_kubeconfig(write(tmp_path / "enc", encrypted))
    assert info.value.field == "users[0].user.client-certificate"


# -- in-cluster and load_config ------------------------------------------------------------------


@pytest.fixture
def service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "sa"
    directory.mkdir()
    (directory / "token").write_text("sa-token")
    (directory / "ca.crt").write_bytes(make_pki().ca_pem)
    (directory / "namespace").write_text("kube-apps\n")
    monkeypatch.setattr(incluster, "TOKEN_PATH", str(directory / "token"))
    monkeypatch.setattr(incluster, "CA_PATH", str(directory / "ca.crt"))
    monkeypatch.setattr(incluster, "NAMESPACE_PATH", str(directory / "namespace"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return directory


def test_in_cluster_config(service_account: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = incluster.load_incluster_config()
    assert cfg.server == "https://10.0.0.1:443"
    assert cfg.namespace == "kube-apps"
    assert isinstance(cfg.auth, TokenFileAuth) and cfg.auth.token() == "sa-token"
    assert len(cfg.verify.get_ca_certs()) == 1
    monkeypatch.setenv("POD_NAMESPACE", "from-env")
    assert incluster.load_incluster_config().namespace == "from-env"
    assert incluster.load_incluster_config(namespace="explicit").namespace == "explicit"
    env = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"}
    assert incluster.load_incluster_config(environ=env).server == "https://[fd00::1]:6443"
    with pytest.raises(ConfigError, match="not running inside a cluster"):
        incluster.load_incluster_config(environ={})


def test_in_cluster_missing_files(service_account: Path) -> None:
    (service_account / "namespace").unlink()
    assert incluster.load_incluster_config().namespace == "default"
    (service_account / "ca.crt").unlink()
    with pytest.raises(ConfigError, match=re.escape(f"{service_account / 'ca.crt'}: No such file")):
        incluster.load_incluster_config()
    (service_account / "token").unlink()
    with pytest.raises(ConfigError, match="cannot read token file"):
        incluster.load_incluster_config()


def test_load_config_prefers_kubeconfig_then_in_cluster(
    service_account: Path, tmp_path: Path
) -> None:
    assert load_config().server == "https://10.0.0.1:443"  # no kubeconfig anywhere
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        load_config(context="some-context")  # only a kubeconfig has contexts
    write(tmp_path / "home" / ".kube" / "config", kubeconfig_doc(server="https://kc.example"))
    assert load_config().server == "https://kc.example"


def test_load_config_without_anything_explains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="not running inside a cluster"):
        load_config()


# -- schema validator ----------------------------------------------------------------------------


def test_validator_reports_paths_types_and_unknown_fields() -> None:
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "array", "items": {"type": "integer"}}},
        "additionalProperties": False,
    }
    assert validate({"a": [1, True, "x"], "b": 1, 3: 4}, schema) == [
        ("a[1]", "expected an integer, got a boolean"),
        ("a[2]", "expected an integer, got a string"),
        ("b", "unknown field"),
        ("", "keys must be strings, found an integer key"),
    ]
    assert validate({}, schema) == [("a", "required field is missing")]
    assert validate({"a": None}, schema) == [("a", "required field is missing")]
    typed_extra = {"type": "object", "additionalProperties": {"type": "string"}}
    assert validate({"x.y": 1}, typed_extra) == [("['x.y']", "expected a string, got an integer")]
    assert validate({"k": ["v"]}, KUBECONFIG_SCHEMA) == []  # unknown top-level fields are allowed


def test_every_type_error_is_reported_by_load(tmp_path: Path) -> None:
    doc = kubeconfig_doc(cluster={"insecure-skip-tls-verify": "no"}, user={"token": ["a"]})
    with pytest.raises(ConfigError) as info:
        load_kubeconfig(write(tmp_path / "config", doc))
    assert info.value.field == "clusters[0].cluster.insecure-skip-tls-verify"
    assert "and 1 more problem(s)" in info.value.message


# -- bad-input corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusCase:
    path: Path
    field: str | None
    message: str
    context: str | None


def _corpus() -> list[CorpusCase]:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        header = dict(re.findall(r"^# ([a-z-]+): (.*)$", path.read_text(), re.MULTILINE))
        field = header["expect-field"]
        message = header["expect-message"].replace("{dir}", str(CORPUS))
        cases.append(
            CorpusCase(path, None if field == "-" else field, message, header.get("context"))
        )
    return cases


CASES = _corpus()
SECRET = re.compile(r"SECRET-[A-Za-z0-9-]+")


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.path.stem for c in CASES])
def test_corpus_case_fails_with_located_message(case: CorpusCase) -> None:
    with pytest.raises(ConfigError) as info:
        Kubeconfig.load(case.path).client_config(context=case.context)
    error = info.value
    assert case.message in error.message
    assert error.field == case.field
    if case.context is None:  # override errors are about the request, not a file location
        assert error.file == str(case.path)
        assert str(error).startswith(f"{case.path}: ")
    if case.field:
        assert f": {case.field}: " in str(error)


@pytest.mark.parametrize("case", CASES, ids=[c.path.stem for c in CASES])
def test_corpus_errors_never_contain_secrets(case: CorpusCase) -> None:
    text = case.path.read_text()
    secrets = set(SECRET.findall(text))
    # Values of credential fields, whatever they look like (e.g. an integer token).
    for key in ("token", "password", "client-key-data", "access-token"):
        secrets.update(
            v.strip("'\"") for v in re.findall(rf"^\s*{key}: (\S+)\s*$", text, re.MULTILINE)
        )
    secrets = {s for s in secrets if len(s) >= 6}  # longer than any word of a message
    with pytest.raises(ConfigError) as info:
        Kubeconfig.load(case.path).client_config(context=case.context)
    rendered = f"{info.value}\n{info.value!r}\n{info.value.message}"
    for secret in secrets:
        assert secret not in rendered


def test_corpus_covers_secret_bearing_cases() -> None:
    """The secrets test above is only meaningful if the corpus actually holds secrets."""
    with_secrets = [c for c in CASES if SECRET.search(c.path.read_text())]
    assert len(with_secrets) >= 8


def test_secret_values_never_leak_from_runtime_errors(tmp_path: Path) -> None:
    pki = make_pki()
    (tmp_path / "token").write_text("")
    key_text = pki.client_key_pem.decode()
    attempts: list[dict[str, Any]] = [
        {
            "client-certificate-data": b64(pki.client_cert_pem),
            "client-key-data": b64(pki.other_key_pem),
        },
        {
            "client-certificate-data": b64(b"garbage SECRET-in-cert"),
            "client-key-data": b64(pki.client_key_pem),
        },
        {"tokenFile": "token"},
        {"token": "SECRET-tok", "exec": {"apiVersion": "x", "command": "y"}},
        {"username": "u", "password": "SECRET-pw", "token": "SECRET-tok"},
    ]
    for user in attempts:
        with pytest.raises(ConfigError) as info:
            load_kubeconfig(write(tmp_path / "config", kubeconfig_doc(user=user)))
        rendered = str(info.value)
        assert "SECRET" not in rendered
        assert key_text.splitlines()[1] not in rendered
        assert b64(pki.client_key_pem)[:40] not in rendered
