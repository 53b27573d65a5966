"""`TestKubelet`: a small kubelet of the harness's own, so pod streams are tested for real.

kube-apiserver does not answer ``pods/log``, ``pods/exec``, ``pods/attach``, ``pods/portforward``
or ``nodes/proxy`` itself: it looks up the pod's node, dials that node's kubelet over HTTPS
(``--kubelet-client-certificate``, verified against ``--kubelet-certificate-authority``, at the
node's ``InternalIP`` and ``daemonEndpoints.kubeletEndpoint.Port``) and relays the answer, an
upgraded stream included. This kubelet serves that API on 127.0.0.1 with a serving certificate
from the cluster's kubelet CA and requires the API server's client certificate. It registers a
Node (Ready) and creates pods bound to it whose status it reports (`KubeletPod`). Commands of
exec run for real as host processes (`kubelet_process`), logs come from buffers the test fills.

It runs an asyncio loop on a thread of its own; the test talks to it from any thread. A SPDY
handler (what kubectl 1.20 speaks for exec) can be plugged in as `spdy_handler`; WebSocket is
built in. Faults on demand: `fail_upgrades` answers upgrades with an error status instead of
101; `cut_streams_after` aborts stream connections and log responses after so many output bytes.
See docs/test-cluster.md, "The test kubelet".
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import ssl
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import h11
import httpx

from .kubelet_attach import MainProcess, serve_attach
from .kubelet_exec import SUPPORTED_PROTOCOLS, Cut, OutputBudget, StreamOptions, serve_exec
from .kubelet_logs import ByteLimit, LogEntry, LogOptions, initial, render
from .kubelet_pki import APISERVER_CLIENT_USER
from .kubelet_pods import KubeletPod, TestContainer
from .kubelet_portforward import SUPPORTED_PROTOCOLS as PORTFORWARD_PROTOCOLS
from .kubelet_portforward import parse_ports, serve_portforward
from .kubelet_process import ContainerProcess
from .kubelet_servers import pod_address, proxyable
from .kubelet_ws import ServerWebSocket, choose_protocol, header, is_websocket

if TYPE_CHECKING:
    from .cluster import TestCluster

_log = logging.getLogger("tests.harness.kubelet")

NODE_NAME = "kubecodegen-node"
_MAX_BODY = 16 * 1024 * 1024


@dataclass
class KubeletRequest:
    """One request as the kubelet received it (also what a node-proxy route is given)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class KubeletResponse:
    """What a node-proxy route answers."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("Content-Type", "text/plain")])


Route = Callable[[KubeletRequest], KubeletResponse]


@dataclass
class StreamUpgrade:
    """An /exec, /attach or /portForward request being upgraded, as given to `spdy_handler`.

    The handler owns the connection: it answers with `switch` (101) or `refuse`, then runs the
    session over ``reader``/``writer``; `start_process` starts the exec command (exec only);
    ``pod``/``container`` are the target (``container.main`` is attach's process), ``options``
    the stream flags (None for portforward), ``request`` h11's parsed request. Faults
    (`TestKubelet.fail_upgrades`) are applied before the handler is called."""

    kind: str  # "exec" | "attach" | "portforward"
    request: h11.Request
    query: dict[str, list[str]]
    pod: KubeletPod
    container: TestContainer | None
    options: StreamOptions | None
    conn: h11.Connection
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    kubelet: TestKubelet

    async def switch(self, headers: Sequence[tuple[str, str]]) -> bytes:
        """Answer ``101 Switching Protocols`` with ``headers`` (e.g. ``Upgrade: SPDY/3.1``,
        ``X-Stream-Protocol-Version``); returns the bytes the client sent after its request,
        which belong to the new protocol. Afterwards read ``reader`` and write ``writer``."""
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        self.writer.write(
            self.conn.send(h11.InformationalResponse(status_code=101, headers=raw)) or b""
        )
        await self.writer.drain()
        trailing, _ = self.conn.trailing_data
        return bytes(trailing)

    async def refuse(self, status: int, message: str) -> None:
        """Answer with an error instead of upgrading (the connection is closed afterwards)."""
        await _respond(self.conn, self.writer, status, message.encode())

    async def start_process(self) -> ContainerProcess:
        """Start the exec command (OSError if it cannot run)."""
        if self.container is None or self.options is None:
            raise RuntimeError("no command to start for " + self.kind)
        return await self.kubelet.start_exec_process(
            self.container, self.query.get("command", []), self.options
        )


SpdyHandler = Callable[[StreamUpgrade], Awaitable[None]]


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TestKubelet:
    """A kubelet for one `TestCluster` (kube-apiserver flavour); `start`, finally `close`."""

    __test__ = False

    def __init__(self, cluster: TestCluster, *, node_name: str = NODE_NAME) -> None:
        if cluster.kubelet_pki is None:
            raise ValueError("the test kubelet needs a kube-apiserver cluster (not the modern one)")
        self.cluster = cluster
        self.node_name = node_name
        self.address = "127.0.0.1"
        self.port = 0
        self.directory = cluster.directory / "kubelet"
        self.directory.mkdir(exist_ok=True, mode=0o700)
        self._pki = cluster.kubelet_pki
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="test-kubelet", daemon=True
        )
        self._server: asyncio.base_events.Server | None = None
        self._pods: dict[tuple[str, str], KubeletPod] = {}
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {"/healthz": lambda _: KubeletResponse(body=b"ok")}
        #: The podIP of every pod: a proxyable address of this machine if there is one.
        self.pod_ip = pod_address()
        #: Every request received, oldest first (for tests of what the API server sent).
        self.requests: list[KubeletRequest] = []
        self.spdy_handler: SpdyHandler | None = None
        self._upgrade_failure: tuple[int, str] | None = None
        self._cut_after: int | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._processes: set[ContainerProcess] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def __repr__(self) -> str:
        return f"TestKubelet({self.node_name}, https://{self.address}:{self.port})"

    @property
    def proxyable(self) -> bool:
        """True when the API server will proxy to the pods' IP (``pods/proxy``,
        ``services/proxy``); see `skip_reason`."""
        return proxyable(self.pod_ip)

    @property
    def skip_reason(self) -> str:
        return (
            "this machine has no non-loopback IPv4 address, and kube-apiserver refuses to proxy "
            "to loopback pod IPs (proxyutil.IsProxyableIP)"
        )

    # ----- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        cert, key = self._pki.issue_serving(self.node_name, [self.address])
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self._pki.ca_file))
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_cert_chain(str(cert), str(key))
        self._thread.start()
        self._server = self._call(
            asyncio.start_server(self._connection, self.address, 0, ssl=context)
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._register_node()

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        with self._lock:
            pods = list(self._pods.values())
        for pod in pods:
            pod.close()

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            # Ending the connections ends their handlers (reads see EOF, commands are killed);
            # cancelling is the last resort only.
            for writer in list(self._writers):
                writer.transport.abort()
            pending = [task for task in self._tasks if not task.done()]
            if pending:
                _, late = await asyncio.wait(pending, timeout=5)
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._call(stop(), timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _call(self, coroutine: Awaitable[Any], timeout: float = 30.0) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)  # type: ignore[arg-type]
        return future.result(timeout)

    # ----- the API server side: node and pods ---------------------------------------------

    def _api(self) -> httpx.Client:
        return self.cluster.admin_client()

    def _node_status(self) -> dict[str, Any]:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "addresses": [
                {"type": "InternalIP", "address": self.address},
                {"type": "Hostname", "address": self.node_name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubecodegen test kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "nodeInfo": {
                "machineID": "kubecodegen",
                "systemUUID": "kubecodegen",
                "bootID": "kubecodegen",
                "kernelVersion": os.uname().release,
                "osImage": "kubecodegen test kubelet",
                "containerRuntimeVersion": "kubecodegen://host",
                "kubeletVersion": "v1.20.2",
                "kubeProxyVersion": "v1.20.2",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        }

    def _register_node(self) -> None:
        api = self._api()
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node_name,
                "labels": {"kubernetes.io/hostname": self.node_name, "kubernetes.io/os": "linux"},
            },
        }
        created = api.post("/api/v1/nodes", json=body)
        if created.status_code == 409:
            created = api.get(f"/api/v1/nodes/{self.node_name}")
        created.raise_for_status()
        node = created.json()
        node["status"] = self._node_status()
        api.put(f"/api/v1/nodes/{self.node_name}/status", json=node).raise_for_status()

    def create_pod(
        self,
        namespace: str,
        name: str | None = None,
        containers: Sequence[str] = ("main",),
        *,
        labels: Mapping[str, str] | None = None,
    ) -> KubeletPod:
        """Create a pod bound to this node and report it Running with a podIP."""
        from .cluster import unique_name

        name = name or unique_name("pod")
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
            "spec": {
                "nodeName": self.node_name,
                "automountServiceAccountToken": False,
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {"name": each, "image": "kubecodegen.test/host:latest"} for each in containers
                ],
            },
        }
        api = self._api()
        created = api.post(f"/api/v1/namespaces/{namespace}/pods", json=body)
        created.raise_for_status()
        pod = KubeletPod(
            self, created.json(), containers, self.pod_ip, self.directory / namespace / name
        )
        with self._lock:
            self._pods[(namespace, name)] = pod
        pod.on_status = self._report_pod
        self._report_pod(pod)
        return pod

    def _report_pod(self, pod: KubeletPod) -> None:
        api = self._api()
        path = f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}/status"
        for _ in range(5):
            current = api.get(path)
            current.raise_for_status()
            obj = current.json()
            obj["status"] = pod.status(self.address)
            answer = api.put(path, json=obj)
            if answer.status_code != 409:
                answer.raise_for_status()
                return
        raise RuntimeError(f"could not update the status of pod {pod.namespace}/{pod.name}")

    def start_main(self, container: TestContainer, command: Sequence[str], *, tty: bool) -> None:
        """Start ``container``'s main process on the kubelet's loop (see `TestContainer.run`)."""
        options = StreamOptions(stdin=True, stdout=True, stderr=not tty, tty=tty)

        async def start() -> None:
            process = await self.start_exec_process(container, command, options)
            container.main = MainProcess(container, process)

        self._call(start())

    def expose(
        self, pod: KubeletPod, port: int, name: str | None, service_port: int, port_name: str
    ) -> str:
        """See `KubeletPod.expose`."""
        from .cluster import unique_name

        name = name or unique_name(f"svc-{pod.name}", max_length=40)
        api = self._api()
        base = f"/api/v1/namespaces/{pod.namespace}"
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": pod.namespace},
            "spec": {
                "ports": [
                    {"name": port_name, "port": service_port, "targetPort": port, "protocol": "TCP"}
                ]
            },
        }
        api.post(f"{base}/services", json=service).raise_for_status()
        endpoints = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": pod.namespace},
            "subsets": [
                {
                    "addresses": [
                        {
                            "ip": pod.ip,
                            "nodeName": self.node_name,
                            "targetRef": {
                                "kind": "Pod",
                                "namespace": pod.namespace,
                                "name": pod.name,
                                "uid": pod.uid,
                            },
                        }
                    ],
                    "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
                }
            ],
        }
        created = api.post(f"{base}/endpoints", json=endpoints)
        if created.status_code == 422 and not self.proxyable:
            raise RuntimeError(f"cannot expose pod {pod.name}: {self.skip_reason}")
        created.raise_for_status()
        return name

    def pod(self, namespace: str, name: str) -> KubeletPod | None:
        with self._lock:
            return self._pods.get((namespace, name))

    # ----- test controls --------------------------------------------------------------------

    def route(self, path: str, handler: Route) -> None:
        """Serve ``path`` (exact) for ``nodes/proxy``: ``handler(request) -> KubeletResponse``."""
        self._routes[path] = handler

    def fail_upgrades(self, status: int = 403, message: str = "upgrade refused by test") -> None:
        """Answer every exec/attach/portforward upgrade with ``status`` until `clear_faults`."""
        self._upgrade_failure = (status, message)

    def cut_streams_after(self, output_bytes: int) -> None:
        """Abort connections after ``output_bytes`` of output: each exec/attach/port-forward
        stream (no close frame) and each log response (no end of the chunked body)."""
        self._cut_after = output_bytes

    def clear_faults(self) -> None:
        self._upgrade_failure = None
        self._cut_after = None

    # ----- serving ---------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, OSError, h11.ProtocolError, asyncio.IncompleteReadError) as exc:
            _log.debug("kubelet connection ended: %s", exc)
        except Exception:  # never silent: a harness bug must show in the log
            _log.exception("test kubelet failed on a request")
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _authenticated(self, writer: asyncio.StreamWriter) -> bool:
        cert = writer.get_extra_info("peercert") or {}
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName" and value == APISERVER_CLIENT_USER:
                    return True
        return False

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=65536)
        while True:
            got = await _read_request(conn, reader)
            if got is None:
                return
            request, body = got
            target = urllib.parse.urlsplit(request.target.decode("latin-1"))
            query = urllib.parse.parse_qs(target.query, keep_blank_values=True)
            path = urllib.parse.unquote(target.path)
            recorded = KubeletRequest(
                request.method.decode(),
                path,
                query,
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers],
                body,
            )
            self.requests.append(recorded)
            if not self._authenticated(writer):
                await _respond(conn, writer, 401, b"Unauthorized")
                return
            try:
                keep = await self._dispatch(conn, request, recorded, reader, writer)
            except HttpError as exc:
                await _respond(conn, writer, exc.status, exc.message.encode())
                keep = True
            if not keep or conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _dispatch(
        self,
        conn: h11.Connection,
        request: h11.Request,
        recorded: KubeletRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        parts = recorded.path.strip("/").split("/")
        kind = parts[0]
        if kind == "containerLogs" and len(parts) == 4:
            # After following, the connection is not reused: the watch for the peer going
            # away may have consumed bytes of a next request.
            return await self._logs(
                conn, writer, reader, parts[1], parts[2], parts[3], recorded.query
            )
        if kind in ("exec", "attach") and len(parts) == 4:
            await self._stream(conn, request, recorded, reader, writer, kind, parts[1:])
            return False
        if kind == "portForward" and len(parts) == 3:
            await self._stream(conn, request, recorded, reader, writer, "portforward", parts[1:])
            return False
        route = self._routes.get(recorded.path)
        if route is None:
            raise HttpError(404, "404 page not found")
        answer = await asyncio.get_running_loop().run_in_executor(None, route, recorded)
        await _respond(conn, writer, answer.status, answer.body, answer.headers)
        return True

    def _find(
        self, namespace: str, name: str, container: str | None
    ) -> tuple[KubeletPod, TestContainer | None]:
        pod = self.pod(namespace, name)
        if pod is None:
            raise HttpError(404, f"pod {namespace}/{name} does not exist")
        if container is None:
            return pod, None
        if not pod.has_container(container):
            raise HttpError(404, f"container {container!r} not found in pod {name!r}")
        return pod, pod.container(container)

    # ----- logs -----------------------------------------------------------------------------

    async def _logs(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        reader: asyncio.StreamReader,
        namespace: str,
        name: str,
        container_name: str,
        query: Mapping[str, list[str]],
    ) -> bool:
        """Answer one log request; True when the connection may serve another request."""
        _pod, container = self._find(namespace, name, container_name)
        assert container is not None
        options = _log_options(query)
        entries = container.entries(options.previous)
        if entries is None:
            raise HttpError(
                400,
                f"previous terminated container {container_name!r} in pod {name!r} not found",
            )
        writer.write(
            conn.send(h11.Response(status_code=200, headers=[(b"Content-Type", b"text/plain")]))
            or b""
        )
        limit = ByteLimit(options.limit_bytes)
        budget = OutputBudget(self._cut_after)

        async def send(entry: LogEntry) -> None:
            data = limit.take(render(entry, options.timestamps))
            try:
                data = budget.take(data)
            except Cut as cut:  # the fault: part of the output, then the connection is cut
                await _send_data(conn, writer, cut.args[0])
                writer.transport.abort()
                raise ConnectionError("log stream cut (fault)") from None
            await _send_data(conn, writer, data)

        for entry in initial(entries, options):
            await send(entry)
            if limit.exhausted():
                break
        followed = options.follow and not options.previous and not limit.exhausted()
        if followed:
            await self._follow(send, reader, container, len(entries), limit)
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        return not followed

    async def _follow(
        self,
        send: Callable[[LogEntry], Awaitable[None]],
        reader: asyncio.StreamReader,
        container: TestContainer,
        seen: int,
        limit: ByteLimit,
    ) -> None:
        """New lines as they are logged, until the container ends or restarts or the peer goes."""
        instance = container.instance
        gone = asyncio.ensure_future(reader.read(1))
        try:
            while not limit.exhausted():
                changed = container.changed()
                if container.instance != instance:
                    changed.cancel()
                    return
                new = container.entries_after(seen)
                if new:
                    changed.cancel()
                    seen += len(new)
                    for entry in new:
                        await send(entry)
                        if limit.exhausted():
                            return
                    continue
                if container.exit_code is not None:
                    changed.cancel()
                    return
                waiting: list[asyncio.Future[Any]] = [changed, gone]
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if gone.done():
                    changed.cancel()
                    raise ConnectionError("the API server closed the log stream")
        finally:
            gone.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await gone

    # ----- streams (exec, attach, portforward) ------------------------------------------------

    async def start_exec_process(
        self, container: TestContainer, command: Sequence[str], options: StreamOptions
    ) -> ContainerProcess:
        if not command:
            raise FileNotFoundError("no command given")
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(container.workdir),
            "HOSTNAME": container.pod.name,
            "TERM": "xterm" if options.tty else "dumb",
        }
        process = await ContainerProcess.start(
            command, stdin=options.stdin, tty=options.tty, cwd=container.workdir, env=env
        )
        self._processes.add(process)
        waiter = asyncio.ensure_future(process.wait())
        waiter.add_done_callback(lambda _: self._processes.discard(process))
        self._tasks.add(waiter)
        waiter.add_done_callback(self._tasks.discard)
        return process

    def active_processes(self) -> int:
        """How many processes (exec commands and main processes) are running now."""
        return len(self._processes)

    async def _stream(
        self,
        conn: h11.Connection,
        request: h11.Request,
        recorded: KubeletRequest,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        kind: str,
        target: list[str],
    ) -> None:
        container_name = target[2] if len(target) == 3 else None
        pod, container = self._find(target[0], target[1], container_name)
        options: StreamOptions | None = None
        if kind != "portforward":
            try:
                options = StreamOptions.parse(recorded.query)
            except ValueError as exc:
                raise HttpError(400, str(exc)) from None
        if self._upgrade_failure is not None:
            status, message = self._upgrade_failure
            raise HttpError(status, message)
        upgrade = (header(request, "upgrade") or "").lower()
        if upgrade.startswith("spdy/"):
            if self.spdy_handler is None:
                raise HttpError(400, "the test kubelet has no SPDY handler plugged in")
            await self.spdy_handler(
                StreamUpgrade(
                    kind,
                    request,
                    recorded.query,
                    pod,
                    container,
                    options,
                    conn,
                    reader,
                    writer,
                    self,
                )
            )
            return
        if not is_websocket(request):
            raise HttpError(400, "Upgrade request required")
        ports: list[int] = []
        if kind == "portforward":
            try:
                ports = parse_ports(recorded.query)
            except ValueError as exc:
                raise HttpError(400, str(exc)) from None
        main = container.main if container is not None else None
        if kind == "attach" and (main is None or main.finished):
            raise HttpError(
                400, f"container {container_name} in pod {target[1]} has no running main process"
            )
        supported = PORTFORWARD_PROTOCOLS if kind == "portforward" else SUPPORTED_PROTOCOLS
        protocol = choose_protocol(request, supported)
        if protocol is None:
            raise HttpError(403, "requested protocol(s) are not supported")
        ws = await ServerWebSocket.accept(conn, request, reader, writer, protocol)
        if kind == "portforward":
            await serve_portforward(ws, ports, pod.ip, pod.name, self._cut_after)
            return
        if kind == "attach":
            assert main is not None and options is not None
            await serve_attach(ws, options, main, self._cut_after)
            return
        if kind == "exec":
            assert container is not None and options is not None
            command = recorded.query.get("command", [])
            stream_options = options

            async def start() -> ContainerProcess:
                assert container is not None
                return await self.start_exec_process(container, command, stream_options)

            await serve_exec(ws, options, start, self._cut_after)


# ----- HTTP helpers ------------------------------------------------------------------------


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> tuple[h11.Request, bytes] | None:
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await reader.read(65536)
            conn.receive_data(data)
            if not data and request is None:
                return None
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > _MAX_BODY:
                raise HttpError(413, "request body too large")
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


async def _respond(
    conn: h11.Connection,
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    headers: Sequence[tuple[str, str]] = (("Content-Type", "text/plain; charset=utf-8"),),
) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw = [(k, v) for k, v in raw if k.lower() != b"content-length"]
    raw.append((b"Content-Length", str(len(body)).encode()))
    writer.write(conn.send(h11.Response(status_code=status, headers=raw)) or b"")
    if body:
        writer.write(conn.send(h11.Data(data=body)) or b"")
    writer.write(conn.send(h11.EndOfMessage()) or b"")
    await writer.drain()


async def _send_data(conn: h11.Connection, writer: asyncio.StreamWriter, data: bytes) -> None:
    if data:
        writer.write(conn.send(h11.Data(data=data)) or b"")
        await writer.drain()


def _log_options(query: Mapping[str, list[str]]) -> LogOptions:
    def one(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    def integer(name: str) -> int | None:
        value = one(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise HttpError(400, f"invalid {name} {value!r}") from None

    since_ns: int | None = None
    seconds = integer("sinceSeconds")
    if seconds is not None:
        since_ns = time.time_ns() - seconds * 1_000_000_000
    since_time = one("sinceTime")
    if since_time is not None:
        try:
            moment = datetime.datetime.fromisoformat(since_time.replace("Z", "+00:00"))
        except ValueError:
            raise HttpError(400, f"invalid sinceTime {since_time!r}") from None
        since_ns = int(moment.timestamp() * 1_000_000_000)
    return LogOptions(
        follow=one("follow") == "true",
        previous=one("previous") == "true",
        timestamps=one("timestamps") == "true",
        since_ns=since_ns,
        tail_lines=integer("tailLines"),
        limit_bytes=integer("limitBytes"),
    )
