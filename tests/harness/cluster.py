"""`TestCluster`: a private etcd + API server on loopback, with its own PKI and users.

The API server is kube-apiserver (v1.20.2 by default) or, with modern assets
(`find_modern_assets`), the v1.36 apiextensions-only server: same PKI, tokens, kubeconfigs and
lifecycle; no core/v1 there, so no bootstrap objects and no Namespace objects (a namespaced
custom resource works in any namespace name).

One object owns one folder (certificates, tokens, etcd data, logs, kubeconfigs) and two child
processes. It can be stopped and started again on the same data and ports (so kubeconfigs stay
valid), compacted through etcdctl, and closed, which stops everything and deletes the folder.
Nothing here reads the user's ~/.kube/config or $KUBECONFIG: every path is explicit.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import httpx

from . import bootstrap
from .assets import Assets, ServerKind, binary_version, find_assets
from .flags import Layout, apiserver_args, etcd_args, modern_apiserver_args
from .kubeconfig import write_kubeconfig, write_private
from .pki import CertificateAuthority, service_account_keys
from .process import ChildProcess, free_ports

#: Namespace in which the restricted user may get/list/watch configmaps (and do nothing else).
RESTRICTED_NAMESPACE = "restricted-ns"
ADMIN_USER = "kubecodegen-admin"
CERT_ADMIN_USER = "kubecodegen-cert-admin"
RESTRICTED_USER = "kubecodegen-restricted"
MARKER = ".kubecodegen-cluster"

_PORT_ATTEMPTS = 3


class ClusterStartError(RuntimeError):
    """The cluster did not become ready; the message carries the servers' last log lines."""


def unique_name(hint: str = "t", max_length: int = 63) -> str:
    """A fresh DNS-1123 label derived from ``hint`` (e.g. a test name), for namespaces."""
    base = re.sub(r"[^a-z0-9-]+", "-", hint.lower()).strip("-") or "t"
    suffix = uuid.uuid4().hex[:8]
    base = base[: max_length - len(suffix) - 1].rstrip("-")
    return f"{base}-{suffix}" if base else suffix


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


def _shutdown(children: list[ChildProcess], directory: Path, owned: bool, lock: list[int]) -> None:
    """Stop children (apiserver first) and delete the cluster's files; safe to call twice."""
    for child in reversed(children):
        child.stop()
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
        self._watch_cache = watch_cache
        self._extra_args = tuple(extra_apiserver_args)
        self._start_timeout = start_timeout
        if directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="kubecodegen-cluster-"))
            owned = True
        else:
            self.directory = directory.absolute()
            owned = not self.directory.exists()
            self._claim_directory()
        lock = [_lock_marker(self.directory)]
        self._children: list[ChildProcess] = []
        self._finalizer = weakref.finalize(
            self, _shutdown, self._children, self.directory, owned, lock
        )
        self._layout: Layout | None = None
        self._admin: httpx.Client | None = None
        self._bootstrapped = False
        self._version = ""
        self._ca: CertificateAuthority | None = None
        self.admin_token = secrets.token_urlsafe(32)
        self.restricted_token = secrets.token_urlsafe(32)

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
        server = self._layout.server if self._layout else "-"
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
        if self._layout is None:
            raise RuntimeError("the cluster has not been started yet")
        return self._layout

    @property
    def server(self) -> str:
        """The API server's URL, ``https://127.0.0.1:<port>``."""
        return self.layout.server

    @property
    def etcd_endpoint(self) -> str:
        return self.layout.etcd_endpoint

    @property
    def ca_file(self) -> Path:
        return self.directory / "pki" / "ca.crt"

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
        return self.directory / "pki" / "cert-admin.crt"

    @property
    def client_key_file(self) -> Path:
        return self.directory / "pki" / "cert-admin.key"

    @property
    def restricted_namespace(self) -> str:
        return RESTRICTED_NAMESPACE

    @property
    def apiserver_log(self) -> Path:
        return self.directory / "logs" / f"{self.kind.value}.log"

    @property
    def etcd_log(self) -> Path:
        return self.directory / "logs" / "etcd.log"

    @property
    def version(self) -> str:
        """The server's ``gitVersion`` as reported by ``/version``, e.g. ``v1.20.2``."""
        if not self._version:
            raise RuntimeError("the cluster has not been started yet")
        return self._version

    @property
    def processes(self) -> tuple[ChildProcess, ...]:
        """The etcd and kube-apiserver child processes (empty before the first start)."""
        return tuple(self._children)

    @property
    def running(self) -> bool:
        return len(self._children) == 2 and all(child.running for child in self._children)

    # ----- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start etcd and kube-apiserver and wait for ``/readyz``; the first start also creates
        the PKI, users, kubeconfigs, RBAC and service accounts. Later starts reuse all of it."""
        if self._layout is None:
            self._first_start()
        else:
            self._start_processes()
        if not self._bootstrapped:
            self._bootstrap()
            self._bootstrapped = True

    def stop(self) -> None:
        """Stop kube-apiserver, then etcd. Data, certificates and ports are kept for `start`."""
        self.stop_apiserver()
        if self._children:
            self._children[0].stop()

    def restart(self) -> None:
        """Stop and start both servers on the same etcd data."""
        self.stop()
        self._start_processes()

    def stop_apiserver(self) -> None:
        """Stop only kube-apiserver (clients see connection errors; etcd keeps the data)."""
        self._drop_admin_client()
        if len(self._children) == 2:
            self._children[1].stop()

    def start_apiserver(self) -> None:
        """Start kube-apiserver again after `stop_apiserver` and wait until it is ready."""
        etcd, apiserver = self._children
        if not etcd.running:
            raise RuntimeError("etcd is not running; use start() to start both")
        if not apiserver.running:
            apiserver.start()
            self._wait_apiserver_ready()

    def close(self) -> None:
        """Stop every child process and delete the cluster's folder. Idempotent."""
        self._drop_admin_client()
        self._finalizer()

    # ----- operations ----------------------------------------------------------------------

    def compact(self) -> int:
        """Compact etcd's history up to now (through etcdctl) and return the compaction revision.

        Every resourceVersion older than the newest one handed out becomes too old: a watch or
        list that asks etcd for it fails with 410 Gone (a watch says so in an ERROR event; with
        the watch cache on, watches are answered from the cache instead). The newest
        resourceVersion stays usable, as in a real cluster: a harness key outside ``/registry`` is
        written first and compaction happens at its revision, so a watch resuming from the last
        seen resourceVersion never starts exactly at the compaction point (where kube-apiserver
        would fail it with a 500 "PrevKv=nil" instead).
        """
        etcdctl = self._assets.etcdctl
        if etcdctl is None:
            raise RuntimeError(
                "etcdctl not found: install Debian's etcd-client, or set TEST_ASSET_ETCDCTL"
            )
        endpoints = f"--endpoints={self.etcd_endpoint}"
        written = self._etcdctl(
            etcdctl,
            endpoints,
            "put",
            "/kubecodegen-harness/compaction",
            str(time.time()),
            "-w=json",
        )
        revision = int(json.loads(written)["header"]["revision"])
        self._etcdctl(etcdctl, endpoints, "compact", str(revision), "--physical")
        return revision

    def _etcdctl(self, etcdctl: Path, *args: str) -> str:
        env = {"PATH": os.environ.get("PATH", os.defpath), "ETCDCTL_API": "3"}
        result = subprocess.run(
            [str(etcdctl), *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"etcdctl {' '.join(args)} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return result.stdout

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
            bootstrap.create_namespace(self.admin_client(), name)
        return name

    def issue_client_certificate(self, user: str, groups: Sequence[str] = ()) -> tuple[Path, Path]:
        """Write a client certificate and key for ``user``/``groups`` signed by the cluster CA."""
        if self._ca is None:
            raise RuntimeError("the cluster has not been started yet")
        pair = self._ca.issue_client(user, groups)
        stem = unique_name(f"client-{user}")
        cert = self.directory / "pki" / f"{stem}.crt"
        key = self.directory / "pki" / f"{stem}.key"
        write_private(cert, pair.cert_pem)
        write_private(key, pair.key_pem)
        return cert, key

    # ----- internals -----------------------------------------------------------------------

    def _drop_admin_client(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    def _write_pki(self) -> None:
        pki = self.directory / "pki"
        ca = CertificateAuthority()
        self._ca = ca
        write_private(pki / "ca.crt", ca.cert_pem)
        serving = ca.issue_serving(
            dns_names=[
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
            ip_addresses=["127.0.0.1", "10.0.0.1"],
        )
        write_private(pki / "apiserver.crt", serving.cert_pem)
        write_private(pki / "apiserver.key", serving.key_pem)
        client = ca.issue_client(CERT_ADMIN_USER, ["system:masters"])
        write_private(self.client_cert_file, client.cert_pem)
        write_private(self.client_key_file, client.key_pem)
        sa = service_account_keys()
        write_private(pki / "sa.pub", sa.cert_pem)
        write_private(pki / "sa.key", sa.key_pem)
        tokens = (
            f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n'
            f"{self.restricted_token},{RESTRICTED_USER},{RESTRICTED_USER}\n"
        )
        write_private(self.directory / "auth" / "tokens.csv", tokens.encode())

    def _write_kubeconfigs(self) -> None:
        server, ca = self.server, self.ca_file
        write_kubeconfig(
            self.admin_kubeconfig,
            server=server,
            ca_file=ca,
            user=ADMIN_USER,
            token=self.admin_token,
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

    def _first_start(self) -> None:
        self._write_pki()
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            etcd_client, etcd_peer, apiserver_port = free_ports(3)
            self._layout = Layout(
                etcd_data=self.directory / "etcd-data",
                pki=self.directory / "pki",
                tokens_csv=self.directory / "auth" / "tokens.csv",
                etcd_client_port=etcd_client,
                etcd_peer_port=etcd_peer,
                apiserver_port=apiserver_port,
            )
            self._write_kubeconfigs()
            self._make_children(self._layout)
            try:
                self._start_processes()
                return
            except ClusterStartError as exc:
                self.stop()
                if attempt == _PORT_ATTEMPTS or "address already in use" not in str(exc):
                    raise
                shutil.rmtree(self._layout.etcd_data, ignore_errors=True)

    def _make_children(self, layout: Layout) -> None:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.directory),
            "TMPDIR": str(self.directory / "tmp"),
        }
        (self.directory / "tmp").mkdir(exist_ok=True)
        self._children[:] = [
            ChildProcess("etcd", etcd_args(self._assets.etcd, layout), self.etcd_log, env),
            ChildProcess(self.kind.value, self._apiserver_args(layout), self.apiserver_log, env),
        ]

    def _apiserver_args(self, layout: Layout) -> list[str]:
        binary = self._assets.kube_apiserver
        if self.modern:
            return modern_apiserver_args(
                binary, layout, watch_cache=self._watch_cache, extra=self._extra_args
            )
        return apiserver_args(
            binary,
            binary_version(binary),
            layout,
            watch_cache=self._watch_cache,
            extra=self._extra_args,
        )

    def _start_processes(self) -> None:
        etcd, apiserver = self._children
        try:
            if not etcd.running:
                etcd.start()
                self._wait_etcd_healthy()
            if not apiserver.running:
                apiserver.start()
                self._wait_apiserver_ready()
        except BaseException:
            self.stop()
            raise

    def _failure(self, what: str) -> ClusterStartError:
        parts = [f"{what} (cluster folder {self.directory})"]
        for child in self._children:
            parts.append(
                f"--- last lines of {child.name} log ({child.log_path}, exit code "
                f"{child.returncode}):\n{child.log_tail()}"
            )
        return ClusterStartError("\n".join(parts))

    def _wait(self, child: ChildProcess, probe_client: httpx.Client, path: str) -> None:
        deadline = time.monotonic() + self._start_timeout
        last = "no answer yet"
        while True:
            if not child.running:
                raise self._failure(f"{child.name} exited while starting")
            try:
                response = probe_client.get(path)
                if response.status_code == 200 and self._healthy(path, response):
                    return
                last = f"HTTP {response.status_code}: {response.text[-300:]}"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise self._failure(
                    f"{child.name} not ready within {self._start_timeout:.0f}s ({path}: {last})"
                )
            time.sleep(0.05)

    @staticmethod
    def _healthy(path: str, response: httpx.Response) -> bool:
        if path == "/health":  # etcd answers 200 with {"health": "false"} when unhealthy
            return bool(response.json().get("health") == "true")
        return True

    def _wait_etcd_healthy(self) -> None:
        with httpx.Client(base_url=self.etcd_endpoint, trust_env=False, timeout=5.0) as probe:
            self._wait(self._children[0], probe, "/health")

    def _wait_apiserver_ready(self) -> None:
        with bootstrap.api_client(self.server, self.ca_file, self.admin_token) as probe:
            self._wait(self._children[1], probe, "/readyz")
            self._version = str(probe.get("/version").json()["gitVersion"])

    def _bootstrap(self) -> None:
        if self.modern:  # no core/v1: no service accounts, namespaces or RBAC to create
            return
        admin = self.admin_client()
        for namespace in ("default", "kube-system"):
            bootstrap.ensure_default_service_account(admin, namespace)
        bootstrap.create_namespace(admin, RESTRICTED_NAMESPACE)
        bootstrap.grant_configmap_reader(admin, RESTRICTED_NAMESPACE, RESTRICTED_USER)
        with bootstrap.api_client(self.server, self.ca_file, self.restricted_token) as restricted:
            bootstrap.wait_for_access(
                restricted, f"/api/v1/namespaces/{RESTRICTED_NAMESPACE}/configmaps"
            )
