"""pods/exec (and attach) through kube-apiserver 1.20 to the test kubelet, sync and async.

The API server authenticates us, upgrades the connection and proxies it to the test kubelet
(tests/harness/kubelet.py), which runs each command for real as a host process, so the bytes,
exit codes, stdin and terminal sizes here are a real process's.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.generated_packages import import_reference
from tests.harness.cluster import TestCluster
from tests.harness.kubelet import TestKubelet
from tests.harness.kubelet_pods import KubeletPod

kube = import_reference("kube_v1_20")
from kube_v1_20 import AsyncClientset, Clientset  # noqa: E402

from kubecodegen_runtime import errors  # noqa: E402
from kubecodegen_runtime.client import ExecSession  # noqa: E402
from kubecodegen_runtime.streams import ExecError, StreamInterrupted  # noqa: E402
from kubecodegen_runtime.streams.exec import session_params  # noqa: E402
from kubecodegen_runtime.websocket import UpgradeRefused, connect  # noqa: E402

pytestmark = pytest.mark.cluster

#: Generous upper bound for one command (the kubelet runs them in milliseconds).
TIMEOUT = 60.0


@pytest.fixture
def cs(cluster: TestCluster) -> Iterator[Any]:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as clientset:
        yield clientset


def pods(cs: Any, pod: KubeletPod) -> Any:
    return cs.core_v1.pods(pod.namespace)


def test_echo_stdout_stderr_exit_code(cs: Any, kubelet_pod: KubeletPod) -> None:
    result = pods(cs, kubelet_pod).exec(
        kubelet_pod.name, ["sh", "-c", "printf 'hello\\n'; printf oops >&2; exit 7"],
        timeout=TIMEOUT)
    assert (result.stdout, result.stderr, result.exit_code) == (b"hello\n", b"oops", 7)
    ok = pods(cs, kubelet_pod).exec(kubelet_pod.name, ["true"], container="main", timeout=TIMEOUT)
    assert (ok.stdout, ok.stderr, ok.exit_code) == (b"", b"", 0)


def test_every_byte_value_and_large_output(cs: Any, kubelet_pod: KubeletPod) -> None:
    every = pods(cs, kubelet_pod).exec(
        kubelet_pod.name,
        ["python3", "-c", "import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)"],
        timeout=TIMEOUT)
    assert every.stdout == bytes(range(256)) * 4 and every.exit_code == 0
    size = 6 * 1024 * 1024
    large = pods(cs, kubelet_pod).exec(kubelet_pod.name, ["head", "-c", str(size), "/dev/urandom"],
                                       timeout=TIMEOUT)
    assert len(large.stdout) == size and large.exit_code == 0


def test_stdin_to_cat_round_trips_megabytes(cs: Any, kubelet_pod: KubeletPod) -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB: more than the pipes hold, in both directions
    result = pods(cs, kubelet_pod).exec(kubelet_pod.name, ["cat"], stdin=payload, timeout=TIMEOUT)
    assert hashlib.sha256(result.stdout).hexdigest() == hashlib.sha256(payload).hexdigest()
    assert result.exit_code == 0


def test_tty_and_resize_in_a_session(cs: Any, kubelet_pod: KubeletPod) -> None:
    session = pods(cs, kubelet_pod).stream_exec(
        kubelet_pod.name, ["sh", "-c", "read x; stty size"], stdin=True, tty=True)
    with session:
        assert session.subprotocol == "v5.channel.k8s.io"
        session.resize(101, 23)
        session.send_stdin(b"go\n")
        output = b"".join(data for channel, data in session if channel == "stdout")
        assert session.wait() == 0
    assert b"23 101" in output


def test_a_command_that_cannot_run_is_an_exec_error(cs: Any, kubelet_pod: KubeletPod) -> None:
    with pytest.raises(ExecError) as caught:
        pods(cs, kubelet_pod).exec(kubelet_pod.name, ["/no/such/binary"], timeout=TIMEOUT)
    assert caught.value.status is not None
    assert caught.value.status["reason"] == "InternalError"


def test_refused_upgrade_is_typed(cs: Any, kubelet: TestKubelet, kubelet_pod: KubeletPod) -> None:
    kubelet.fail_upgrades(403, "no exec for you")
    with pytest.raises(UpgradeRefused) as caught:
        pods(cs, kubelet_pod).exec(kubelet_pod.name, ["true"], timeout=TIMEOUT)
    assert isinstance(caught.value, errors.Forbidden)
    assert "no exec for you" in caught.value.message


def test_missing_pod_is_not_found(cs: Any, kubelet_pod: KubeletPod) -> None:
    with pytest.raises(errors.NotFound):
        pods(cs, kubelet_pod).exec("no-such-pod", ["true"], timeout=TIMEOUT)


def test_interrupted_stream_is_reported(cs: Any, kubelet: TestKubelet,
                                        kubelet_pod: KubeletPod) -> None:
    kubelet.cut_streams_after(1000)
    session = pods(cs, kubelet_pod).stream_exec(kubelet_pod.name,
                                                ["head", "-c", "100000", "/dev/zero"])
    with session:
        received = sum(len(data) for _, data in session)
        with pytest.raises(StreamInterrupted):
            session.wait()
    assert received == 1000
    assert session.websocket.close_code == 1006


def test_async_exec_stdin_and_exit_code(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    async def main() -> None:
        async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
            client = acs.core_v1.pods(kubelet_pod.namespace)
            result = await client.exec(kubelet_pod.name, ["sh", "-c", "cat; exit 4"],
                                       stdin=bytes(range(256)) * 1000, timeout=TIMEOUT)
            assert result.stdout == bytes(range(256)) * 1000
            assert result.exit_code == 4
            session = await client.stream_exec(kubelet_pod.name, ["sh", "-c", "read x; stty size"],
                                               stdin=True, tty=True)
            async with session:
                await session.resize(80, 12)
                await session.send_stdin(b"\n")
                chunks = [data async for _, data in session]
                assert await session.wait() == 0
            assert b"12 80" in b"".join(chunks)

    asyncio.run(main())


def test_v4_fallback_on_the_real_server(cs: Any, kubelet_pod: KubeletPod) -> None:
    """An older server speaks only v4: the same session works, stdout/stderr/exit code."""
    path = f"/api/v1/namespaces/{kubelet_pod.namespace}/pods/{kubelet_pod.name}/exec"
    params = session_params(command=["sh", "-c", "printf a; printf b >&2; exit 5"],
                            container=None, stdin=False, stdout=True, stderr=True, tty=False)
    ws = connect(cs.rest, path, params, ["v4.channel.k8s.io"])
    with ExecSession(ws) as session:
        assert session.subprotocol == "v4.channel.k8s.io"
        seen = list(session)
        assert session.wait() == 5
    assert b"".join(d for c, d in seen if c == "stdout") == b"a"
    assert b"".join(d for c, d in seen if c == "stderr") == b"b"


# --- attach ------------------------------------------------------------------------------------


def test_attach_with_stdin_until_the_process_ends(cs: Any, kubelet_pod: KubeletPod) -> None:
    kubelet_pod.container("main").run(
        ["sh", "-c", "read line; echo got:$line; echo bad >&2; exit 4"])
    result = pods(cs, kubelet_pod).attach(kubelet_pod.name, stdin=b"hello\n", timeout=TIMEOUT)
    assert (result.stdout, result.stderr) == (b"got:hello\n", b"bad\n")
    # as the kubelet does, attach reports Success: the exit code is in the container status
    assert result.exit_code == 0
    # nothing left to attach to: the kubelet's 400 through the API server
    with pytest.raises(UpgradeRefused) as caught:
        pods(cs, kubelet_pod).attach(kubelet_pod.name, timeout=TIMEOUT)
    assert isinstance(caught.value, errors.BadRequest)


def test_async_stream_attach(cluster: TestCluster, kubelet_pod: KubeletPod) -> None:
    kubelet_pod.container("main").run(["sh", "-c", "read a; echo A$a; read b; echo B$b"])

    async def main() -> None:
        async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
            session = await acs.core_v1.pods(kubelet_pod.namespace).stream_attach(
                kubelet_pod.name, container="main", stdin=True)
            async with session:
                await session.send_stdin(b"1\n")
                outputs = session.__aiter__()
                first = b""
                while not first.endswith(b"\n"):  # the first line, however it is cut
                    channel, data = await outputs.__anext__()
                    assert channel == "stdout"
                    first += data
                assert first == b"A1\n"  # the process answered before it got more input
                await session.send_stdin(b"2\n")
                rest = [data async for _, data in outputs]
                assert await session.wait() == 0
            assert b"".join(rest) == b"B2\n"

    asyncio.run(main())


def test_stdin_the_command_never_reads(cs: Any, cluster: TestCluster,
                                       kubelet_pod: KubeletPod) -> None:
    """The command ends while megabytes of its stdin are still unsent: the session ends
    with the command (the writer is stopped, nothing waits for it), sync and async.

    The server side closes with our unread stdin in its buffers, which TCP may answer with
    a reset that discards the Status still in flight (kubelet -> API server -> us): then the
    honest answer is StreamInterrupted, never a hang or a wrong exit code."""
    big = b"x" * (16 * 1024 * 1024)
    try:
        result = pods(cs, kubelet_pod).exec(kubelet_pod.name, ["sh", "-c", "exit 3"],
                                            stdin=big, timeout=TIMEOUT)
        assert result.exit_code == 3
    except StreamInterrupted:
        pass

    async def main() -> None:
        async with AsyncClientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as acs:
            try:
                done = await acs.core_v1.pods(kubelet_pod.namespace).exec(
                    kubelet_pod.name, ["sh", "-c", "exit 2"], stdin=big, timeout=TIMEOUT)
                assert done.exit_code == 2
            except StreamInterrupted:
                pass

    asyncio.run(main())
