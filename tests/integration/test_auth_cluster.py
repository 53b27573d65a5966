"""kubeconfig-derived ClientConfigs against the real kube-apiserver of the test harness.

Each test builds a plain ``httpx.Client(base_url=cfg.server, verify=cfg.verify,
auth=cfg.auth)`` from a ClientConfig, so what is exercised is exactly what the transport
gets: the SSLContext (CA, client certificate) and the httpx.Auth (token, token file, exec
plugin). Identity is checked through the API's own answers: a user without RBAC rights
gets a 403 whose message names the user the server authenticated.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import sys
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
    BearerTokenAuth,
    ClientConfig,
    ExecAuth,
    TokenFileAuth,
    load_kubeconfig,
)
from tests.harness.cluster import TestCluster

NAMESPACES = "/api/v1/namespaces"


def client(cfg: ClientConfig) -> httpx.Client:
    return httpx.Client(base_url=cfg.server, verify=cfg.verify, auth=cfg.auth, timeout=30)


def get(cfg: ClientConfig, path: str = NAMESPACES) -> httpx.Response:
    extensions = {"sni_hostname": cfg.tls_server_name} if cfg.tls_server_name else None
    with client(cfg) as http:
        return http.get(path, extensions=extensions)


def write_kubeconfig(
    path: Path,
    cluster: TestCluster,
    user: dict[str, Any],
    *,
    cluster_fields: dict[str, Any] | None = None,
) -> Path:
    fields = {"certificate-authority": str(cluster.ca_file)}
    if cluster_fields is not None:
        fields = cluster_fields
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {"server": cluster.server, **fields}}],
        "users": [{"name": "tester", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "tester"}}],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(document))
    return path


def ca_data(cluster: TestCluster) -> str:
    return base64.b64encode(cluster.ca_file.read_bytes()).decode()


# -- static credentials --------------------------------------------------------------------------


def test_token_auth_from_harness_kubeconfig(cluster: TestCluster) -> None:
    cfg = load_kubeconfig(cluster.admin_kubeconfig)
    assert isinstance(cfg.auth, BearerTokenAuth)
    assert get(cfg).status_code == 200


def test_wrong_token_is_rejected(cluster: TestCluster, tmp_path: Path) -> None:
    cfg = load_kubeconfig(
        write_kubeconfig(tmp_path / "kc", cluster, {"token": "not-a-valid-token"})
    )
    assert get(cfg).status_code == 401


def test_client_certificate_auth_from_files(cluster: TestCluster) -> None:
    cfg = load_kubeconfig(cluster.cert_kubeconfig)
    assert cfg.auth is None
    assert get(cfg).status_code == 200


def test_client_certificate_data_identifies_the_user(cluster: TestCluster, tmp_path: Path) -> None:
    cert, key = cluster.issue_client_certificate("kcg-inline-cert-user")
    user = {
        "client-certificate-data": base64.b64encode(cert.read_bytes()).decode(),
        "client-key-data": base64.b64encode(key.read_bytes()).decode(),
    }
    cfg = load_kubeconfig(
        write_kubeconfig(
            tmp_path / "kc",
            cluster,
            user,
            cluster_fields={"certificate-authority-data": ca_data(cluster)},
        )
    )
    response = get(cfg)
    assert response.status_code == 403  # authenticated, but no RBAC rights
    assert 'User "kcg-inline-cert-user"' in response.json()["message"]


def test_restricted_kubeconfig_namespace(cluster: TestCluster) -> None:
    cfg = load_kubeconfig(cluster.restricted_kubeconfig)
    assert cfg.namespace == cluster.restricted_namespace
    assert get(cfg).status_code == 403  # may not list namespaces
    assert get(cfg, f"{NAMESPACES}/{cfg.namespace}/configmaps").status_code == 200


def test_token_file_is_reread_after_401(cluster: TestCluster, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("x" * len(cluster.admin_token))
    cfg = load_kubeconfig(write_kubeconfig(tmp_path / "kc", cluster, {"tokenFile": "token"}))
    assert isinstance(cfg.auth, TokenFileAuth)
    with client(cfg) as http:
        assert http.get(NAMESPACES).status_code == 401
        # Rotate in place keeping inode, size and mtime, so only the 401 can reveal it.
        before = os.stat(token_file)
        with open(token_file, "r+") as handle:
            handle.write(cluster.admin_token)
        os.utime(token_file, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert http.get(NAMESPACES).status_code == 200


# -- exec plugins --------------------------------------------------------------------------------

PLUGIN = """\
#!{python}
import json, os, sys
with open(os.environ["COUNT_FILE"], "a") as handle:
    handle.write("run\\n")
with open(os.environ["COUNT_FILE"]) as handle:
    runs = len(handle.readlines())
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
tokens = json.loads(os.environ.get("TOKENS", "[]"))
status = {{}}
if tokens:
    status["token"] = tokens[min(runs, len(tokens)) - 1]
if os.environ.get("CERT_FILE"):
    status["clientCertificateData"] = open(os.environ["CERT_FILE"]).read()
    status["clientKeyData"] = open(os.environ["KEY_FILE"]).read()
if os.environ.get("EXPIRES"):
    status["expirationTimestamp"] = os.environ["EXPIRES"]
json.dump({{"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}}, sys.stdout)
"""


def exec_kubeconfig(
    cluster: TestCluster, tmp_path: Path, env: dict[str, str], api_version: str = "v1"
) -> ClientConfig:
    plugin = tmp_path / "bin" / "credential-plugin"
    plugin.parent.mkdir()
    plugin.write_text(PLUGIN.format(python=sys.executable))
    plugin.chmod(0o755)
    exec_stanza: dict[str, Any] = {
        "apiVersion": f"client.authentication.k8s.io/{api_version}",
        "command": "./bin/credential-plugin",  # relative to the kubeconfig's directory
        "env": [
            {"name": k, "value": v}
            for k, v in {"COUNT_FILE": str(tmp_path / "runs"), **env}.items()
        ],
        "provideClusterInfo": True,
    }
    if api_version == "v1":
        exec_stanza["interactiveMode"] = "Never"
    return load_kubeconfig(write_kubeconfig(tmp_path / "kc", cluster, {"exec": exec_stanza}))


def runs(tmp_path: Path) -> int:
    path = tmp_path / "runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def rfc3339(delta: datetime.timedelta) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + delta
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("api_version", ["v1", "v1beta1"])
def test_exec_plugin_token_is_cached(
    cluster: TestCluster, tmp_path: Path, api_version: str
) -> None:
    env = {
        "TOKENS": json.dumps([cluster.admin_token]),
        "EXPIRES": rfc3339(datetime.timedelta(hours=1)),
    }
    cfg = exec_kubeconfig(cluster, tmp_path, env, api_version)
    assert isinstance(cfg.auth, ExecAuth)
    with client(cfg) as http:
        assert [http.get(NAMESPACES).status_code for _ in range(3)] == [200, 200, 200]
    assert runs(tmp_path) == 1


async def test_exec_plugin_with_async_client_shares_the_cache(
    cluster: TestCluster, tmp_path: Path
) -> None:
    cfg = exec_kubeconfig(cluster, tmp_path, {"TOKENS": json.dumps([cluster.admin_token])})
    async with httpx.AsyncClient(
        base_url=cfg.server, verify=cfg.verify, auth=cfg.auth, timeout=30
    ) as http:
        assert (await http.get(NAMESPACES)).status_code == 200
        assert (await http.get(NAMESPACES)).status_code == 200
    assert get(cfg).status_code == 200
    assert runs(tmp_path) == 1


def test_exec_plugin_bad_token_then_good_reruns_on_401(
    cluster: TestCluster, tmp_path: Path
) -> None:
    env = {"TOKENS": json.dumps(["expired-or-revoked-token", cluster.admin_token])}
    cfg = exec_kubeconfig(cluster, tmp_path, env)
    assert get(cfg).status_code == 200  # 401 with the first token, rerun, retried
    assert runs(tmp_path) == 2
    assert get(cfg).status_code == 200
    assert runs(tmp_path) == 2  # the good token is cached


async def test_exec_plugin_rerun_on_401_async(cluster: TestCluster, tmp_path: Path) -> None:
    env = {"TOKENS": json.dumps(["expired-or-revoked-token", cluster.admin_token])}
    cfg = exec_kubeconfig(cluster, tmp_path, env)
    async with httpx.AsyncClient(
        base_url=cfg.server, verify=cfg.verify, auth=cfg.auth, timeout=30
    ) as http:
        assert (await http.get(NAMESPACES)).status_code == 200
    assert runs(tmp_path) == 2


def test_exec_plugin_expired_credential_is_not_reused(cluster: TestCluster, tmp_path: Path) -> None:
    env = {
        "TOKENS": json.dumps([cluster.admin_token]),
        "EXPIRES": rfc3339(-datetime.timedelta(minutes=1)),
    }
    cfg = exec_kubeconfig(cluster, tmp_path, env)
    with client(cfg) as http:
        assert [http.get(NAMESPACES).status_code for _ in range(2)] == [200, 200]
    assert runs(tmp_path) == 2


def test_exec_plugin_client_certificate(cluster: TestCluster, tmp_path: Path) -> None:
    cert, key = cluster.issue_client_certificate("kcg-exec-cert-user")
    cfg = exec_kubeconfig(cluster, tmp_path, {"CERT_FILE": str(cert), "KEY_FILE": str(key)})
    response = get(cfg)
    assert response.status_code == 403
    assert 'User "kcg-exec-cert-user"' in response.json()["message"]
    assert runs(tmp_path) == 1


# -- TLS -----------------------------------------------------------------------------------------


def other_ca_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not-the-cluster-ca")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_wrong_ca_fails_verification(cluster: TestCluster, tmp_path: Path) -> None:
    fields = {"certificate-authority-data": base64.b64encode(other_ca_pem()).decode()}
    cfg = load_kubeconfig(
        write_kubeconfig(
            tmp_path / "kc", cluster, {"token": cluster.admin_token}, cluster_fields=fields
        )
    )
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        get(cfg)


def test_no_ca_uses_system_roots_and_fails_for_a_private_ca(
    cluster: TestCluster, tmp_path: Path
) -> None:
    cfg = load_kubeconfig(
        write_kubeconfig(
            tmp_path / "kc", cluster, {"token": cluster.admin_token}, cluster_fields={}
        )
    )
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        get(cfg)


def test_insecure_skip_tls_verify_connects_without_the_ca(
    cluster: TestCluster, tmp_path: Path
) -> None:
    fields = {"insecure-skip-tls-verify": True}
    cfg = load_kubeconfig(
        write_kubeconfig(
            tmp_path / "kc", cluster, {"token": cluster.admin_token}, cluster_fields=fields
        )
    )
    assert get(cfg).status_code == 200


@pytest.mark.parametrize("name", ["localhost", "kubernetes.default"])
def test_tls_server_name_is_verified_instead_of_the_ip(
    cluster: TestCluster, tmp_path: Path, name: str
) -> None:
    assert cluster.server.startswith("https://127.0.0.1:")
    fields = {"certificate-authority": str(cluster.ca_file), "tls-server-name": name}
    cfg = load_kubeconfig(
        write_kubeconfig(
            tmp_path / "kc", cluster, {"token": cluster.admin_token}, cluster_fields=fields
        )
    )
    assert cfg.tls_server_name == name
    assert get(cfg).status_code == 200


def test_tls_server_name_not_in_the_certificate_fails(cluster: TestCluster, tmp_path: Path) -> None:
    fields = {
        "certificate-authority": str(cluster.ca_file),
        "tls-server-name": "not-the-apiserver.example",
    }
    cfg = load_kubeconfig(
        write_kubeconfig(
            tmp_path / "kc", cluster, {"token": cluster.admin_token}, cluster_fields=fields
        )
    )
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        get(cfg)


def test_plugin_sees_cluster_info(cluster: TestCluster, tmp_path: Path) -> None:
    """provideClusterInfo hands the plugin the server and CA it must trust."""
    cfg = exec_kubeconfig(cluster, tmp_path, {"TOKENS": json.dumps([cluster.admin_token])})
    assert isinstance(cfg.auth, ExecAuth)
    info = cfg.auth.plugin.config.cluster_info
    assert info is not None and info["server"] == cluster.server
    assert base64.b64decode(info["certificate-authority-data"]) == cluster.ca_file.read_bytes()
    assert cluster.admin_token not in repr(cfg) + repr(cfg.auth)
