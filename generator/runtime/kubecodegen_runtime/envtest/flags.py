"""Command lines for etcd and kube-apiserver, as pure functions of an environment's layout.

Kept apart from process handling so the flag choices (and their per-version differences) can be
read in one place and unit-tested without starting anything.

The kube-apiserver flags start from controller-runtime envtest's defaults (loopback
``--advertise-address``, ``--service-cluster-ip-range=10.0.0.0/24``, ``--allow-privileged``,
RBAC, service-account signing keys, secure serving with a client CA) with two deliberate
differences: the ``ServiceAccount`` admission plugin stays on (controller-runtime turns it off; we
create each namespace's ``default`` service account instead, so pods are admitted as on a real
cluster), and a static token file is always passed, so token users work next to certificate
users.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: Used only as flag values: no traffic to these addresses ever leaves loopback.
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc"


@dataclass(frozen=True)
class Layout:
    """Where one environment keeps its files and which loopback ports it listens on."""

    etcd_data: Path
    pki: Path
    tokens_csv: Path
    etcd_client_port: int
    etcd_peer_port: int
    apiserver_port: int

    @property
    def etcd_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.etcd_client_port}"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def ca_file(self) -> Path:
        return self.pki / "ca.crt"


def etcd_args(etcd: Path, layout: Layout) -> list[str]:
    """A single-member etcd on loopback; with an existing data dir it resumes that data."""
    peer = f"http://127.0.0.1:{layout.etcd_peer_port}"
    return [
        str(etcd),
        "--name=envtest",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={layout.etcd_endpoint}",
        f"--advertise-client-urls={layout.etcd_endpoint}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=envtest={peer}",
        "--initial-cluster-state=new",
        "--logger=zap",
        "--log-outputs=stderr",
    ]


def apiserver_args(
    apiserver: Path,
    version: tuple[int, int, int],
    layout: Layout,
    *,
    watch_cache: bool = True,
    extra: Sequence[str] = (),
) -> list[str]:
    """kube-apiserver serving TLS on loopback with token, x509 and service-account auth + RBAC.

    ``--endpoint-reconciler-type=none``: the ``kubernetes`` Service's endpoints would point at
    127.0.0.1, which Endpoints validation rejects, and the reconciler would log that forever.
    ``--insecure-port=0`` is passed only to versions that still know the flag (removed in 1.24).
    """
    pki = layout.pki
    args = [
        str(apiserver),
        f"--etcd-servers={layout.etcd_endpoint}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={layout.apiserver_port}",
        f"--cert-dir={pki}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={layout.ca_file}",
        f"--token-auth-file={layout.tokens_csv}",
        "--authorization-mode=RBAC",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        "--allow-privileged=true",
        "--endpoint-reconciler-type=none",
        f"--watch-cache={'true' if watch_cache else 'false'}",
    ]
    if version < (1, 24, 0):
        args.append("--insecure-port=0")
    args.extend(extra)
    return args
