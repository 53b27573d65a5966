"""A container's main process, and attach to it over WebSocket.

`TestContainer.run` starts the container's long-running main process (a host process, pipes or a
terminal). Its output is appended to the container's log, line by line, and copied to every
attached session; when it exits the container is reported Terminated with its exit code. attach
(the kubelet's ServeAttach) streams that output to the client and the client's stdin to the
process; a v5 close of stdin closes the process's stdin (as ``stdinOnce`` does), a client that just
goes away only detaches. As the kubelet, attach ends with a Success status when the output ends,
whatever the exit code (the code is in the container's status, not in the attach stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from .kubelet_exec import (
    Cut,
    OutputBudget,
    StreamOptions,
    open_streams,
    pump_input,
    send_output,
    send_status,
    success_status,
)
from .kubelet_process import EOF_MARK, ContainerProcess
from .kubelet_ws import ServerWebSocket

if TYPE_CHECKING:
    from .kubelet_pods import TestContainer

_log = logging.getLogger("tests.harness.kubelet")


class MainProcess:
    """The main process of one container instance, shared by its attached sessions."""

    def __init__(self, container: TestContainer, process: ContainerProcess) -> None:
        self.container = container
        self.process = process
        self._subscribers: set[asyncio.Queue[tuple[str, bytes] | None]] = set()
        self._partial: dict[str, bytes] = {}
        self.finished = False
        self.exit_code: int | None = None
        self._task = asyncio.ensure_future(self._run())

    def subscribe(self) -> asyncio.Queue[tuple[str, bytes] | None]:
        queue: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()
        if self.finished:
            queue.put_nowait(EOF_MARK)
        else:
            self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, bytes] | None]) -> None:
        self._subscribers.discard(queue)

    def _log_output(self, stream: str, data: bytes) -> None:
        buffered = self._partial.get(stream, b"") + data
        *lines, rest = buffered.split(b"\n")
        for line in lines:
            self.container.log(line + b"\n", stream)
        self._partial[stream] = rest

    async def _run(self) -> None:
        try:
            while True:
                item = await self.process.output.get()
                if item is EOF_MARK:
                    break
                self._log_output(*item)
                for queue in list(self._subscribers):
                    queue.put_nowait(item)
            for stream, rest in self._partial.items():
                if rest:
                    self.container.log(rest, stream)
            self.exit_code = await self.process.wait()
        finally:
            self.finished = True
            self.process.close()
            for queue in list(self._subscribers):
                queue.put_nowait(EOF_MARK)
            self._subscribers.clear()
        loop = asyncio.get_running_loop()
        # Reporting the status is a blocking API call: not on the kubelet's loop.
        await loop.run_in_executor(None, self.container.terminate, self.exit_code)

    def kill(self) -> None:
        self.process.kill()


async def serve_attach(
    ws: ServerWebSocket,
    options: StreamOptions,
    main: MainProcess,
    cut_after: int | None = None,
) -> None:
    """One attach session, until the main process's output ends or the client goes away."""
    await open_streams(ws, options)
    queue = main.subscribe()
    budget = OutputBudget(cut_after)
    process = main.process

    async def detach() -> None:
        return None

    inputs = asyncio.ensure_future(
        pump_input(
            ws,
            process.write_stdin,
            detach,
            process.resize,
            options.stdin,
            close_stdin=process.close_stdin,
        )
    )
    output = asyncio.ensure_future(_forward(ws, options, queue, budget))
    try:
        await asyncio.wait([inputs, output], return_when=asyncio.FIRST_COMPLETED)
        if output.done():
            error = output.exception()
            if isinstance(error, Cut):
                ws.abort()
                return
            if error is None:
                await send_status(ws, success_status())
                await ws.close()
    except (ConnectionError, OSError) as exc:
        _log.info("attach stream ended early: %s", exc)
    finally:
        main.unsubscribe(queue)
        inputs.cancel()
        output.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await output


async def _forward(
    ws: ServerWebSocket,
    options: StreamOptions,
    queue: asyncio.Queue[tuple[str, bytes] | None],
    budget: OutputBudget,
) -> None:
    while True:
        item = await queue.get()
        if item is EOF_MARK:
            return
        await send_output(ws, options, item[0], item[1], budget)
