"""client-go as a peer of the cluster benchmarks: find its program and drive it.

``scripts/build-clientgo-bench.sh`` (run by ``make bench``) builds
``benchmarks/clientgo/main.go`` against the client-go that kube-apiserver v1.20.2's source
tree vendors and caches the binary under a key made of the Kubernetes version and the
SHA-256 of ``main.go``; :func:`locate` computes the same path, so an edited program is never
measured with a stale binary. When there is no binary, :func:`locate` says why (the build
script's last failure, or that it has not run) and the suites report client-go as
"not built" with that reason while every other contender still runs.

The program takes the connection settings (the token included) as one JSON line on stdin,
never on its command line. It times its calls itself, so the pipe is not part of a number.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from . import ROOT

KUBERNETES_VERSION = "v1.20.2"
CLIENT_GO_VERSION = "v0.20.2"
PROGRAM = ROOT / "benchmarks" / "clientgo" / "main.go"
BINARY_NAME = "kubecodegen-clientgo-bench"
FORMATS = ("json", "protobuf")
#: Seconds one informer run or one list answer may take before the peer counts as failed.
TIMEOUT = 300.0


def label(format_: str) -> str:
    """The contender's name in the report."""
    wire = {"json": "JSON", "protobuf": "protobuf"}[format_]
    return f"client-go {CLIENT_GO_VERSION}, {wire}"


def _cache_dir() -> Path:
    if str(ROOT) not in sys.path:  # the harness lives in the checkout's tests/ package
        sys.path.insert(0, str(ROOT))
    path: Path = importlib.import_module("tests.harness.assets").cache_dir()
    return path / f"clientgo-bench-{KUBERNETES_VERSION}"


def program_key(program: Path = PROGRAM) -> str:
    """The cache key of a program text: the build script uses ``sha256sum | cut -c1-16``."""
    return hashlib.sha256(program.read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class Build:
    """The binary to run, or why there is none (``binary`` is None then)."""

    binary: Path | None
    detail: str  # build information, or the reason it is missing


def locate(cache: Path | None = None, program: Path = PROGRAM) -> Build:
    """The cached binary for the current ``main.go``, or the reason it is unavailable."""
    cache = _cache_dir() if cache is None else cache
    folder = cache / program_key(program)
    binary = folder / BINARY_NAME
    if binary.is_file() and os.access(binary, os.X_OK):
        info = folder / "build-info.txt"
        return Build(binary, info.read_text().strip() if info.is_file() else "built")
    failure = cache / "last-failure.txt"
    if failure.is_file():
        return Build(None, f"build failed: {failure.read_text().strip()}")
    return Build(None, f"no binary for this main.go at {binary}; run "
                       "scripts/build-clientgo-bench.sh (make bench does)")


def settings(server: str, ca_file: str, token: str, namespace: str, expected: int) -> str:
    """The first stdin line the program reads."""
    return json.dumps({"server": server, "ca_file": ca_file, "token": token,
                       "namespace": namespace, "expected": expected})


class ListServer:
    """One long-lived ``list <format>`` process: clients made once, connections kept alive,
    as the Python contenders of the list benchmark run. Each :meth:`list` is one
    ``Pods(ns).List`` with no limit, timed inside the program."""

    def __init__(self, binary: Path, format_: str, settings_line: str) -> None:
        self._process = subprocess.Popen(
            [str(binary), "list", format_], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        self._stdin: IO[str] = _stream(self._process.stdin)
        self._stdout: IO[str] = _stream(self._process.stdout)
        self._stdin.write(settings_line + "\n")
        self._stdin.flush()

    def list(self, memory: bool = False) -> dict[str, Any]:
        """One list; ``memory`` also measures Go's live heap with the list held."""
        self._stdin.write(json.dumps({"memory": memory}) + "\n")
        self._stdin.flush()
        line = self._stdout.readline()
        if not line:
            self._process.wait(timeout=TIMEOUT)
            raise RuntimeError(f"client-go list program exited {self._process.returncode}: "
                               f"{_stream(self._process.stderr).read()[-2000:]}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self._process.poll() is None:
            self._stdin.close()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> ListServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def sync_informer(binary: Path, format_: str, settings_line: str) -> dict[str, Any]:
    """One fresh ``informer <format>`` process: start, synced, memory, stop."""
    done = subprocess.run([str(binary), "informer", format_], input=settings_line + "\n",
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"client-go informer ({format_}) failed (exit {done.returncode}): "
                           f"{done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


def served_as(requests: list[dict[str, Any]]) -> str:
    """How the server answered, e.g. ``protobuf, gzip``: shows the format took effect."""
    kinds = set()
    for request in requests:
        content_type = str(request.get("content_type", ""))
        wire = ("protobuf" if "protobuf" in content_type
                else "JSON" if "json" in content_type else content_type or "?")
        kinds.add(f"{wire}, {'gzip' if request.get('gzip') else 'identity'}")
    return "; ".join(sorted(kinds)) or "no response seen"


def _stream(stream: IO[str] | None) -> IO[str]:
    if stream is None:
        raise RuntimeError("the client-go program's pipe is missing")
    return stream
