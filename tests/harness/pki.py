"""The test clusters' PKI is the runtime envtest's (`kubecodegen_runtime.envtest.pki`)."""

from kubecodegen_runtime.envtest.pki import CertificateAuthority, PemPair, service_account_keys

__all__ = ["CertificateAuthority", "PemPair", "service_account_keys"]
