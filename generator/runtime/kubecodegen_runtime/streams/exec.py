"""The client side of an exec/attach session, pure: what to send, what was received,
how it ended. Both shells (``client/_async/streams.py`` and its blocking twin) drive
one :class:`ExecProtocol` over a WebSocket; nothing here does I/O.

Specification (client-go ``tools/remotecommand`` over WebSocket, kubectl exec/attach):

- the request is ``GET pods/{name}/exec`` (or ``attach``) with ``command`` repeated per
  argument (exec only), ``container``, and ``stdin``/``stdout``/``stderr``/``tty`` as
  ``true``/``false``; with a terminal there is no separate stderr (the terminal merges
  it), so ``stderr`` is never asked for then, as kubectl does;
- stdin is sent in messages of at most :data:`STDIN_CHUNK` bytes (so output keeps
  flowing between them); end of stdin is ``[255, 0]`` on v5 and impossible on v4 (the
  caller is told by :meth:`ExecProtocol.close_stdin` returning ``None``);
- received stdout/stderr messages are handed on as they come; error-channel messages are
  gathered, and when the connection ends :meth:`ExecProtocol.finish` turns them into
  the exit code (:func:`~.channels.exit_code`);
- :class:`OutputCollector` gathers a whole result within a size limit (the runtime's
  ``max_response_bytes``), since a command's output is an answer like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..errors import ResponseTooLarge
from . import channels
from .channels import Output

logger = logging.getLogger("kubecodegen_runtime.streams")

#: Largest stdin message (the kubelet reads stdin in 32 KiB pieces too).
STDIN_CHUNK = 32 * 1024


def _flag(value: bool) -> str:
    return "true" if value else "false"


def session_params(*, command: Sequence[str] | None, container: str | None, stdin: bool,
                   stdout: bool, stderr: bool, tty: bool) -> list[tuple[str, str]]:
    """The query of an exec (``command`` given) or attach (``None``) request."""
    if command is not None:
        if isinstance(command, (str, bytes)):
            raise TypeError("command is a sequence of arguments, not one string")
        if not command:
            raise ValueError("exec needs a command")
    if not (stdin or stdout or stderr):
        raise ValueError("at least one of stdin, stdout and stderr is needed")
    params: list[tuple[str, str]] = [(("command", str(arg))) for arg in command or ()]
    if container is not None:
        params.append(("container", container))
    params += [("stdin", _flag(stdin)), ("stdout", _flag(stdout)),
               ("stderr", _flag(stderr and not tty)), ("tty", _flag(tty))]
    return params


class ExecProtocol:
    """One session's framing state over the negotiated ``subprotocol``."""

    def __init__(self, subprotocol: str | None) -> None:
        if subprotocol not in channels.PROTOCOLS:
            raise channels.ExecError(
                f"the server chose the subprotocol {subprotocol!r}; exec needs one of "
                f"{', '.join(channels.PROTOCOLS)}")
        self.subprotocol = subprotocol
        self._error = bytearray()
        self._stdin_closed = False

    def stdin(self, data: bytes) -> list[bytes]:
        """The messages that carry ``data`` on stdin."""
        if self._stdin_closed:
            raise ValueError("stdin is already closed")
        view = memoryview(bytes(data))
        return [channels.encode(channels.STDIN, bytes(view[i:i + STDIN_CHUNK]))
                for i in range(0, len(view), STDIN_CHUNK)]

    def close_stdin(self) -> bytes | None:
        """The end-of-stdin message, or ``None`` when the protocol (v4) has none."""
        if self._stdin_closed:
            return None
        self._stdin_closed = True
        if not channels.can_close(self.subprotocol):
            logger.warning("the server speaks %s, which cannot close stdin: the command sees "
                           "the end of its input only when the connection ends",
                           self.subprotocol)
            return None
        return channels.close_message(channels.STDIN)

    def resize(self, width: int, height: int) -> bytes:
        return channels.resize_message(width, height)

    def receive(self, message: bytes) -> tuple[Output, bytes] | None:
        """An output chunk, or ``None`` (error-channel data kept for :meth:`finish`)."""
        decoded = channels.decode(message)
        if decoded is None:
            return None
        channel, data = decoded
        if channel == channels.ERROR:
            self._error += data
            return None
        name = channels.output_name(channel)
        if name is None:
            logger.debug("message on unexpected channel %d ignored", channel)
            return None
        return (name, data) if data else None

    def finish(self) -> int:
        """The exit code, once the connection has ended (raises ExecError)."""
        return channels.exit_code(bytes(self._error))


class OutputCollector:
    """stdout and stderr of a whole command, at most ``limit`` bytes together."""

    def __init__(self, limit: int, method: str, path: str) -> None:
        self._limit = limit
        self._method = method
        self._path = path
        self._size = 0
        self._parts: dict[Output, list[bytes]] = {"stdout": [], "stderr": []}

    def add(self, name: Output, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise ResponseTooLarge(
                f"the command's output is larger than the limit of {self._limit} bytes",
                limit=self._limit, method=self._method, path=self._path, status=101)
        self._parts[name].append(data)

    def result(self, exit_code: int) -> channels.ExecResult:
        return channels.ExecResult(b"".join(self._parts["stdout"]),
                                   b"".join(self._parts["stderr"]), exit_code)
