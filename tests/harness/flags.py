"""Command lines of the test clusters' servers.

etcd and kube-apiserver get the runtime envtest's flags (`kubecodegen_runtime.envtest.flags`):
one set of choices for the suite and for users. Only the modern (v1.36 apiextensions-only)
server's command line is the harness's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kubecodegen_runtime.envtest.flags import (
    SERVICE_ACCOUNT_ISSUER,
    SERVICE_CLUSTER_IP_RANGE,
    Layout,
    apiserver_args,
    etcd_args,
)

__all__ = [
    "SERVICE_ACCOUNT_ISSUER",
    "SERVICE_CLUSTER_IP_RANGE",
    "Layout",
    "apiserver_args",
    "etcd_args",
    "kubelet_client_args",
    "modern_apiserver_args",
]


def kubelet_client_args(client_cert: Path, client_key: Path, kubelet_ca: Path) -> list[str]:
    """kube-apiserver's side of the link to the test kubelet (`tests/harness/kubelet.py`).

    The API server authenticates to kubelets with a client certificate and verifies their
    serving certificates against the kubelet CA, as on a kubeadm cluster; it reaches a node at its
    ``InternalIP`` (the test kubelet registers 127.0.0.1) and the port of
    ``status.daemonEndpoints.kubeletEndpoint``. Harmless while no Node exists.
    """
    return [
        f"--kubelet-client-certificate={client_cert}",
        f"--kubelet-client-key={client_key}",
        f"--kubelet-certificate-authority={kubelet_ca}",
        "--kubelet-preferred-address-types=InternalIP",
    ]


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
