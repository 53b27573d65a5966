"""`make cluster`: run the test cluster in the foreground for people (kubectl, trying clients).

Prints ``KUBECONFIG=<folder>/admin.kubeconfig`` once the server is ready and runs until Ctrl-C or
SIGTERM, then stops both servers and deletes the folder. The folder is ``$KUBECODEGEN_CLUSTER_DIR``
or ``kubecodegen-cluster`` under the system temp dir; a leftover from an earlier run is reused.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from .assets import AssetsMisconfiguredError, AssetsNotFoundError, find_assets
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


def main() -> int:
    # Installed explicitly: a process started in the background inherits SIGINT *ignored*, and
    # Python then never raises KeyboardInterrupt, so Ctrl-C/`kill -INT` would be lost.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        assets = find_assets()
    except (AssetsNotFoundError, AssetsMisconfiguredError) as exc:
        print(f"cannot start the cluster: {exc}", file=sys.stderr)
        return 2
    try:
        cluster = TestCluster(assets, directory=cluster_directory())
    except ValueError as exc:
        print(f"cannot start the cluster: {exc}", file=sys.stderr)
        return 2
    try:
        began = time.monotonic()
        cluster.start()
        print(
            f"kube-apiserver {cluster.version} ready at {cluster.server} "
            f"in {time.monotonic() - began:.1f}s (etcd {cluster.etcd_endpoint})\n"
            f"folder:       {cluster.directory}\n"
            f"cert admin:   KUBECONFIG={cluster.cert_kubeconfig}\n"
            f"restricted:   KUBECONFIG={cluster.restricted_kubeconfig}"
            f" (reads configmaps in {cluster.restricted_namespace} only)\n"
            f"logs:         {cluster.apiserver_log}\n"
            "Press Ctrl-C to stop; the folder is deleted then. Admin kubeconfig:",
            file=sys.stderr,
            flush=True,
        )
        print(f"KUBECONFIG={cluster.admin_kubeconfig}", flush=True)
        while cluster.running:
            time.sleep(0.5)
        print("a server exited unexpectedly; see the logs above", file=sys.stderr)
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
        cluster.close()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(unreadable: {exc})"


if __name__ == "__main__":
    sys.exit(main())
