"""An exec plugin that rotates its client certificate, through the runtime's RESTClient.

The first certificate is signed by a CA the server does not trust (401); the plugin is
rerun and returns a valid one. Keep-alive connections still present the first
certificate, so the transport must move to fresh connections and resend: the request
ends authenticated as the new certificate's user (403 from RBAC, naming that user).
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubecodegen_runtime.client import AsyncRESTClient, RESTClient
from kubecodegen_runtime.config import load_kubeconfig
from kubecodegen_runtime.errors import Forbidden
from tests.harness.cluster import TestCluster

PLUGIN = """\
#!{python}
import json, os, sys
with open(os.environ["COUNT_FILE"], "a") as handle:
    handle.write("run\\n")
with open(os.environ["COUNT_FILE"]) as handle:
    runs = len(handle.readlines())
pairs = json.loads(os.environ["CERTS"])
cert, key = pairs[min(runs, len(pairs)) - 1]
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
status = {{"clientCertificateData": open(cert).read(), "clientKeyData": open(key).read()}}
json.dump({{"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}}, sys.stdout)
"""


def _untrusted_pair(directory: Path) -> tuple[Path, Path]:
    """A client certificate from a self-signed CA the API server has never seen."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intruder")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "intruder.crt", directory / "intruder.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _kubeconfig(cluster: TestCluster, tmp_path: Path) -> Path:
    good = cluster.issue_client_certificate("kcg-rotated-user")
    bad = _untrusted_pair(tmp_path)
    plugin = tmp_path / "plugin"
    plugin.write_text(PLUGIN.format(python=sys.executable))
    plugin.chmod(0o755)
    exec_stanza = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": str(plugin),
        "interactiveMode": "Never",
        "env": [{"name": "COUNT_FILE", "value": str(tmp_path / "runs")},
                {"name": "CERTS", "value": json.dumps([[str(p) for p in bad], [str(p) for p in good]])}],
    }
    document = {
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": cluster.server,
                                               "certificate-authority": str(cluster.ca_file)}}],
        "users": [{"name": "u", "user": {"exec": exec_stanza}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "u"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    return path


def _runs(tmp_path: Path) -> int:
    return len((tmp_path / "runs").read_text().splitlines())


def test_rotated_exec_certificate_is_used_on_fresh_connections(cluster: TestCluster, tmp_path: Path) -> None:
    with RESTClient(load_kubeconfig(_kubeconfig(cluster, tmp_path))) as rest, \
            pytest.raises(Forbidden, match='User "kcg-rotated-user"'):
        rest.get("/api/v1/namespaces")
    assert _runs(tmp_path) == 2


async def test_rotated_exec_certificate_async(cluster: TestCluster, tmp_path: Path) -> None:
    async with AsyncRESTClient(load_kubeconfig(_kubeconfig(cluster, tmp_path))) as rest:
        with pytest.raises(Forbidden, match='User "kcg-rotated-user"'):
            await rest.get("/api/v1/namespaces")
    assert _runs(tmp_path) == 2
