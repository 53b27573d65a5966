"""An environment's own certificate authority, serving/client certificates and SA keys.

Each environment gets a fresh CA so that clients verify TLS exactly as against a real cluster (no
insecure-skip) and so that no certificate outlives its environment. Certificates carry the
extensions that strict verifiers (Python 3.13's VERIFY_X509_STRICT, Go) insist on: key
identifiers, key usage and extended key usage.

This is the only module of envtest that needs ``cryptography`` (the ``envtest`` extra of
kubecodegen-runtime); without it, importing this module says which extra to install.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the unit tests
    raise ImportError(
        "kubecodegen_runtime.envtest needs the 'cryptography' package for its certificates: "
        "pip install 'kubecodegen-runtime[envtest]'"
    ) from exc

_VALIDITY = datetime.timedelta(days=365)
#: Back-dated so a client whose clock is slightly behind still accepts a brand-new certificate.
_CLOCK_SKEW = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class PemPair:
    """A certificate and its private key, PEM encoded, ready to be written to files."""

    cert_pem: bytes
    key_pem: bytes

    def __repr__(self) -> str:
        return "PemPair(<certificate>, <private key hidden>)"


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


class CertificateAuthority:
    """A self-signed CA that issues the cluster's serving and client certificates."""

    def __init__(self, common_name: str = "kubecodegen-envtest-ca") -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(common_name)
        public = self._key.public_key()
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )

    def __repr__(self) -> str:
        return f"CertificateAuthority({self._cert.subject.rfc4514_string()!r})"

    @property
    def cert_pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def _issue(
        self,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        san: x509.SubjectAlternativeName | None,
    ) -> PemPair:
        now = datetime.datetime.now(datetime.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        return PemPair(cert.public_bytes(serialization.Encoding.PEM), _private_pem(key))

    def issue_serving(self, dns_names: Sequence[str], ip_addresses: Sequence[str]) -> PemPair:
        """A TLS server certificate valid for the given host names and IP addresses."""
        san = x509.SubjectAlternativeName(
            [x509.DNSName(name) for name in dns_names]
            + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
        )
        return self._issue(_name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, san)

    def issue_client(self, user: str, groups: Sequence[str] = ()) -> PemPair:
        """A client certificate: kube-apiserver reads the user from CN and groups from O."""
        return self._issue(_name(user, groups), ExtendedKeyUsageOID.CLIENT_AUTH, None)


def service_account_keys() -> PemPair:
    """An RSA key pair for signing service-account tokens (``cert_pem`` is the public key).

    RSA rather than EC because every JWT verifier (including older client libraries checking
    TokenRequest tokens) supports RS256.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return PemPair(public, _private_pem(key))
