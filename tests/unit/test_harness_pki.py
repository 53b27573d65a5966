"""Unit tests for the harness PKI and kubeconfig writer (no cluster needed)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

from tests.harness.kubeconfig import write_kubeconfig
from tests.harness.pki import CertificateAuthority, service_account_keys


def test_serving_certificate_verifies_for_loopback_names_only() -> None:
    ca = CertificateAuthority()
    pair = ca.issue_serving(["localhost"], ["127.0.0.1"])
    leaf = x509.load_pem_x509_certificate(pair.cert_pem)
    store = Store([x509.load_pem_x509_certificate(ca.cert_pem)])
    builder = PolicyBuilder().store(store)
    for name in (x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))):
        chain = builder.build_server_verifier(name).verify(leaf, [])
        assert chain[0] == leaf
    with pytest.raises(x509.verification.VerificationError):
        builder.build_server_verifier(x509.DNSName("example.com")).verify(leaf, [])


def test_serving_certificate_is_not_trusted_by_another_ca() -> None:
    leaf = x509.load_pem_x509_certificate(
        CertificateAuthority().issue_serving(["localhost"], []).cert_pem
    )
    other = Store([x509.load_pem_x509_certificate(CertificateAuthority().cert_pem)])
    verifier = PolicyBuilder().store(other).build_server_verifier(x509.DNSName("localhost"))
    with pytest.raises(x509.verification.VerificationError):
        verifier.verify(leaf, [])


def test_client_certificate_carries_user_and_groups() -> None:
    ca = CertificateAuthority()
    pair = ca.issue_client("alice", ["system:masters", "devs"])
    cert = x509.load_pem_x509_certificate(pair.cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    groups = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert groups == ["system:masters", "devs"]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    key = serialization.load_pem_private_key(pair.key_pem, password=None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]


def test_keys_stay_out_of_reprs() -> None:
    pair = service_account_keys()
    assert b"PRIVATE KEY" in pair.key_pem
    assert b"PUBLIC KEY" in pair.cert_pem
    assert "PRIVATE" not in repr(pair)
    assert pair.key_pem.decode() not in repr(pair)


def test_token_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    ca = tmp_path / "ca.crt"
    write_kubeconfig(
        path, server="https://127.0.0.1:1", ca_file=ca, user="u", token="s3cret", namespace="ns"
    )
    config = yaml.safe_load(path.read_text())
    assert path.stat().st_mode & 0o777 == 0o600
    assert config["clusters"][0]["cluster"] == {
        "server": "https://127.0.0.1:1",
        "certificate-authority": str(ca),
    }
    assert config["users"][0] == {"name": "u", "user": {"token": "s3cret"}}
    assert config["contexts"][0]["context"]["namespace"] == "ns"
    assert config["current-context"] == config["contexts"][0]["name"]


def test_certificate_kubeconfig(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    write_kubeconfig(
        path,
        server="https://127.0.0.1:1",
        ca_file=tmp_path / "ca",
        user="u",
        client_cert=tmp_path / "c",
        client_key=tmp_path / "k",
    )
    user = yaml.safe_load(path.read_text())["users"][0]["user"]
    assert user == {"client-certificate": str(tmp_path / "c"), "client-key": str(tmp_path / "k")}


def test_kubeconfig_needs_exactly_one_credential(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one of token or client_cert"):
        write_kubeconfig(tmp_path / "kc", server="https://x", ca_file=tmp_path, user="u")
    with pytest.raises(ValueError, match="client_cert and client_key go together"):
        write_kubeconfig(
            tmp_path / "kc",
            server="https://x",
            ca_file=tmp_path,
            user="u",
            client_cert=tmp_path / "c",
        )
