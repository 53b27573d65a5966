"""``kubectl exec`` and our ``pods(ns).exec`` run the same commands and give the same bytes.

Both go through the real kube-apiserver v1.20.2 to the test kubelet, which runs each command for
real as a host process: kubectl v1.20.2 (built by scripts/install-test-assets.sh from the same
source as the server) upgrades with SPDY/3.1 (served by tests/harness/kubelet_spdy.py), our
client with WebSocket (channel.k8s.io). So the comparison is of two independent client and
transport stacks over one server, and every case also checks the bytes against what the command
is known to write, so that both being wrong the same way cannot pass.

kubectl adds one line to stderr when the command fails, ``command terminated with exit code N``
(kubectl's CheckErr on the error stream's NonZeroExitCode status); that line is expected, the
rest of stderr must match exactly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubecodegen_runtime.streams import ExecError
from tests.generated_packages import import_reference
from tests.harness.assets import find_kubectl, kubectl_cache_path
from tests.harness.kubelet_spdy import spdy_handler

import_reference("kube_v1_20")
from kube_v1_20 import Clientset  # noqa: E402

pytestmark = pytest.mark.cluster

PY = sys.executable
MB3 = 3 * 1024 * 1024 + 17
#: Deterministic, incompressible-looking bytes: the same on both sides, computed in the process.
RANDOM_BYTES = f"import random; b = random.Random(14).randbytes({MB3})"


@dataclass(frozen=True)
class Case:
    command: tuple[str, ...]
    stdin: bytes | None
    stdout: bytes
    stderr: bytes
    exit_code: int


def _random(n: int) -> bytes:
    import random

    return random.Random(14).randbytes(n)


STDIN_DATA = bytes(range(256)) * 4096 + b"\r\n\x00tail"

CASES = {
    "text": Case(
        ("sh", "-c", "printf 'hello\\nworld\\n'; printf 'a warning\\n' >&2"),
        None,
        b"hello\nworld\n",
        b"a warning\n",
        0,
    ),
    "all-256-bytes": Case(
        (
            PY,
            "-c",
            "import sys; sys.stdout.buffer.write(bytes(range(256))); "
            "sys.stderr.buffer.write(bytes(range(255, -1, -1)))",
        ),
        None,
        bytes(range(256)),
        bytes(range(255, -1, -1)),
        0,
    ),
    "3-megabytes": Case(
        (PY, "-c", f"import sys; {RANDOM_BYTES}; sys.stdout.buffer.write(b); sys.stderr.buffer.write(b[:1000])"),
        None,
        _random(MB3),
        _random(1000),
        0,
    ),
    "stdin": Case(
        (
            PY,
            "-c",
            "import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d[::-1]); "
            "sys.stderr.buffer.write(str(len(d)).encode())",
        ),
        STDIN_DATA,
        STDIN_DATA[::-1],
        str(len(STDIN_DATA)).encode(),
        0,
    ),
    "non-zero-exit": Case(
        ("sh", "-c", "printf out; printf 'it failed\\n' >&2; exit 7"),
        None,
        b"out",
        b"it failed\n",
        7,
    ),
}


@pytest.fixture(scope="module")
def kubectl() -> Path:
    found = find_kubectl()
    if found is None:
        reason = (
            f"kubectl v1.20.2 is not built (looked for TEST_ASSET_KUBECTL, $KUBEBUILDER_ASSETS/kubectl, "
            f"{kubectl_cache_path()}); run `make test-assets`"
        )
        # `make test-assets` builds it unless own binaries replace the build (KUBEBUILDER_ASSETS,
        # TEST_ASSET_KUBE_APISERVER), so in CI its absence is a broken install, not a skip.
        own = os.environ.get("KUBEBUILDER_ASSETS") or os.environ.get("TEST_ASSET_KUBE_APISERVER")
        if os.environ.get("CI") and not own:
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def spdy_kubelet(kubelet: Any) -> Iterator[Any]:
    """The session's test kubelet with the SPDY exec server plugged in (for this test only)."""
    previous = kubelet.spdy_handler
    kubelet.spdy_handler = spdy_handler
    try:
        yield kubelet
    finally:
        kubelet.spdy_handler = previous


@pytest.fixture
def clientset(cluster: Any) -> Iterator[Any]:
    with Clientset.from_kubeconfig(str(cluster.admin_kubeconfig)) as cs:
        yield cs


def run_kubectl(
    kubectl: Path, cluster: Any, pod: Any, command: tuple[str, ...], stdin: bytes | None, cache: Path
) -> subprocess.CompletedProcess[bytes]:
    args = [
        str(kubectl),
        f"--kubeconfig={cluster.admin_kubeconfig}",
        f"--cache-dir={cache}",
        f"--namespace={pod.namespace}",
        "exec",
        *(["--stdin"] if stdin is not None else []),
        pod.name,
        "--",
        *command,
    ]
    # A newer kubectl given as TEST_ASSET_KUBECTL would try WebSocket first (1.29+): keep it on
    # SPDY, which is what this comparison is about (kubectl 1.20 ignores the variable).
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(cache),
        "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false",
    }
    return subprocess.run(  # the generous bound of a hung session, not a measurement
        args, input=stdin if stdin is not None else b"", capture_output=True, env=env, timeout=120, check=False
    )


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_same_bytes_as_kubectl(
    case: Case,
    kubectl: Path,
    cluster: Any,
    spdy_kubelet: Any,
    kubelet_pod: Any,
    clientset: Any,
    tmp_path: Path,
) -> None:
    ours = clientset.core_v1.pods(kubelet_pod.namespace).exec(
        kubelet_pod.name, list(case.command), stdin=case.stdin, timeout=120
    )
    seen = len(spdy_kubelet.requests)
    theirs = run_kubectl(kubectl, cluster, kubelet_pod, case.command, case.stdin, tmp_path)

    # kubectl really spoke SPDY to the kubelet (through the API server), and it was served
    upgrades = [r.header("upgrade") for r in spdy_kubelet.requests[seen:] if r.path.startswith("/exec/")]
    assert upgrades and all((u or "").lower() == "spdy/3.1" for u in upgrades), upgrades

    # each against the truth...
    assert ours.stdout == case.stdout
    assert ours.stderr == case.stderr
    assert ours.exit_code == case.exit_code
    # ...and against each other
    assert theirs.returncode == ours.exit_code, theirs.stderr[-2000:]
    assert theirs.stdout == ours.stdout
    trailer = f"command terminated with exit code {case.exit_code}\n".encode() if case.exit_code else b""
    assert theirs.stderr == ours.stderr + trailer


def test_same_failure_as_kubectl_when_the_command_cannot_start(
    kubectl: Path, cluster: Any, spdy_kubelet: Any, kubelet_pod: Any, clientset: Any, tmp_path: Path
) -> None:
    """No exit code at all: the kubelet's InternalError Status, an error on both sides."""
    command = ("/nonexistent/kubecodegen-command",)
    with pytest.raises(ExecError) as raised:
        clientset.core_v1.pods(kubelet_pod.namespace).exec(kubelet_pod.name, list(command), timeout=120)
    status = raised.value.status
    assert status is not None and status["reason"] == "InternalError"
    assert command[0] in status["message"]
    theirs = run_kubectl(kubectl, cluster, kubelet_pod, command, None, tmp_path)
    # kubectl: CheckErr's "error: " + the Status message, exit code 1
    assert theirs.returncode == 1
    assert theirs.stdout == b""
    assert theirs.stderr == f"error: {status['message']}\n".encode()
