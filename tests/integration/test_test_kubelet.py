"""The test kubelet itself, checked through raw HTTP requests via kube-apiserver.

Other tests build pod streams (exec, attach, port-forward, proxy, logs) on `tests/harness/kubelet`,
so it is proven here first without any of the runtime's stream code: plain httpx requests to the
API server, and WebSocket frames written and parsed by hand (RFC 6455), not by wsproto, which the
kubelet's own side uses.
"""

from __future__ import annotations

import base64
import json
import math
import os
import socket
import ssl
import struct
import threading
import time

import httpcore
import httpx
import pytest

from tests.harness.cluster import TestCluster
from tests.harness.kubelet import NODE_NAME, KubeletResponse, StreamUpgrade, TestKubelet
from tests.harness.kubelet_pods import KubeletPod

pytestmark = pytest.mark.cluster


# ----- a hand-written WebSocket client (RFC 6455) --------------------------------------------


def client_frame(payload: bytes, opcode: int = 2, fin: bool = True) -> bytes:
    """One masked client frame."""
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


class FrameReader:
    """Unmasked server frames from a raw byte stream: (opcode, payload) per message."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._buffer = b""

    def _need(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self._stream.read(65536)
            if not chunk:
                raise EOFError("connection closed")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def frame(self) -> tuple[int, bytes]:
        first, second = self._need(2)
        assert second & 0x80 == 0, "server frames must not be masked"
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._need(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._need(8))
        payload = self._need(length) if length else b""
        opcode = first & 0x0F
        if not first & 0x80:  # a fragmented message: gather its continuations
            while True:
                more_first, more = self.frame_raw()
                payload += more
                if more_first & 0x80:
                    break
        return opcode, payload

    def frame_raw(self) -> tuple[int, bytes]:
        first, second = self._need(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._need(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._need(8))
        return first, self._need(length) if length else b""


def upgrade(
    cluster: TestCluster, path: str, params: list[tuple[str, str]], protocols: str
) -> httpx.Response:
    """GET ``path`` with a WebSocket upgrade through the API server (HTTP/1.1)."""
    client = httpx.Client(
        base_url=cluster.server,
        verify=ssl.create_default_context(cafile=str(cluster.ca_file)),
        headers={"Authorization": f"Bearer {cluster.admin_token}"},
        trust_env=False,
        timeout=30.0,
    )
    key = base64.b64encode(os.urandom(16)).decode()
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key,
    }
    if protocols:
        headers["Sec-WebSocket-Protocol"] = protocols
    request = client.build_request(
        "GET", path, params=httpx.QueryParams(tuple(params)), headers=headers
    )
    return client.send(request, stream=True)


def exec_session(
    cluster: TestCluster,
    pod: KubeletPod,
    command: list[str],
    *,
    stdin: bool = False,
    protocols: str = "v4.channel.k8s.io",
    tty: bool = False,
) -> tuple[httpx.Response, httpcore.NetworkStream, FrameReader]:
    params = [("command", part) for part in command] + [("stdout", "true")]
    if not tty:
        params.append(("stderr", "true"))
    if stdin:
        params.append(("stdin", "true"))
    if tty:
        params.append(("tty", "true"))
    response = upgrade(
        cluster, f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}/exec", params, protocols
    )
    assert response.status_code == 101, response.read()
    stream = response.extensions["network_stream"]
    return response, stream, FrameReader(stream)


def collect(reader: FrameReader) -> tuple[dict[int, bytes], list[bytes], tuple[int, bytes]]:
    """Every channel's bytes, the error-channel messages, and the close frame."""
    channels: dict[int, bytes] = {}
    errors: list[bytes] = []
    while True:
        opcode, payload = reader.frame()
        if opcode == 8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            return channels, errors, (code, payload[2:])
        assert opcode == 2, f"unexpected opcode {opcode}"
        channel, data = payload[0], payload[1:]
        if channel == 3:
            errors.append(data)
        channels[channel] = channels.get(channel, b"") + data


# ----- the node ----------------------------------------------------------------------------


def test_node_is_registered_ready_with_kubelet_endpoint(
    cluster: TestCluster, kubelet: TestKubelet
) -> None:
    node = cluster.admin_client().get(f"/api/v1/nodes/{NODE_NAME}").json()
    status = node["status"]
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
    assert status["daemonEndpoints"]["kubeletEndpoint"]["Port"] == kubelet.port
    ready = [c for c in status["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"


def test_pod_is_running_on_the_node(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    pod = (
        cluster.admin_client()
        .get(f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}")
        .json()
    )
    assert pod["spec"]["nodeName"] == NODE_NAME
    assert pod["status"]["phase"] == "Running"
    assert pod["status"]["podIP"] == kubelet_pod.ip
    assert pod["status"]["containerStatuses"][0]["state"]["running"]


def test_node_proxy_reaches_the_kubelet(cluster: TestCluster, kubelet: TestKubelet) -> None:
    api = cluster.admin_client()
    answer = api.get(f"/api/v1/nodes/{NODE_NAME}/proxy/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")
    missing = api.get(f"/api/v1/nodes/{NODE_NAME}/proxy/no-such-path")
    assert missing.status_code == 404


def test_the_kubelet_refuses_clients_without_the_apiserver_certificate(
    cluster: TestCluster, kubelet: TestKubelet
) -> None:
    assert cluster.kubelet_pki is not None
    trust = ssl.create_default_context(cafile=str(cluster.kubelet_pki.ca_file))
    with pytest.raises(httpx.HTTPError):
        # No client certificate: the TLS handshake (or the first read) fails.
        httpx.get(
            f"https://127.0.0.1:{kubelet.port}/healthz", verify=trust, trust_env=False
        ).raise_for_status()


# ----- logs --------------------------------------------------------------------------------


def _log(cluster: TestCluster, pod: KubeletPod, **params: str) -> httpx.Response:
    return cluster.admin_client().get(
        f"/api/v1/namespaces/{pod.namespace}/pods/{pod.name}/log", params=params
    )


def test_logs_tail_limit_timestamps_since(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    main = kubelet_pod.container("main")
    for line in ("one", "two", "three"):
        main.log(line)
    assert _log(cluster, kubelet_pod).text == "one\ntwo\nthree\n"
    assert _log(cluster, kubelet_pod, tailLines="2").text == "two\nthree\n"
    assert _log(cluster, kubelet_pod, limitBytes="6").text == "one\ntw"
    stamped = _log(cluster, kubelet_pod, timestamps="true").text.splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "two", "three"]
    assert all(line.split(" ", 1)[0].endswith("Z") for line in stamped)
    assert _log(cluster, kubelet_pod, sinceSeconds="3600").text == "one\ntwo\nthree\n"
    # sinceTime has whole seconds: log "four" in a later second than the others.
    now = time.time()
    time.sleep(math.ceil(now) - now + 0.01)
    second = math.floor(time.time())
    main.log("four")
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
    assert _log(cluster, kubelet_pod, sinceTime=since).text == "four\n"


def test_logs_previous_after_restart(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    refused = _log(cluster, kubelet_pod, previous="true")
    assert refused.status_code == 400
    assert "previous terminated container" in refused.json()["message"]
    kubelet_pod.container("main").log("before")
    kubelet_pod.restart_container("main")
    kubelet_pod.container("main").log("after")
    assert _log(cluster, kubelet_pod, previous="true").text == "before\n"
    assert _log(cluster, kubelet_pod).text == "after\n"
    pod = (
        cluster.admin_client()
        .get(f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}")
        .json()
    )
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1


def test_logs_follow_streams_lines_as_they_are_logged(
    cluster: TestCluster, kubelet_pod: KubeletPod
) -> None:
    main = kubelet_pod.container("main")
    main.log("first")
    path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}/log"
    with cluster.admin_client().stream("GET", path, params={"follow": "true"}) as response:
        lines = response.iter_lines()
        assert next(lines) == "first"
        main.log("second")
        assert next(lines) == "second"
        threading.Timer(0.2, main.terminate, args=(0,)).start()
        assert list(lines) == []  # the stream ends when the container terminates


def test_logs_cut_mid_way(
    cluster: TestCluster, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    for number in range(100):
        kubelet_pod.container("main").log(f"line {number}")
    whole = _log(cluster, kubelet_pod).text
    kubelet.cut_streams_after(50)
    # kube-apiserver has sent its 200 already: the client sees the body end early.
    assert _log(cluster, kubelet_pod).text == whole[:50]


# ----- exec over WebSocket -----------------------------------------------------------------


def test_exec_v4_stdout_stderr_exit_code(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    response, stream, reader = exec_session(
        cluster, kubelet_pod, ["sh", "-c", "printf out; printf err >&2; exit 3"]
    )
    try:
        assert response.headers["sec-websocket-protocol"] == "v4.channel.k8s.io"
        channels, errors, (code, _) = collect(reader)
    finally:
        stream.close()
    assert channels[1] == b"out" and channels[2] == b"err"
    status = json.loads(errors[-1])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert code == 1000


def test_exec_stdin_binary_and_v5_close(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    payload = bytes(range(256)) * 300  # binary, larger than one read
    response, stream, reader = exec_session(
        cluster, kubelet_pod, ["cat"], stdin=True, protocols="v5.channel.k8s.io,v4.channel.k8s.io"
    )
    try:
        assert response.headers["sec-websocket-protocol"] == "v5.channel.k8s.io"
        stream.write(client_frame(b"\x00" + payload))
        stream.write(client_frame(b"\xff\x00"))  # v5: close stdin
        channels, errors, _ = collect(reader)
    finally:
        stream.close()
    assert channels[1] == payload
    assert json.loads(errors[-1])["status"] == "Success"


def test_exec_tty_resize(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    _, stream, reader = exec_session(
        cluster, kubelet_pod, ["sh", "-c", "read x; stty size"], stdin=True, tty=True
    )
    try:
        stream.write(client_frame(b"\x04" + b'{"Width":91,"Height":17}'))
        stream.write(client_frame(b"\x00go\n"))
        channels, errors, _ = collect(reader)
    finally:
        stream.close()
    assert b"17 91" in channels[1]
    assert json.loads(errors[-1])["status"] == "Success"


def test_exec_missing_command_is_an_internal_error(
    cluster: TestCluster, kubelet_pod: KubeletPod
) -> None:
    _, stream, reader = exec_session(cluster, kubelet_pod, ["/no/such/binary"])
    try:
        _, errors, _ = collect(reader)
    finally:
        stream.close()
    assert json.loads(errors[-1])["reason"] == "InternalError"


def test_exec_faults_refused_upgrade_and_cut_stream(
    cluster: TestCluster, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    kubelet.fail_upgrades(403, "no exec for you")
    params = [("command", "true"), ("stdout", "true")]
    path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}/exec"
    refused = upgrade(cluster, path, params, "v4.channel.k8s.io")
    assert refused.status_code == 403
    assert b"no exec for you" in refused.read()
    kubelet.clear_faults()
    kubelet.cut_streams_after(1000)
    _, stream, reader = exec_session(cluster, kubelet_pod, ["head", "-c", "100000", "/dev/zero"])
    received = 0
    try:
        with pytest.raises(EOFError):
            while True:
                opcode, payload = reader.frame()
                assert opcode == 2, "a cut stream has no close frame"
                received += len(payload) - 1
    finally:
        stream.close()
    assert received == 1000


# ----- attach, port-forward, proxies -------------------------------------------------------


def test_attach_to_the_main_process(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    main = kubelet_pod.container("main")
    main.run(["sh", "-c", "read line; echo got:$line; echo bad >&2; exit 4"])
    params = [("stdin", "true"), ("stdout", "true"), ("stderr", "true")]
    path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}/attach"
    response = upgrade(cluster, path, params, "v5.channel.k8s.io")
    assert response.status_code == 101, response.read()
    stream = response.extensions["network_stream"]
    try:
        stream.write(client_frame(b"\x00hello\n"))
        channels, errors, _ = collect(FrameReader(stream))
    finally:
        stream.close()
    assert channels[1] == b"got:hello\n" and channels[2] == b"bad\n"
    assert json.loads(errors[-1])["status"] == "Success"  # attach reports no exit code
    assert _log(cluster, kubelet_pod).text == "got:hello\nbad\n"
    deadline = time.monotonic() + 20
    pod_path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}"
    while True:
        state = cluster.admin_client().get(pod_path).json()["status"]["containerStatuses"][0]
        if "terminated" in state["state"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert state["state"]["terminated"]["exitCode"] == 4
    refused = upgrade(cluster, path, params, "v5.channel.k8s.io")
    assert refused.status_code == 400  # nothing left to attach to


def test_port_forward_to_a_pod_server(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    server = kubelet_pod.listen()  # echo
    path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}/portforward"
    response = upgrade(cluster, path, [("ports", str(server.port))], "v4.channel.k8s.io")
    assert response.status_code == 101, response.read()
    stream = response.extensions["network_stream"]
    reader = FrameReader(stream)
    port = struct.pack("<H", server.port)
    try:
        assert reader.frame() == (2, b"\x00" + port)
        assert reader.frame() == (2, b"\x01" + port)
        stream.write(client_frame(b"\x00ping"))
        echoed = b""
        while len(echoed) < 4:
            opcode, payload = reader.frame()
            assert (opcode, payload[:1]) == (2, b"\x00")
            echoed += payload[1:]
        assert echoed == b"ping"
        stream.write(client_frame(struct.pack("!H", 1000), opcode=8))
        opcode, _ = reader.frame()
        assert opcode == 8
    finally:
        stream.close()


def test_port_forward_to_a_closed_port_reports_on_the_error_channel(
    cluster: TestCluster, kubelet_pod: KubeletPod
) -> None:
    closed = kubelet_pod.listen()
    port = closed.port
    closed.close()
    path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}/portforward"
    response = upgrade(cluster, path, [("ports", str(port))], "v4.channel.k8s.io")
    assert response.status_code == 101
    stream = response.extensions["network_stream"]
    try:
        channels, _, _ = collect(FrameReader(stream))
    finally:
        stream.close()
    assert channels[1][2:].startswith(f"error forwarding port {port} to pod".encode())


def test_node_proxy_route(cluster: TestCluster, kubelet: TestKubelet) -> None:
    kubelet.route(
        "/stats/summary",
        lambda request: KubeletResponse(
            200, json.dumps({"q": request.query.get("x", [])}).encode(), [("X-Test", "1")]
        ),
    )
    answer = cluster.admin_client().get(
        f"/api/v1/nodes/{NODE_NAME}/proxy/stats/summary", params={"x": "1"}
    )
    assert answer.json() == {"q": ["1"]} and answer.headers["x-test"] == "1"


def test_pod_proxy_reaches_a_pod_http_server(
    cluster: TestCluster, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    if not kubelet.proxyable:
        pytest.skip(kubelet.skip_reason)
    server = kubelet_pod.serve_http()
    answer = cluster.admin_client().get(
        f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}:{server.port}"
        "/proxy/some/path",
        params={"a": "b"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["path"] == "/some/path?a=b"
    assert kubelet_pod.http_requests[-1].method == "GET"


def test_service_proxy_reaches_an_exposed_pod_server(
    cluster: TestCluster, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    if not kubelet.proxyable:
        pytest.skip(kubelet.skip_reason)
    server = kubelet_pod.serve_http()
    service = kubelet_pod.expose(server.port, service_port=80, port_name="web")
    answer = cluster.admin_client().get(
        f"/api/v1/namespaces/{kubelet_pod.namespace}/services/{service}:web/proxy/x"
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["path"] == "/x"


def test_exec_client_going_away_ends_the_command(
    cluster: TestCluster, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    marker = kubelet_pod.container("main").workdir / "still-running"
    _, stream, reader = exec_session(
        cluster, kubelet_pod, ["sh", "-c", f"echo started; sleep 30; touch {marker}"]
    )
    assert reader.frame() == (2, b"\x01")  # the kubelet's opening (empty stdout) frame
    assert reader.frame() == (2, b"\x01started\n")
    stream.write(client_frame(struct.pack("!H", 1000), opcode=8))
    stream.close()
    deadline = time.monotonic() + 20
    while kubelet.active_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kubelet.active_processes() == 0
    assert not marker.exists()


def test_spdy_upgrades_go_to_the_plugged_in_handler(
    cluster: TestCluster, kubelet: TestKubelet, kubelet_pod: KubeletPod
) -> None:
    seen: list[StreamUpgrade] = []

    async def handler(upgrade: StreamUpgrade) -> None:
        seen.append(upgrade)
        await upgrade.switch([("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")])
        upgrade.writer.write(b"spdy-hello")
        await upgrade.writer.drain()

    previous, kubelet.spdy_handler = kubelet.spdy_handler, handler
    client = httpx.Client(
        base_url=cluster.server,
        verify=ssl.create_default_context(cafile=str(cluster.ca_file)),
        headers={"Authorization": f"Bearer {cluster.admin_token}"},
        trust_env=False,
        timeout=30.0,
    )
    path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}/exec"
    try:
        request = client.build_request(
            "POST",
            path,
            params={"command": "true", "stdout": "true"},
            headers={
                "Connection": "Upgrade",
                "Upgrade": "SPDY/3.1",
                "X-Stream-Protocol-Version": "v4.channel.k8s.io",
            },
        )
        response = client.send(request, stream=True)
        assert response.status_code == 101
        stream = response.extensions["network_stream"]
        received = b""
        while len(received) < 10:
            chunk = stream.read(100)
            if not chunk:
                break
            received += chunk
        stream.close()
    finally:
        kubelet.spdy_handler = previous
        client.close()
    assert received == b"spdy-hello"
    assert seen[0].kind == "exec" and seen[0].query["command"] == ["true"]


def test_port_forward_two_ports_in_one_websocket(
    cluster: TestCluster, kubelet_pod: KubeletPod
) -> None:
    def greet(connection: socket.socket) -> None:
        connection.sendall(b"hello from the pod")

    echo_server, greeter = kubelet_pod.listen(), kubelet_pod.listen(greet)
    path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}/portforward"
    ports = f"{echo_server.port},{greeter.port}"
    response = upgrade(cluster, path, [("ports", ports)], "v4.channel.k8s.io")
    assert response.status_code == 101
    stream = response.extensions["network_stream"]
    reader = FrameReader(stream)
    try:
        stream.write(client_frame(b"\x00abc"))
        data: dict[int, bytes] = {}
        while data.get(0, b"")[2:] != b"abc" or data.get(2, b"")[2:] != b"hello from the pod":
            opcode, payload = reader.frame()
            assert opcode == 2
            data[payload[0]] = data.get(payload[0], b"") + payload[1:]
        assert data[0][:2] == struct.pack("<H", echo_server.port)
        assert data[2][:2] == struct.pack("<H", greeter.port)
        assert data[3] == struct.pack("<H", greeter.port)  # opening frame, no error
    finally:
        stream.close()
