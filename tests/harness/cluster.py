"""`TestCluster`: the project's test cluster, an envtest `Environment` with the suite's users.

The servers, PKI, flags, processes and readiness are the runtime's envtest
(`kubecodegen_runtime.envtest.Environment`): one implementation of starting a control plane, for
the suite and for users. What this adds is the project's own: the modern server flavour (the
v1.36 apiextensions-only server, `find_modern_assets`: no core/v1, so no bootstrap objects and no
Namespace objects; a namespaced custom resource works in any namespace name), the users and
kubeconfigs the auth tests expect (a token admin, a certificate admin, a restricted token user),
and a folder policy for `make cluster` (an explicit folder, a leftover of an earlier run reused,
never one in use or not the harness's).

A cluster can be stopped and started again on the same data and ports (so kubeconfigs stay
valid), compacted through etcdctl, and closed, which stops everything and deletes the folder.
Nothing here reads the user's ~/.kube/config or $KUBECONFIG: every path is explicit.
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx

from kubecodegen_runtime.envtest import Binaries, Environment, Layout, StartError, unique_name
from kubecodegen_runtime.envtest.process import ChildProcess

from . import bootstrap
from .assets import Assets, ServerKind, find_assets
from .flags import kubelet_client_args, modern_apiserver_args
from .kubeconfig import write_kubeconfig
from .kubelet_pki import KubeletPKI

__all__ = ["ClusterStartError", "TestCluster", "unique_name"]

#: Namespace in which the restricted user may get/list/watch configmaps (and do nothing else).
RESTRICTED_NAMESPACE = "restricted-ns"
ADMIN_USER = "kubecodegen-admin"
CERT_ADMIN_USER = "kubecodegen-cert-admin"
RESTRICTED_USER = "kubecodegen-restricted"
MARKER = ".kubecodegen-cluster"

#: The cluster did not become ready; the message carries the servers' last log lines.
ClusterStartError = StartError

_CONFIGMAP_READER = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
]


def _clear(directory: Path, keep: str | None = None) -> None:
    for entry in directory.iterdir():
        if entry.name == keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _lock_marker(folder: Path) -> int:
    """Create the marker file and hold an exclusive lock on it while the cluster lives, so a second
    cluster never takes over (and empties) a folder that a running one is using."""
    fd = os.open(folder / MARKER, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ValueError(f"cluster directory {folder} is in use by a running cluster") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"kubecodegen test cluster of pid {os.getpid()}; deleted on stop\n".encode())
    return fd


def _shutdown(environment: Environment, directory: Path, owned: bool, lock: list[int]) -> None:
    """Stop the servers and delete the cluster's files; safe to call twice."""
    environment.close()
    if directory.is_dir():
        _clear(directory)
        if owned:
            shutil.rmtree(directory, ignore_errors=True)
    while lock:
        os.close(lock.pop())


class TestCluster:
    """A real single-node control plane (etcd + kube-apiserver), started on demand.

    Users: an admin by bearer token (group ``system:masters``), an admin by x509 client
    certificate, and a restricted user that may only read configmaps in ``restricted-ns``. Each has
    a kubeconfig that verifies TLS against this cluster's CA. On the modern server (no RBAC) the
    restricted user authenticates but is refused (403) everywhere. Use as a context manager, or
    call `start` and finally `close`.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        assets: Assets | None = None,
        *,
        directory: Path | None = None,
        watch_cache: bool = True,
        extra_apiserver_args: Sequence[str] = (),
        start_timeout: float = 60.0,
    ) -> None:
        """Prepare (but do not start) a cluster.

        ``directory``: where its files go; default a fresh folder under the system temp dir. An
        explicit folder must be absent, empty, or left over from an earlier harness run (it is then
        emptied). ``watch_cache=False`` serves watches straight from etcd, so that a compaction or
        restart affects them exactly as etcd dictates.
        """
        self._assets = assets if assets is not None else find_assets()
        if directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="kubecodegen-cluster-"))
            owned = True
        else:
            self.directory = directory.absolute()
            owned = not self.directory.exists()
            self._claim_directory()
        lock = [_lock_marker(self.directory)]
        #: The certificates of the API server's link to a test kubelet (kube-apiserver only).
        self.kubelet_pki: KubeletPKI | None = None
        if not self.modern:
            self.kubelet_pki = KubeletPKI(self.directory / "kubelet-pki")
            pki = self.kubelet_pki
            extra_apiserver_args = [
                *kubelet_client_args(pki.client_cert_file, pki.client_key_file, pki.ca_file),
                *extra_apiserver_args,
            ]
        self._env = Environment(
            binaries=Binaries(
                kube_apiserver=self._assets.kube_apiserver,
                etcd=self._assets.etcd,
                etcdctl=self._assets.etcdctl,
            ),
            directory=self.directory,
            watch_cache=watch_cache,
            extra_apiserver_args=extra_apiserver_args,
            start_timeout=start_timeout,
            admin_user=CERT_ADMIN_USER,
            token_users={ADMIN_USER: ("system:masters",), RESTRICTED_USER: ()},
            command=(
                functools.partial(
                    modern_apiserver_args,
                    self._assets.kube_apiserver,
                    watch_cache=watch_cache,
                    extra=tuple(extra_apiserver_args),
                )
                if self.modern
                else None
            ),
            server_name=self.kind.value,
            core_api=not self.modern,
        )
        self._finalizer = weakref.finalize(
            self, _shutdown, self._env, self.directory, owned, lock
        )
        self._admin: httpx.Client | None = None
        self._bootstrapped = False
        self.admin_token = self._env.token(ADMIN_USER)
        self.restricted_token = self._env.token(RESTRICTED_USER)

    @property
    def environment(self) -> Environment:
        """The envtest environment running this cluster's servers."""
        return self._env

    def _claim_directory(self) -> None:
        """Accept an explicit folder only if it is certainly ours to fill and later empty."""
        folder = self.directory
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise ValueError(f"cluster directory {folder} exists and is not a plain folder")
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700)
            return
        if folder.stat().st_uid != os.getuid():
            raise ValueError(f"cluster directory {folder} belongs to another user")
        if any(folder.iterdir()):
            if not (folder / MARKER).exists():
                raise ValueError(
                    f"cluster directory {folder} is not empty and was not made by the harness; "
                    "refusing to use it"
                )
            # A leftover of an earlier run: empty it, unless a running cluster still holds it.
            os.close(_lock_marker(folder))
            _clear(folder)
        folder.chmod(0o700)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        server = self._env.layout.server if self._env.started else "-"
        return f"TestCluster({self.kind.value}, {server}, {state}, dir={str(self.directory)!r})"

    def __enter__(self) -> TestCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ----- paths and addresses -------------------------------------------------------------

    @property
    def kind(self) -> ServerKind:
        """Which API server runs: full kube-apiserver, or the modern CRD-only server."""
        return self._assets.kind

    @property
    def modern(self) -> bool:
        """True for the v1.36 CRD-only server (no core/v1, no RBAC, no Namespace objects)."""
        return self._assets.kind is ServerKind.MODERN

    @property
    def layout(self) -> Layout:
        return self._env.layout

    @property
    def server(self) -> str:
        """The API server's URL, ``https://127.0.0.1:<port>``."""
        return self.layout.server

    @property
    def etcd_endpoint(self) -> str:
        return self.layout.etcd_endpoint

    @property
    def ca_file(self) -> Path:
        return self._env.ca_file

    @property
    def kubeconfig_dir(self) -> Path:
        return self.directory

    @property
    def admin_kubeconfig(self) -> Path:
        return self.directory / "admin.kubeconfig"

    @property
    def cert_kubeconfig(self) -> Path:
        return self.directory / "cert-admin.kubeconfig"

    @property
    def restricted_kubeconfig(self) -> Path:
        return self.directory / "restricted.kubeconfig"

    @property
    def client_cert_file(self) -> Path:
        return self._env.admin_cert_file

    @property
    def client_key_file(self) -> Path:
        return self._env.admin_key_file

    @property
    def restricted_namespace(self) -> str:
        return RESTRICTED_NAMESPACE

    @property
    def apiserver_log(self) -> Path:
        return self._env.apiserver_log

    @property
    def etcd_log(self) -> Path:
        return self._env.etcd_log

    @property
    def version(self) -> str:
        """The server's ``gitVersion`` as reported by ``/version``, e.g. ``v1.20.2``."""
        return self._env.version

    @property
    def processes(self) -> tuple[ChildProcess, ...]:
        """The etcd and API server child processes (empty before the first start)."""
        return self._env.processes

    @property
    def running(self) -> bool:
        return self._env.running

    # ----- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start etcd and the API server and wait for ``/readyz``; the first start also creates
        the PKI, users, kubeconfigs, RBAC and service accounts. Later starts reuse all of it."""
        self._env.start()
        if not self._bootstrapped:
            self._write_kubeconfigs()
            self._bootstrap()
            self._bootstrapped = True

    def stop(self) -> None:
        """Stop the API server, then etcd. Data, certificates and ports are kept for `start`."""
        self._drop_admin_client()
        self._env.stop()

    def restart(self) -> None:
        """Stop and start both servers on the same etcd data."""
        self._drop_admin_client()
        self._env.restart()

    def stop_apiserver(self) -> None:
        """Stop only the API server (clients see connection errors; etcd keeps the data)."""
        self._drop_admin_client()
        self._env.stop_apiserver()

    def start_apiserver(self) -> None:
        """Start the API server again after `stop_apiserver` and wait until it is ready."""
        self._env.start_apiserver()

    def close(self) -> None:
        """Stop every child process and delete the cluster's folder. Idempotent."""
        self._drop_admin_client()
        self._finalizer()

    # ----- operations ----------------------------------------------------------------------

    def compact(self) -> int:
        """Compact etcd's history up to now and return the compaction revision (see
        `Environment.compact`: older resourceVersions become 410 Gone, the newest stays usable)."""
        return self._env.compact()

    def admin_client(self) -> httpx.Client:
        """A shared httpx client authenticated as the token admin (closed on stop/close)."""
        if self._admin is None:
            self._admin = bootstrap.api_client(self.server, self.ca_file, self.admin_token)
        return self._admin

    def create_namespace(self, name: str | None = None) -> str:
        """Create a namespace (default: a fresh unique name) with its ``default`` service account.

        On the modern server there is no Namespace API; the name alone is the namespace (custom
        resources are stored under any namespace name there), so only the name is returned."""
        name = name if name is not None else unique_name()
        if not self.modern:
            self._env.create_namespace(name, labels={bootstrap.HARNESS_LABEL: "true"})
        return name

    def issue_client_certificate(self, user: str, groups: Sequence[str] = ()) -> tuple[Path, Path]:
        """Write a client certificate and key for ``user``/``groups`` signed by the cluster CA."""
        return self._env.issue_client_certificate(user, groups)

    # ----- internals -----------------------------------------------------------------------

    def _drop_admin_client(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def _write_kubeconfigs(self) -> None:
        server, ca = self.server, self.ca_file
        write_kubeconfig(
            self.admin_kubeconfig, server=server, ca_file=ca, user=ADMIN_USER, token=self.admin_token
        )
        write_kubeconfig(
            self.cert_kubeconfig,
            server=server,
            ca_file=ca,
            user=CERT_ADMIN_USER,
            client_cert=self.client_cert_file,
            client_key=self.client_key_file,
        )
        write_kubeconfig(
            self.restricted_kubeconfig,
            server=server,
            ca_file=ca,
            user=RESTRICTED_USER,
            token=self.restricted_token,
            namespace=RESTRICTED_NAMESPACE,
        )

    def _bootstrap(self) -> None:
        """The restricted user's namespace and rights (not on the modern server: no RBAC)."""
        if self.modern:
            return
        self.create_namespace(RESTRICTED_NAMESPACE)
        self._env.grant(
            _CONFIGMAP_READER,
            users=[RESTRICTED_USER],
            namespace=RESTRICTED_NAMESPACE,
            role="configmap-reader",
        )
        self._env.wait_for_access(
            self._env.token_config(RESTRICTED_USER),
            f"/api/v1/namespaces/{RESTRICTED_NAMESPACE}/configmaps",
        )
