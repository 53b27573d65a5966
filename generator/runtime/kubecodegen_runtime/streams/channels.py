"""The ``channel.k8s.io`` framing of exec and attach over WebSocket, pure.

Every WebSocket message is one byte of channel number followed by that channel's data:
stdin 0 (client to server), stdout 1, stderr 2, error 3 (server to client), resize 4
(client to server, a ``{"Width": w, "Height": h}`` JSON). ``v5.channel.k8s.io`` adds
channel 255, *close*: the message ``[255, n]`` says the client will send nothing more on
channel ``n`` -- how stdin reaches end-of-file, so ``cat`` or ``sh -c 'read x'`` can
finish while the connection stays open for their output. ``v4`` has no such message:
stdin ends only with the connection.

The error channel carries one meta/v1 ``Status`` as JSON when the process has ended
(apimachinery's ``remotecommand`` v4+ protocol): ``status: Success`` is exit code 0;
``reason: NonZeroExitCode`` with a cause of reason ``ExitCode`` gives the code in the
cause's message; anything else is an :class:`ExecError` (the command could not be run,
the container is gone, ...). These are client-go's ``errorDecoderV4`` rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..config.text import terminal_safe
from ..errors import KubernetesError

#: Offered in this order: the server picks the first it speaks.
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"

STDIN = 0
STDOUT = 1
STDERR = 2
ERROR = 3
RESIZE = 4
CLOSE = 255

Output = Literal["stdout", "stderr"]
_OUTPUTS: dict[int, Output] = {STDOUT: "stdout", STDERR: "stderr"}


class ExecError(KubernetesError):
    """The remote command could not be run or did not report how it ended.

    ``status`` is the Status the error channel carried (a dict, every field the server
    sent), or ``None`` when there was none (the stream was cut before the end).
    """

    def __init__(self, message: str, status: dict[str, Any] | None = None) -> None:
        super().__init__(terminal_safe(message))
        self.status = status


class StreamInterrupted(ExecError):
    """The connection ended before the error channel said how the process ended."""


@dataclass(frozen=True)
class ExecResult:
    """What a finished command wrote, and how it ended."""

    stdout: bytes
    stderr: bytes
    exit_code: int


def encode(channel: int, data: bytes) -> bytes:
    """One message: the channel byte, then ``data``."""
    if not 0 <= channel <= 255:
        raise ValueError(f"channel {channel} is not a byte")
    return bytes((channel,)) + data


def decode(message: bytes) -> tuple[int, bytes] | None:
    """``(channel, data)`` of a message; ``None`` for an empty message (no channel)."""
    if not message:
        return None
    return message[0], message[1:]


def output_name(channel: int) -> Output | None:
    """``"stdout"``/``"stderr"`` for the output channels, ``None`` otherwise."""
    return _OUTPUTS.get(channel)


def resize_message(width: int, height: int) -> bytes:
    """The resize message for a terminal of ``width`` columns and ``height`` rows."""
    for value, what in ((width, "width"), (height, "height")):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
            raise ValueError(f"terminal {what} must be an integer 0..65535, got {value!r}")
    return encode(RESIZE, json.dumps({"Width": width, "Height": height},
                                     separators=(",", ":")).encode())


def close_message(channel: int) -> bytes:
    """v5's "nothing more on ``channel``" message."""
    return bytes((CLOSE, channel))


def can_close(subprotocol: str | None) -> bool:
    """Whether the negotiated protocol can half-close a channel (v5 and later)."""
    return subprotocol == V5


def exit_code(error: bytes) -> int:
    """The exit code the error channel's content says, or raise :class:`ExecError`.

    ``error`` is everything the error channel carried; empty means the process ended
    without a report, which v4+ servers never do: :class:`StreamInterrupted`.
    """
    if not error.strip():
        raise StreamInterrupted("the stream ended without the exit status of the command")
    try:
        status = json.loads(error)
    except ValueError:
        raise ExecError(f"the error channel is not a Status: {error[:200]!r}") from None
    if not isinstance(status, dict):
        raise ExecError(f"the error channel is not a Status: {error[:200]!r}")
    if status.get("status") == "Success":
        return 0
    message = str(status.get("message") or "")
    if status.get("reason") == "NonZeroExitCode":
        details = status.get("details")
        causes = details.get("causes") if isinstance(details, dict) else None
        for cause in causes if isinstance(causes, list) else []:
            if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
                try:
                    code = int(str(cause.get("message")))
                except ValueError:
                    raise ExecError(f"the exit code {cause.get('message')!r} is not a number",
                                    status) from None
                return code
        raise ExecError(f"the command failed without an exit code: {message}", status)
    raise ExecError(f"error executing the remote command: {message or status}", status)
