"""`Environment`: a private etcd + kube-apiserver on loopback, with its own PKI and users.

One object owns one folder (certificates, tokens, etcd data, logs) and two child processes. It can
be stopped and started again on the same data and ports (so configs and kubeconfigs stay valid),
compacted through etcdctl, and closed, which stops everything and deletes the folder. The
processes die with the Python process that started them (own session, Linux death signal, and a
finalizer that also runs at interpreter exit). Nothing here reads the user's ~/.kube/config or
$KUBECONFIG: every path is explicit. Nothing is printed, and no key or token is ever written to a
log, a repr or an exception message.
"""

from __future__ import annotations

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ..config.auth import BearerTokenAuth
from ..config.tls import PemInput, create_ssl_context
from ..config.types import ClientConfig
from . import api
from .binaries import Binaries, binary_version, find_binaries
from .crds import CRD, CRDSource, install_crds, load_crds
from .flags import Layout, apiserver_args, etcd_args
from .kubeconfig import write_kubeconfig, write_private
from .process import ChildProcess, free_ports

if TYPE_CHECKING:
    from .pki import CertificateAuthority

#: Name, in the certificate, of the admin user of `Environment.config` (group system:masters).
DEFAULT_ADMIN_USER = "envtest-admin"
_PORT_ATTEMPTS = 3
#: What may appear in a token file's user and group fields (a CSV the server parses).
_CSV_SAFE = re.compile(r"^[A-Za-z0-9:._@/+-]+$")


class StartError(RuntimeError):
    """etcd or the API server did not become ready; the message has their last log lines."""


def unique_name(hint: str = "t", max_length: int = 63) -> str:
    """A fresh DNS-1123 label derived from ``hint`` (e.g. a test name), for namespaces."""
    base = re.sub(r"[^a-z0-9-]+", "-", hint.lower()).strip("-") or "t"
    suffix = uuid.uuid4().hex[:8]
    base = base[: max_length - len(suffix) - 1].rstrip("-")
    return f"{base}-{suffix}" if base else suffix


def _shutdown(children: list[ChildProcess], owned_directory: Path | None) -> None:
    """Stop children (API server first) and delete an owned folder; safe to call twice."""
    for child in reversed(children):
        child.stop()
    if owned_directory is not None:
        shutil.rmtree(owned_directory, ignore_errors=True)


def _check_csv_name(what: str, value: str) -> None:
    if not _CSV_SAFE.match(value):
        raise ValueError(f"{what} {value!r} cannot be written to a token file")


class Environment:
    """A real single-node control plane (etcd + kube-apiserver) for tests, started on demand.

    ``config`` is an admin `ClientConfig` (client certificate, group ``system:masters``);
    `user_config` issues certificates for users that RBAC refuses everything until `grant` gives
    them rights; ``token_users`` (name → groups) get static bearer tokens (`token_config`). Use
    as a context manager, or call `start` and finally `close`.

    Binaries come from the arguments, else ``TEST_ASSET_*``, ``KUBEBUILDER_ASSETS``,
    kubecodegen's cache and ``PATH`` (see `find_binaries`). ``directory``: where the files go;
    default a fresh private folder under the system temp dir, removed at `close`; an explicit
    folder must exist, belongs to the caller and is left in place (with the files). ``crds``
    are installed at every start (`install_crds`). ``watch_cache=False`` serves watches straight
    from etcd, so that a compaction or restart affects them exactly as etcd dictates.

    For API servers other than kube-apiserver built on k8s.io/apiserver, ``command`` gives the
    server's whole command line for a `Layout`, ``server_name`` names its process and log, and
    ``core_api=False`` says it serves no core/v1 (no service accounts to create).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        *,
        kube_apiserver: str | os.PathLike[str] | None = None,
        etcd: str | os.PathLike[str] | None = None,
        etcdctl: str | os.PathLike[str] | None = None,
        binaries: Binaries | None = None,
        directory: str | os.PathLike[str] | None = None,
        crds: Sequence[CRDSource] = (),
        watch_cache: bool = True,
        extra_apiserver_args: Sequence[str] = (),
        start_timeout: float = 60.0,
        admin_user: str = DEFAULT_ADMIN_USER,
        token_users: Mapping[str, Sequence[str]] | None = None,
        command: Callable[[Layout], Sequence[str]] | None = None,
        server_name: str = "kube-apiserver",
        core_api: bool = True,
    ) -> None:
        self.binaries = (
            binaries if binaries is not None else find_binaries(kube_apiserver, etcd, etcdctl)
        )
        self._crds: list[CRD] = load_crds(crds)
        self._watch_cache = watch_cache
        self._extra_args = tuple(extra_apiserver_args)
        self._start_timeout = start_timeout
        self._admin_user = admin_user
        self._command = command
        self.server_name = server_name
        self._core_api = core_api
        self._tokens: dict[str, tuple[str, tuple[str, ...]]] = {}
        for user, groups in (token_users or {}).items():
            _check_csv_name("token user", user)
            for group in groups:
                _check_csv_name("group", group)
            self._tokens[user] = (secrets.token_urlsafe(32), tuple(groups))
        if directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="kubecodegen-envtest-"))
            owned: Path | None = self.directory
        else:
            self.directory = Path(directory).absolute()
            if not self.directory.is_dir():
                raise ValueError(f"envtest directory {self.directory} is not a folder")
            owned = None
        self._children: list[ChildProcess] = []
        self._finalizer = weakref.finalize(self, _shutdown, self._children, owned)
        self._layout: Layout | None = None
        self._ca: CertificateAuthority | None = None
        self._admin_pem: tuple[bytes, bytes] | None = None
        self._config: ClientConfig | None = None
        self._admin_http: httpx.Client | None = None
        self._version = ""
        self._bootstrapped = False

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        server = self._layout.server if self._layout else "-"
        return f"Environment({self.server_name}, {server}, {state}, dir={str(self.directory)!r})"

    def __enter__(self) -> Environment:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
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
    def started(self) -> bool:
        """True from the first successful choice of ports on (paths and URLs are known)."""
        return self._layout is not None

    @property
    def layout(self) -> Layout:
        """Ports and paths; known from the first `start` on."""
        if self._layout is None:
            raise RuntimeError("the environment has not been started yet")
        return self._layout

    @property
    def server(self) -> str:
        """The API server's URL, ``https://127.0.0.1:<port>``."""
        return self.layout.server

    @property
    def etcd_endpoint(self) -> str:
        return self.layout.etcd_endpoint

    @property
    def pki_dir(self) -> Path:
        return self.directory / "pki"

    @property
    def ca_file(self) -> Path:
        """The environment's CA certificate, which every config and kubeconfig trusts."""
        return self.pki_dir / "ca.crt"

    @property
    def admin_cert_file(self) -> Path:
        return self.pki_dir / "admin.crt"

    @property
    def admin_key_file(self) -> Path:
        return self.pki_dir / "admin.key"

    @property
    def apiserver_log(self) -> Path:
        return self.directory / "logs" / f"{self.server_name}.log"

    @property
    def etcd_log(self) -> Path:
        return self.directory / "logs" / "etcd.log"

    @property
    def version(self) -> str:
        """The server's ``gitVersion`` as reported by ``/version``, e.g. ``v1.20.2``."""
        if not self._version:
            raise RuntimeError("the environment has not been started yet")
        return self._version

    @property
    def processes(self) -> tuple[ChildProcess, ...]:
        """The etcd and API server child processes (empty before the first start)."""
        return tuple(self._children)

    @property
    def running(self) -> bool:
        return len(self._children) == 2 and all(child.running for child in self._children)

    @property
    def config(self) -> ClientConfig:
        """The admin's ClientConfig: a client certificate in group ``system:masters``."""
        if self._config is None:
            if self._admin_pem is None:
                raise RuntimeError("the environment has not been started yet")
            self._config = self._cert_config(*self._admin_pem)
        return self._config

    @property
    def kubeconfig_path(self) -> Path:
        """A kubeconfig file for the admin (written on first use, mode 0600)."""
        path = self.directory / "kubeconfig"
        if not path.exists():
            write_kubeconfig(
                path,
                server=self.server,
                ca_file=self.ca_file,
                user=self._admin_user,
                client_cert=self.admin_cert_file,
                client_key=self.admin_key_file,
            )
        return path

    # ----- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start etcd and the API server and wait for ``/readyz``; the first start also creates
        the PKI and users. Later starts reuse them, the ports and the data. Then CRDs given to
        the constructor are installed."""
        if self._layout is None:
            self._first_start()
        else:
            self._start_processes()
        if not self._bootstrapped:
            if self._core_api:
                admin = self.admin_http()
                for namespace in ("default", "kube-system"):
                    api.ensure_default_service_account(admin, namespace)
            self._bootstrapped = True
        if self._crds:
            install_crds(self.admin_http(), self._crds)

    def stop(self) -> None:
        """Stop the API server, then etcd. Data, certificates and ports are kept for `start`."""
        self.stop_apiserver()
        if self._children:
            self._children[0].stop()

    def restart(self) -> None:
        """Stop and start both servers on the same etcd data."""
        self.stop()
        self._start_processes()

    def stop_apiserver(self) -> None:
        """Stop only the API server (clients see connection errors; etcd keeps the data)."""
        self._drop_admin_http()
        if len(self._children) == 2:
            self._children[1].stop()

    def start_apiserver(self) -> None:
        """Start the API server again after `stop_apiserver` and wait until it is ready."""
        etcd, apiserver = self._children
        if not etcd.running:
            raise RuntimeError("etcd is not running; use start() to start both")
        if not apiserver.running:
            apiserver.start()
            self._wait_apiserver_ready()

    def close(self) -> None:
        """Stop every child process and delete the environment's own folder. Idempotent."""
        self._drop_admin_http()
        self._finalizer()

    # ----- users ---------------------------------------------------------------------------

    def issue_client_certificate(self, user: str, groups: Sequence[str] = ()) -> tuple[Path, Path]:
        """Write a client certificate and key (mode 0600) for ``user``/``groups``, signed by
        the environment's CA; returns their paths."""
        cert_pem, key_pem = self._issue(user, groups)
        stem = unique_name(f"client-{user}")
        cert, key = self.pki_dir / f"{stem}.crt", self.pki_dir / f"{stem}.key"
        write_private(cert, cert_pem)
        write_private(key, key_pem)
        return cert, key

    def user_config(
        self, name: str, groups: Sequence[str] = (), *, namespace: str = "default"
    ) -> ClientConfig:
        """A ClientConfig for a new certificate user ``name`` in ``groups``. RBAC gives such a
        user no rights (beyond discovery) until `grant` does."""
        return self._cert_config(*self._issue(name, groups), namespace=namespace)

    def restricted_config(
        self,
        name: str,
        rules: Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        groups: Sequence[str] = (),
        ready_path: str | None = None,
    ) -> ClientConfig:
        """`user_config` plus `grant` of ``rules`` (in ``namespace``, else cluster-wide); with
        ``ready_path`` it returns once that path answers the user 200."""
        config = self.user_config(name, groups, namespace=namespace or "default")
        self.grant(rules, users=[name], namespace=namespace, role=f"envtest-{name}")
        if ready_path is not None:
            self.wait_for_access(config, ready_path)
        return config

    def token(self, user: str) -> str:
        """The bearer token of one of the ``token_users`` (a secret: do not log it)."""
        try:
            return self._tokens[user][0]
        except KeyError:
            raise KeyError(f"{user!r} is not one of this environment's token users") from None

    def token_config(self, user: str, *, namespace: str = "default") -> ClientConfig:
        """A ClientConfig authenticating as token user ``user``."""
        return ClientConfig(
            server=self.server,
            verify=create_ssl_context(ca=PemInput(path=str(self.ca_file))),
            auth=BearerTokenAuth(self.token(user)),
            namespace=namespace,
        )

    def grant(
        self,
        rules: Sequence[Mapping[str, Any]],
        *,
        users: Sequence[str] = (),
        groups: Sequence[str] = (),
        namespace: str | None = None,
        role: str | None = None,
    ) -> None:
        """Give users/groups the RBAC ``rules`` (dictionaries as in a Role's ``rules``): a Role
        and RoleBinding in ``namespace``, or a ClusterRole and ClusterRoleBinding without one.
        Propagation to the authorizer takes a moment: see `wait_for_access`."""
        name = role or unique_name("envtest-grant")
        if namespace is None:
            api.grant_cluster_role(
                self.admin_http(), role=name, rules=rules, users=users, groups=groups
            )
        else:
            api.grant_role(
                self.admin_http(),
                namespace=namespace,
                role=name,
                rules=rules,
                users=users,
                groups=groups,
            )

    def wait_for_access(self, config: ClientConfig, path: str, timeout: float = 15.0) -> None:
        """Return once GET ``path`` answers 200 to ``config``'s user (RBAC has propagated)."""
        with api.http_client(config) as client:
            api.wait_for_access(client, path, timeout)

    # ----- operations ----------------------------------------------------------------------

    def admin_http(self) -> httpx.Client:
        """A shared httpx client authenticated as the admin (closed on stop/close)."""
        if self._admin_http is None:
            self._admin_http = api.http_client(self.config)
        return self._admin_http

    def create_namespace(
        self, name: str | None = None, *, labels: Mapping[str, str] | None = None
    ) -> str:
        """Create a namespace (default: a fresh unique name) with its ``default`` service
        account, and return its name."""
        name = name if name is not None else unique_name()
        api.create_namespace(self.admin_http(), name, labels)
        return name

    def delete_namespace(self, name: str) -> None:
        """Ask for a namespace's deletion (it stays Terminating: no controller-manager runs)."""
        api.delete_namespace(self.admin_http(), name)

    def install_crds(self, sources: Iterable[CRDSource], timeout: float = 30.0) -> list[CRD]:
        """Install CRDs from files, folders or dictionaries (see `load_crds`); return once each
        is Established, listed by discovery and listable. They live in etcd like any object, so
        they survive `stop`/`start`; only the constructor's ``crds`` are re-applied at each start."""
        crds = load_crds(sources)
        install_crds(self.admin_http(), crds, timeout)
        return crds

    def compact(self) -> int:
        """Compact etcd's history up to now (through etcdctl) and return the compaction revision.

        Every resourceVersion older than the newest one handed out becomes too old: a watch or
        list that asks etcd for it fails with 410 Gone (a watch says so in an ERROR event; with
        the watch cache on, watches are answered from the cache instead). The newest
        resourceVersion stays usable, as in a real cluster: a key outside ``/registry`` is
        written first and compaction happens at its revision, so a watch resuming from the last
        seen resourceVersion never starts exactly at the compaction point (where kube-apiserver
        would fail it with a 500 "PrevKv=nil" instead).
        """
        etcdctl = self.binaries.etcdctl
        if etcdctl is None:
            raise RuntimeError(
                "etcdctl not found: set TEST_ASSET_ETCDCTL, put it in KUBEBUILDER_ASSETS or on "
                "PATH (Debian: etcd-client)"
            )
        endpoints = f"--endpoints={self.etcd_endpoint}"
        written = self._etcdctl(
            etcdctl, endpoints, "put", "/kubecodegen-envtest/compaction", str(time.time()), "-w=json"
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
                f"etcdctl {args[1] if len(args) > 1 else ''} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[:500]}"
            )
        return result.stdout

    # ----- internals -----------------------------------------------------------------------

    def _issue(self, user: str, groups: Sequence[str]) -> tuple[bytes, bytes]:
        if self._ca is None:
            raise RuntimeError("the environment has not been started yet")
        pair = self._ca.issue_client(user, groups)
        return pair.cert_pem, pair.key_pem

    def _cert_config(
        self, cert_pem: bytes, key_pem: bytes, *, namespace: str = "default"
    ) -> ClientConfig:
        verify = create_ssl_context(
            ca=PemInput(path=str(self.ca_file)),
            client_cert=PemInput(data=cert_pem),
            client_key=PemInput(data=key_pem),
        )
        return ClientConfig(server=self.server, verify=verify, namespace=namespace)

    def _drop_admin_http(self) -> None:
        if self._admin_http is not None:
            self._admin_http.close()
            self._admin_http = None

    def _write_pki(self) -> None:
        from .pki import CertificateAuthority, service_account_keys  # needs the envtest extra

        pki = self.pki_dir
        ca = CertificateAuthority()
        self._ca = ca
        write_private(self.ca_file, ca.cert_pem)
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
        admin = ca.issue_client(self._admin_user, ["system:masters"])
        self._admin_pem = (admin.cert_pem, admin.key_pem)
        write_private(self.admin_cert_file, admin.cert_pem)
        write_private(self.admin_key_file, admin.key_pem)
        sa = service_account_keys()
        write_private(pki / "sa.pub", sa.cert_pem)
        write_private(pki / "sa.key", sa.key_pem)
        lines = [
            f"{token},{user},{user}" + (f',"{",".join(groups)}"' if groups else "") + "\n"
            for user, (token, groups) in self._tokens.items()
        ]
        write_private(self.directory / "auth" / "tokens.csv", "".join(lines).encode())

    def _first_start(self) -> None:
        self._write_pki()
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            etcd_client, etcd_peer, apiserver_port = free_ports(3)
            layout = Layout(
                etcd_data=self.directory / "etcd-data",
                pki=self.pki_dir,
                tokens_csv=self.directory / "auth" / "tokens.csv",
                etcd_client_port=etcd_client,
                etcd_peer_port=etcd_peer,
                apiserver_port=apiserver_port,
            )
            self._layout = layout
            self._config = None
            self._make_children(layout)
            try:
                self._start_processes()
                return
            except StartError as exc:
                self.stop()
                if attempt == _PORT_ATTEMPTS or "address already in use" not in str(exc):
                    raise
                shutil.rmtree(layout.etcd_data, ignore_errors=True)

    def _make_children(self, layout: Layout) -> None:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.directory),
            "TMPDIR": str(self.directory / "tmp"),
        }
        (self.directory / "tmp").mkdir(exist_ok=True)
        command = (
            list(self._command(layout))
            if self._command is not None
            else apiserver_args(
                self.binaries.kube_apiserver,
                binary_version(self.binaries.kube_apiserver),
                layout,
                watch_cache=self._watch_cache,
                extra=self._extra_args,
            )
        )
        self._children[:] = [
            ChildProcess("etcd", etcd_args(self.binaries.etcd, layout), self.etcd_log, env),
            ChildProcess(self.server_name, command, self.apiserver_log, env),
        ]

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

    def _failure(self, what: str) -> StartError:
        parts = [f"{what} (envtest folder {self.directory})"]
        for child in self._children:
            parts.append(
                f"--- last lines of {child.name} log ({child.log_path}, exit code "
                f"{child.returncode}):\n{child.log_tail()}"
            )
        return StartError("\n".join(parts))

    def _wait(self, child: ChildProcess, probe: httpx.Client, path: str) -> None:
        deadline = time.monotonic() + self._start_timeout
        last = "no answer yet"
        while True:
            if not child.running:
                raise self._failure(f"{child.name} exited while starting")
            try:
                response = probe.get(path)
                if response.status_code == 200 and _healthy(path, response):
                    return
                last = f"HTTP {response.status_code}: {response.text[-300:]}"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise self._failure(
                    f"{child.name} not ready within {self._start_timeout:.0f}s ({path}: {last})"
                )
            time.sleep(0.05)

    def _wait_etcd_healthy(self) -> None:
        with httpx.Client(base_url=self.etcd_endpoint, trust_env=False, timeout=5.0) as probe:
            self._wait(self._children[0], probe, "/health")

    def _wait_apiserver_ready(self) -> None:
        with api.http_client(self.config, timeout=5.0) as probe:
            self._wait(self._children[1], probe, "/readyz")
            self._version = str(probe.get("/version").json()["gitVersion"])


def _healthy(path: str, response: httpx.Response) -> bool:
    if path == "/health":  # etcd answers 200 with {"health": "false"} when unhealthy
        return bool(response.json().get("health") == "true")
    return True
