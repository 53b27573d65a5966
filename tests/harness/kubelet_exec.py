"""exec and attach over WebSocket: the kubelet's remotecommand server side (channel.k8s.io).

Channels as the kubelet's (pkg/kubelet/cri/streaming/remotecommand/websocket.go): 0 stdin (from
the client), 1 stdout, 2 stderr, 3 error (the final `metav1.Status`), 4 resize (JSON
``{"Width": w, "Height": h}`` from the client); ``v5.channel.k8s.io`` adds 255 close, whose
frame ``[255, 0]`` closes stdin. On opening, the kubelet writes one empty frame on the first
requested output channel (stdout, else stderr, else error). At the end, v4/v5 send the Status
JSON on channel 3 (Success; Failure with reason NonZeroExitCode and a cause ExitCode; or an
InternalError when the command could not run); the legacy protocols send only a failure's
message text. Then a normal close frame.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .kubelet_process import EOF_MARK, ContainerProcess
from .kubelet_ws import ServerWebSocket

_log = logging.getLogger("tests.harness.kubelet")

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
#: Binary protocols only (base64 ones are not offered by any client we test).
SUPPORTED_PROTOCOLS = (V5, V4, "channel.k8s.io", "")

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


@dataclass(frozen=True)
class StreamOptions:
    """The query flags of /exec and /attach (``input``, ``output``, ``error``, ``tty``)."""

    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    @classmethod
    def parse(cls, query: Mapping[str, Sequence[str]]) -> StreamOptions:
        """The flags, or ValueError with the kubelet's message when they are inconsistent."""

        def flag(*names: str) -> bool:
            return any(value in ("1", "true", "True") for n in names for value in query.get(n, ()))

        options = cls(
            stdin=flag("input", "stdin"),
            stdout=flag("output", "stdout"),
            stderr=flag("error", "stderr"),
            tty=flag("tty"),
        )
        if not (options.stdin or options.stdout or options.stderr):
            raise ValueError("you must specify at least 1 of stdin, stdout, stderr")
        if options.tty and options.stderr:
            raise ValueError("stdout/stderr: tty and stderr cannot both be true")
        return options


def success_status() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def exit_status(code: int) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: exit status {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_error_status(message: str) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }


class Cut(Exception):
    """A fault: the stream is cut mid-way."""


async def send_status(ws: ServerWebSocket, status: Mapping[str, Any]) -> None:
    if ws.subprotocol in (V4, V5):
        await ws.send_frame(ERROR, json.dumps(status, separators=(",", ":")).encode())
    elif status.get("status") != "Success":
        await ws.send_frame(ERROR, str(status.get("message", "")).encode())


async def open_streams(ws: ServerWebSocket, options: StreamOptions) -> None:
    """The kubelet's first, empty frame, which tells the client the streams are ready."""
    channel = STDOUT if options.stdout else STDERR if options.stderr else ERROR
    await ws.send_frame(channel, b"")


async def pump_input(
    ws: ServerWebSocket,
    write: Callable[[bytes], Awaitable[None]],
    close: Callable[[], Awaitable[None]],
    resize: Callable[[int, int], None],
    stdin: bool,
    close_stdin: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Client frames to the process until the client closes (then ``close`` is called).

    A v5 close of stdin calls ``close_stdin`` (default: ``close``): exec closes the process's
    stdin either way; attach only on an explicit close, a client that goes away just detaches."""
    while True:
        frame = await ws.recv_frame()
        if frame is None:
            await close()
            return
        channel, data = frame
        if channel == STDIN and stdin:
            await write(data)
        elif channel == RESIZE:
            try:
                size = json.loads(data)
                resize(int(size["Width"]), int(size["Height"]))
            except (ValueError, KeyError, TypeError) as exc:
                _log.warning("bad resize frame %r: %s", data[:100], exc)
        elif channel == CLOSE and ws.subprotocol == V5 and data[:1] == bytes([STDIN]):
            await (close_stdin or close)()


class OutputBudget:
    """``cut_after``: how many output bytes may pass before the connection is cut."""

    def __init__(self, cut_after: int | None) -> None:
        self.remaining = cut_after

    def take(self, data: bytes) -> bytes:
        if self.remaining is None:
            return data
        if len(data) >= self.remaining:
            part = data[: self.remaining]
            self.remaining = 0
            raise Cut(part)
        self.remaining -= len(data)
        return data


async def send_output(
    ws: ServerWebSocket, options: StreamOptions, stream: str, data: bytes, budget: OutputBudget
) -> None:
    channel = STDOUT if stream == "stdout" or options.tty else STDERR
    if (channel == STDOUT and not options.stdout) or (channel == STDERR and not options.stderr):
        return
    try:
        data = budget.take(data)
    except Cut as cut:
        if cut.args[0]:
            await ws.send_frame(channel, cut.args[0])
        raise
    await ws.send_frame(channel, data)


async def serve_exec(
    ws: ServerWebSocket,
    options: StreamOptions,
    start: Callable[[], Awaitable[ContainerProcess]],
    cut_after: int | None = None,
) -> None:
    """Run one exec session to its end (the caller closes the TCP connection)."""
    await open_streams(ws, options)
    try:
        process = await start()
    except OSError as exc:
        await send_status(ws, internal_error_status(f"error executing command in container: {exc}"))
        await ws.close()
        return
    budget = OutputBudget(cut_after)

    async def client_gone() -> None:
        # The client went away: its command must not outlive the session (as a container
        # runtime ends an exec whose streams are gone).
        await process.close_stdin()
        if ws.remote_closed:
            process.kill()

    inputs = asyncio.ensure_future(
        pump_input(
            ws,
            process.write_stdin,
            client_gone,
            process.resize,
            options.stdin,
            close_stdin=process.close_stdin,
        )
    )
    try:
        while True:
            item = await process.output.get()
            if item is EOF_MARK:
                break
            await send_output(ws, options, item[0], item[1], budget)
        code = await process.wait()
        await send_status(ws, success_status() if code == 0 else exit_status(code))
        await ws.close()
    except Cut:
        ws.abort()
    except (ConnectionError, OSError) as exc:
        _log.info("exec stream ended early: %s", exc)
    finally:
        inputs.cancel()
        process.kill()
        process.close()
