"""Host processes standing in for a container's processes (exec, and attach's main process).

The test kubelet runs commands for real, so binary output, large output, stdin and exit codes are
those of a real program. Without a TTY the process gets pipes (stdout and stderr apart); with one
it gets a pseudo-terminal (output of both on the terminal, as in a container with ``tty: true``),
and a resize sets the terminal's size with ``TIOCSWINSZ``. A process killed by signal N exits with
128+N, as a container runtime reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path

#: What the output queue yields once every output stream has ended.
EOF_MARK = None


class ContainerProcess:
    """A started process; ``output`` yields ``(stream, bytes)`` then `EOF_MARK`."""

    def __init__(self, process: asyncio.subprocess.Process, master: int | None) -> None:
        self._process = process
        self._master = master
        self.tty = master is not None
        self.output: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()
        self._stdin_closed = False
        self._readers: list[asyncio.Task[None]] = []

    @classmethod
    async def start(
        cls,
        command: Sequence[str],
        *,
        stdin: bool,
        tty: bool,
        cwd: Path,
        env: Mapping[str, str],
    ) -> ContainerProcess:
        """Spawn ``command``; OSError (e.g. FileNotFoundError) if it cannot be started."""
        if tty:
            master, slave = pty.openpty()
            try:
                process = await asyncio.create_subprocess_exec(
                    *command,
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    cwd=cwd,
                    env=dict(env),
                    start_new_session=True,
                )
            except BaseException:
                os.close(master)
                raise
            finally:
                os.close(slave)
            started = cls(process, master)
            started._read_pty(master)
            return started
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
        started = cls(process, None)
        assert process.stdout is not None and process.stderr is not None
        started._readers = [
            asyncio.ensure_future(started._pump("stdout", process.stdout)),
            asyncio.ensure_future(started._pump("stderr", process.stderr)),
        ]
        started._readers.append(asyncio.ensure_future(started._finish_pipes()))
        return started

    async def _pump(self, stream: str, source: asyncio.StreamReader) -> None:
        while True:
            data = await source.read(32768)
            if not data:
                return
            await self.output.put((stream, data))

    async def _finish_pipes(self) -> None:
        await asyncio.gather(*self._readers[:2], return_exceptions=True)
        await self.output.put(EOF_MARK)

    def _read_pty(self, master: int) -> None:
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(master, 32768)
            except OSError:  # EIO: every slave end is closed (the process has exited)
                data = b""
            if data:
                self.output.put_nowait(("stdout", data))
                return
            loop.remove_reader(master)
            self.output.put_nowait(EOF_MARK)

        loop.add_reader(master, readable)

    @property
    def pid(self) -> int:
        return self._process.pid

    async def write_stdin(self, data: bytes) -> None:
        if self._stdin_closed or not data:
            return
        if self._master is not None:
            os.write(self._master, data)
            return
        pipe = self._process.stdin
        if pipe is None:
            return
        try:
            pipe.write(data)
            await pipe.drain()
        except (BrokenPipeError, ConnectionResetError):
            self._stdin_closed = True

    async def close_stdin(self) -> None:
        """End of input: the pipe is closed; on a terminal an EOF character (Ctrl-D) is sent."""
        if self._stdin_closed:
            return
        self._stdin_closed = True
        if self._master is not None:
            with contextlib.suppress(OSError):
                os.write(self._master, b"\x04")
            return
        pipe = self._process.stdin
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()

    def resize(self, width: int, height: int) -> None:
        """Set the terminal's size (columns, rows); nothing without a TTY, as the kubelet."""
        if self._master is None:
            return
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    async def wait(self) -> int:
        code = await self._process.wait()
        return 128 - code if code < 0 else code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Release the terminal (after the output has been read)."""
        if self._master is not None:
            with contextlib.suppress(OSError, ValueError):
                asyncio.get_running_loop().remove_reader(self._master)
            with contextlib.suppress(OSError):
                os.close(self._master)
            self._master = None
