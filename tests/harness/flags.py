"""Command lines for etcd and kube-apiserver, as pure functions of the cluster's layout.

Kept apart from process handling so the flag choices (and their per-version differences) can be
read in one place and unit-tested without starting anything.
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
    """Where one cluster keeps its files and which loopback ports it listens on."""

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
        "--name=kubecodegen",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={layout.etcd_endpoint}",
        f"--advertise-client-urls={layout.etcd_endpoint}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=kubecodegen={peer}",
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


def modern_apiserver_args(
    apiserver: Path,
    layout: Layout,
    *,
    watch_cache: bool = True,
    extra: Sequence[str] = (),
) -> list[str]:
    """The modern (v1.36 apiextensions-only) server with the same TLS, token and x509 setup.

    It has no RBAC: ``system:masters`` (the admins) may do everything, other users get 403.
    ``--enable-garbage-collector=false``: there is no garbage collector behind this server, so
    Foreground/Orphan deletions would otherwise keep their finalizer forever; with it off they
    complete at once, as a client test expects. WatchList is on by default in 1.36; the gate is
    explicit so that a test relying on ``sendInitialEvents`` says where it comes from.
    """
    pki = layout.pki
    return [
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
        "--authentication-skip-lookup",
        "--enable-garbage-collector=false",
        "--feature-gates=WatchList=true",
        f"--watch-cache={'true' if watch_cache else 'false'}",
        *extra,
    ]
