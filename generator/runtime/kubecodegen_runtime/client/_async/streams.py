"""``pods/exec`` and ``pods/attach``: a command's streams over a WebSocket (async).

The shells of :class:`~...streams.exec.ExecProtocol` (which decides every byte):
:class:`AsyncExecSession` is the streaming form, the mixins' ``exec``/``attach`` run a
session to its end and return an :class:`~...streams.channels.ExecResult`. Stdin given
as bytes is written beside the reading of the output (:mod:`...streams.tasks`), so a
command that writes while it reads (``cat`` of megabytes) never waits for us.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType

from ...rest import request as rq
from ...streams import channels
from ...streams.channels import ExecResult, Output
from ...streams.exec import ExecProtocol, OutputCollector, session_params
from ...streams.tasks import AsyncBackground, AsyncTimeLimit
from ...websocket._async.connection import AsyncWebSocket, connect
from .resource import _AsyncScope


class AsyncExecSession:
    """A running exec/attach session; ``async with`` it (the connection is closed at the
    end). Iterate it for ``(channel, data)`` output chunks as they arrive; :meth:`wait`
    reads to the end (dropping output not iterated) and returns the exit code, raising
    :class:`~...streams.channels.ExecError` when the command could not run or the
    stream was cut. ``subprotocol`` is the channel protocol the server chose.
    """

    def __init__(self, ws: AsyncWebSocket) -> None:
        self._ws = ws
        self._protocol = ExecProtocol(ws.subprotocol)
        self._exit_code: int | None = None

    @property
    def subprotocol(self) -> str | None:
        return self._protocol.subprotocol

    @property
    def websocket(self) -> AsyncWebSocket:
        return self._ws

    async def send_stdin(self, data: bytes) -> None:
        for message in self._protocol.stdin(data):
            await self._ws.send(message)

    async def close_stdin(self) -> None:
        """End of input for the command (v5; on v4 only the connection's end is)."""
        message = self._protocol.close_stdin()
        if message is not None:
            await self._ws.send(message)

    async def resize(self, width: int, height: int) -> None:
        """Tell the terminal (``tty=True``) its new size in columns and rows."""
        await self._ws.send(self._protocol.resize(width, height))

    def __aiter__(self) -> AsyncIterator[tuple[Output, bytes]]:
        return self._outputs()

    async def _outputs(self) -> AsyncIterator[tuple[Output, bytes]]:
        while True:
            message = await self._ws.recv()
            if message is None:
                return
            output = self._protocol.receive(message)
            if output is not None:
                yield output

    async def wait(self) -> int:
        """Read to the end; the exit code."""
        if self._exit_code is None:
            async for _ in self._outputs():
                pass
            self._exit_code = self._protocol.finish()
        return self._exit_code

    async def aclose(self) -> None:
        await self._ws.close()

    async def __aenter__(self) -> AsyncExecSession:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


class _AsyncStreams(_AsyncScope):
    """What exec and attach share: open a session, or run one to its end."""

    async def _open(self, name: str, subresource: str, params: list[tuple[str, str]]
                    ) -> AsyncExecSession:
        if self._namespace is None:
            raise ValueError(f"pods/{subresource} needs a namespace-bound client")
        path = rq.resource_path(self.info, self._namespace, name, subresource)
        ws = await connect(self._rest, path, params, channels.PROTOCOLS)
        try:
            return AsyncExecSession(ws)
        except BaseException:
            await ws.close()
            raise

    async def _run(self, session: AsyncExecSession, stdin: bytes | None,
                   timeout: float | None) -> ExecResult:
        ws = session.websocket
        collector = OutputCollector(self._rest.limits.max_response_bytes, "GET",
                                    ws.path)
        async with session, AsyncTimeLimit(timeout, ws.abort, ws.path):
            writer = AsyncBackground(self._feed, session, stdin) if stdin is not None \
                    else None
            try:
                async for name, data in session:
                    collector.add(name, data)
                code = await session.wait()
            except BaseException:
                ws.abort()  # a writer blocked on a peer that stopped reading wakes up
                raise
            finally:
                if writer is not None:
                    await writer.cancel()
        return collector.result(code)

    @staticmethod
    async def _feed(session: AsyncExecSession, data: bytes) -> None:
        await session.send_stdin(data)
        await session.close_stdin()


class AsyncWithExec(_AsyncStreams):
    """``pods/exec``: run a command in a container of a running pod."""

    async def stream_exec(
        self, name: str, command: Sequence[str], *, container: str | None = None,
        stdin: bool = False, stdout: bool = True, stderr: bool = True, tty: bool = False,
    ) -> AsyncExecSession:
        """Start ``command`` and hand back the session (its streams as they flow)."""
        params = session_params(command=command, container=container, stdin=stdin,
                                stdout=stdout, stderr=stderr, tty=tty)
        return await self._open(name, "exec", params)

    async def exec(
        self, name: str, command: Sequence[str], *, container: str | None = None,
        stdin: bytes | None = None, tty: bool = False, timeout: float | None = None,
    ) -> ExecResult:
        """Run ``command`` to its end: its stdout, stderr and exit code (a non-zero exit
        is a result, not an error; a command that could not run raises ExecError).
        ``stdin`` is the command's whole input (closed after it, on v5 servers);
        ``timeout`` bounds the whole session (DeadlineExceeded)."""
        session = await self.stream_exec(name, command, container=container,
                                         stdin=stdin is not None, tty=tty)
        return await self._run(session, stdin, timeout)


class AsyncWithAttach(_AsyncStreams):
    """``pods/attach``: the streams of a container's running main process."""

    async def stream_attach(
        self, name: str, *, container: str | None = None, stdin: bool = False,
        stdout: bool = True, stderr: bool = True, tty: bool = False,
    ) -> AsyncExecSession:
        params = session_params(command=None, container=container, stdin=stdin,
                                stdout=stdout, stderr=stderr, tty=tty)
        return await self._open(name, "attach", params)

    async def attach(
        self, name: str, *, container: str | None = None, stdin: bytes | None = None,
        tty: bool = False, timeout: float | None = None,
    ) -> ExecResult:
        """Attach until the process ends: what it wrote meanwhile and its exit code."""
        session = await self.stream_attach(name, container=container,
                                           stdin=stdin is not None, tty=tty)
        return await self._run(session, stdin, timeout)
