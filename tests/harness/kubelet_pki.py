"""The certificates between kube-apiserver and the test kubelet.

A real cluster's kubelet serves HTTPS with its own certificate and authenticates the API server by
its client certificate (``--kubelet-client-certificate``); the API server verifies the kubelet
against ``--kubelet-certificate-authority``. The harness does the same with a CA of its own for
this link, made before the API server starts (its flags name these files), so no
``--kubelet-insecure``-style shortcut hides a TLS mistake. The private keys stay in files of mode
0600 inside the cluster's folder and never appear in a repr.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kubecodegen_runtime.envtest.kubeconfig import write_private

from .pki import CertificateAuthority

#: The user kube-apiserver presents to the kubelet (what kubeadm calls it).
APISERVER_CLIENT_USER = "kube-apiserver-kubelet-client"


class KubeletPKI:
    """A kubelet CA, the API server's client certificate for it, and kubelet serving certs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._ca = CertificateAuthority("kubecodegen-test-kubelet-ca")
        write_private(self.ca_file, self._ca.cert_pem)
        client = self._ca.issue_client(APISERVER_CLIENT_USER, ["system:masters"])
        write_private(self.client_cert_file, client.cert_pem)
        write_private(self.client_key_file, client.key_pem)

    def __repr__(self) -> str:
        return f"KubeletPKI({str(self.directory)!r})"

    @property
    def ca_file(self) -> Path:
        return self.directory / "kubelet-ca.crt"

    @property
    def client_cert_file(self) -> Path:
        return self.directory / "apiserver-kubelet-client.crt"

    @property
    def client_key_file(self) -> Path:
        return self.directory / "apiserver-kubelet-client.key"

    def issue_serving(self, name: str, ip_addresses: Sequence[str]) -> tuple[Path, Path]:
        """Write a serving certificate for a kubelet reachable at ``ip_addresses``."""
        pair = self._ca.issue_serving(dns_names=["localhost", name], ip_addresses=ip_addresses)
        cert, key = self.directory / f"{name}.crt", self.directory / f"{name}.key"
        write_private(cert, pair.cert_pem)
        write_private(key, pair.key_pem)
        return cert, key
