"""The test kubelet's pods and containers: what a test writes to, what the kubelet serves.

A `KubeletPod` is a real Pod object in the API server, bound to the test node, whose status the
kubelet reports through the ``status`` subresource (Running, a podIP, one status per container).
Its containers are not isolated: each has a private folder as working directory, and what runs
"in" it is a host process. Logs are buffers the test appends to from any thread; a following
reader on the kubelet's event loop is woken by `log`. `restart` keeps the current log as the
*previous* instance's (``?previous=true``) and counts ``restartCount`` up, as the kubelet does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .kubelet_logs import LogEntry
from .kubelet_servers import (
    HttpHandler,
    HttpRecord,
    PodServer,
    echo,
    echo_http,
    http_server,
    tcp_server,
)

if TYPE_CHECKING:
    import socket

    from .kubelet import TestKubelet
    from .kubelet_attach import MainProcess


class TestContainer:
    """One container of a `KubeletPod`: its log buffers, state and working folder."""

    __test__ = False

    def __init__(self, pod: KubeletPod, name: str, workdir: Path) -> None:
        self.pod = pod
        self.name = name
        self.workdir = workdir
        self.restart_count = 0
        self.exit_code: int | None = None  # set when the container has terminated
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []
        self._previous: list[LogEntry] | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        #: Incremented at each restart, so a follower of the old instance stops.
        self.instance = 0
        self.started_at = time.time()
        #: The long-running main process that attach attaches to (see `run`).
        self.main: MainProcess | None = None

    def __repr__(self) -> str:
        return f"TestContainer({self.pod.namespace}/{self.pod.name}/{self.name})"

    # ----- the test's side -------------------------------------------------------------------

    def log(self, text: str | bytes, stream: str = "stdout") -> None:
        """Append one line (a newline is added unless ``text`` ends with one)."""
        data = text.encode() if isinstance(text, str) else text
        if not data.endswith(b"\n"):
            data += b"\n"
        with self._lock:
            self._entries.append(LogEntry(time.time_ns(), stream, data))
        self._wake()

    def run(self, command: Sequence[str], *, tty: bool = False) -> None:
        """Start the container's main process (host process; its output goes to the log and to
        attached sessions; its exit terminates the container)."""
        self.pod.kubelet.start_main(self, command, tty=tty)

    def restart(self) -> None:
        """A new instance: the current log becomes the previous one; the new one starts empty."""
        with self._lock:
            self._previous = self._entries
            self._entries = []
            self.restart_count += 1
            self.instance += 1
            self.exit_code = None
            self.started_at = time.time()
        self._wake()
        self.pod.report_status()

    def terminate(self, exit_code: int = 0) -> None:
        """The container's process ended: followers stop, the status says Terminated."""
        with self._lock:
            self.exit_code = exit_code
        self._wake()
        self.pod.report_status()

    # ----- the kubelet's side ------------------------------------------------------------------

    def entries(self, previous: bool = False) -> list[LogEntry] | None:
        with self._lock:
            if previous:
                return None if self._previous is None else list(self._previous)
            return list(self._entries)

    def entries_after(self, count: int) -> list[LogEntry]:
        with self._lock:
            return self._entries[count:]

    def changed(self) -> asyncio.Future[None]:
        """A future on the running loop that completes at the next log line or state change."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiters.append((loop, future))
        return future

    def _wake(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_complete, future)

    def status(self) -> dict[str, Any]:
        started = _rfc3339(self.started_at)
        state: dict[str, Any]
        if self.exit_code is None:
            state = {"running": {"startedAt": started}}
        else:
            state = {
                "terminated": {
                    "exitCode": self.exit_code,
                    "reason": "Completed" if self.exit_code == 0 else "Error",
                    "startedAt": started,
                    "finishedAt": _rfc3339(time.time()),
                }
            }
        return {
            "name": self.name,
            "ready": self.exit_code is None,
            "started": self.exit_code is None,
            "restartCount": self.restart_count,
            "image": "kubecodegen.test/host:latest",
            "imageID": "kubecodegen.test/host@sha256:" + "0" * 64,
            "containerID": f"kubecodegen://{self.pod.uid}-{self.name}-{self.instance}",
            "state": state,
        }


def _complete(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _rfc3339(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


class KubeletPod:
    """A Running pod on the test node, with a handle on each of its containers."""

    def __init__(
        self,
        kubelet: TestKubelet,
        obj: dict[str, Any],
        container_names: Sequence[str],
        ip: str,
        workdir: Path,
    ) -> None:
        self.kubelet = kubelet
        self.namespace: str = obj["metadata"]["namespace"]
        self.name: str = obj["metadata"]["name"]
        self.uid: str = obj["metadata"]["uid"]
        #: The podIP: where the pod's "containers" listen (the kubelet's address).
        self.ip = ip
        self.workdir = workdir
        self._containers = {
            name: TestContainer(self, name, _mkdir(workdir / name)) for name in container_names
        }
        self.on_status: Callable[[KubeletPod], None] | None = None
        self._servers: list[PodServer] = []
        #: Requests received by the pod's HTTP servers (`serve_http`), oldest first.
        self.http_requests: list[HttpRecord] = []

    def __repr__(self) -> str:
        return f"KubeletPod({self.namespace}/{self.name}, ip={self.ip})"

    def container(self, name: str | None = None) -> TestContainer:
        """A container by name; without one, the only container."""
        if name is None:
            if len(self._containers) != 1:
                raise ValueError(f"pod {self.name} has several containers: name one")
            return next(iter(self._containers.values()))
        return self._containers[name]

    def has_container(self, name: str) -> bool:
        return name in self._containers

    @property
    def containers(self) -> Iterator[TestContainer]:
        return iter(list(self._containers.values()))

    def listen(self, handler: Callable[[socket.socket], None] = echo, port: int = 0) -> PodServer:
        """A TCP server of the pod on ``ip`` (port 0: any free one); default: echo. Each
        connection runs ``handler(socket)`` on a thread of its own."""
        server = tcp_server(self.ip, port, handler)
        self._servers.append(server)
        return server

    def serve_http(self, handler: HttpHandler = echo_http, port: int = 0) -> PodServer:
        """An HTTP/1.1 server of the pod on ``ip``; the default handler answers each request
        with its method, path (and query), headers and body as JSON."""
        server = http_server(self.ip, port, handler, self.http_requests)
        self._servers.append(server)
        return server

    def expose(
        self,
        port: int,
        *,
        name: str | None = None,
        service_port: int | None = None,
        port_name: str = "http",
    ) -> str:
        """Create a Service for the pod's ``port`` and its Endpoints (no endpoints controller
        runs, so the harness writes them, pointing at ``ip``); returns the Service's name. The
        Service has no selector, so nothing else ever rewrites the Endpoints."""
        return self.kubelet.expose(self, port, name, service_port or port, port_name)

    def close(self) -> None:
        """Stop the pod's servers and main processes (the Pod object stays)."""
        while self._servers:
            self._servers.pop().close()
        for container in self._containers.values():
            if container.main is not None:
                container.main.kill()

    def restart_container(self, name: str | None = None) -> None:
        self.container(name).restart()

    def report_status(self) -> None:
        if self.on_status is not None:
            self.on_status(self)

    def status(self, host_ip: str) -> dict[str, Any]:
        statuses = [container.status() for container in self._containers.values()]
        running = all(container.exit_code is None for container in self._containers.values())
        ready = "True" if running else "False"
        now = _rfc3339(time.time())
        return {
            "phase": "Running",
            "hostIP": host_ip,
            "podIP": self.ip,
            "podIPs": [{"ip": self.ip}],
            "startTime": now,
            "conditions": [
                {
                    "type": kind,
                    "status": ready if kind in ("Ready", "ContainersReady") else "True",
                    "lastTransitionTime": now,
                }
                for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": statuses,
        }


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
