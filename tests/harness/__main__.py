"""`make cluster`: run the test cluster in the foreground for people (kubectl, trying clients).

Prints ``KUBECONFIG=<folder>/admin.kubeconfig`` once the server is ready and runs until Ctrl-C or
SIGTERM, then stops both servers and deletes the folder. The folder is ``$KUBECODEGEN_CLUSTER_DIR``
or ``kubecodegen-cluster`` under the system temp dir; a leftover from an earlier run is reused.

``--server modern`` (``make cluster SERVER=modern``) runs the v1.36 CRD-only server instead, in
``<folder>-modern``; ``--server both`` runs the two side by side and prints a line for each.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from .assets import (
    Assets,
    AssetsMisconfiguredError,
    AssetsNotFoundError,
    ServerKind,
    find_assets,
    find_modern_assets,
)
from .cluster import ClusterStartError, TestCluster


class _Terminate(Exception):
    """Raised from the SIGTERM handler so the same cleanup as for Ctrl-C runs."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminate


def cluster_directory() -> Path:
    configured = os.environ.get("KUBECODEGEN_CLUSTER_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(tempfile.gettempdir()) / "kubecodegen-cluster"


def _kinds(server: str) -> list[ServerKind]:
    return {
        "kube": [ServerKind.KUBE],
        "modern": [ServerKind.MODERN],
        "both": [ServerKind.KUBE, ServerKind.MODERN],
    }[server]


def _assets_for(kind: ServerKind) -> Assets:
    return find_modern_assets() if kind is ServerKind.MODERN else find_assets()


def _directory_for(kind: ServerKind) -> Path:
    base = cluster_directory()
    return base.with_name(base.name + "-modern") if kind is ServerKind.MODERN else base


def _announce(cluster: TestCluster, seconds: float) -> None:
    restricted = (
        "authenticated but refused everywhere: no RBAC on this server"
        if cluster.modern
        else f"reads configmaps in {cluster.restricted_namespace} only"
    )
    print(
        f"{cluster.kind.value} {cluster.version} ready at {cluster.server} "
        f"in {seconds:.1f}s (etcd {cluster.etcd_endpoint})\n"
        f"folder:       {cluster.directory}\n"
        f"cert admin:   KUBECONFIG={cluster.cert_kubeconfig}\n"
        f"restricted:   KUBECONFIG={cluster.restricted_kubeconfig} ({restricted})\n"
        f"logs:         {cluster.apiserver_log}\n"
        + ("no core/v1 here: CRDs and custom resources only\n" if cluster.modern else "")
        + "Press Ctrl-C to stop; the folder is deleted then. Admin kubeconfig:",
        file=sys.stderr,
        flush=True,
    )
    print(f"KUBECONFIG={cluster.admin_kubeconfig}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.harness", description=__doc__)
    parser.add_argument("--server", choices=("kube", "modern", "both"), default="kube")
    args = parser.parse_args(argv)
    # Installed explicitly: a process started in the background inherits SIGINT *ignored*, and
    # Python then never raises KeyboardInterrupt, so Ctrl-C/`kill -INT` would be lost.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    clusters: list[TestCluster] = []
    try:
        for kind in _kinds(args.server):
            clusters.append(TestCluster(_assets_for(kind), directory=_directory_for(kind)))
    except (AssetsNotFoundError, AssetsMisconfiguredError, ValueError) as exc:
        print(f"cannot start the cluster: {exc}", file=sys.stderr)
        for made in clusters:
            made.close()
        return 2
    try:
        for cluster in clusters:
            began = time.monotonic()
            cluster.start()
            _announce(cluster, time.monotonic() - began)
        while all(cluster.running for cluster in clusters):
            time.sleep(0.5)
        print("a server exited unexpectedly; see the logs above", file=sys.stderr)
        for cluster in clusters:
            for path in (cluster.apiserver_log, cluster.etcd_log):
                print(f"--- {path}:\n{_tail(path)}", file=sys.stderr)
        return 1
    except ClusterStartError as exc:
        print(f"cannot start the cluster: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Terminate):
        print("stopping the cluster", file=sys.stderr, flush=True)
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for cluster in reversed(clusters):
            cluster.close()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(unreadable: {exc})"


if __name__ == "__main__":
    sys.exit(main())
