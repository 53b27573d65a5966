"""The channel.k8s.io framing and exit-code rules (streams/channels.py) and the session
state (streams/exec.py), pure: framing round trips, the error channel's Status rules as
client-go's errorDecoderV4 applies them, stdin chunking, v4/v5 close, output limits."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime import errors
from kubecodegen_runtime.streams import channels
from kubecodegen_runtime.streams.channels import ExecError, StreamInterrupted
from kubecodegen_runtime.streams.exec import (
    STDIN_CHUNK,
    ExecProtocol,
    OutputCollector,
    session_params,
)


@given(st.integers(0, 255), st.binary(max_size=2000))
def test_encode_decode_round_trip(channel: int, data: bytes) -> None:
    message = channels.encode(channel, data)
    assert message[0] == channel and len(message) == len(data) + 1
    assert channels.decode(message) == (channel, data)


def test_bad_channels_and_empty_messages() -> None:
    with pytest.raises(ValueError):
        channels.encode(256, b"")
    with pytest.raises(ValueError):
        channels.encode(-1, b"")
    assert channels.decode(b"") is None


@given(st.integers(0, 65535), st.integers(0, 65535))
def test_resize_is_the_kubelet_json_on_channel_4(width: int, height: int) -> None:
    message = channels.resize_message(width, height)
    assert message[0] == channels.RESIZE
    assert json.loads(message[1:]) == {"Width": width, "Height": height}


@pytest.mark.parametrize("bad", [-1, 65536, 1.5, True, "80"])
def test_resize_refuses_what_is_not_a_size(bad: Any) -> None:
    with pytest.raises(ValueError):
        channels.resize_message(bad, 10)


def test_v5_close_and_protocol_order() -> None:
    assert channels.PROTOCOLS == ("v5.channel.k8s.io", "v4.channel.k8s.io")
    assert channels.close_message(channels.STDIN) == b"\xff\x00"
    assert channels.can_close("v5.channel.k8s.io")
    assert not channels.can_close("v4.channel.k8s.io")


# --- the error channel -----------------------------------------------------------------


def status(**fields: Any) -> bytes:
    return json.dumps({"metadata": {}, **fields}).encode()


def nonzero(code: str) -> bytes:
    return status(status="Failure", reason="NonZeroExitCode",
                  message=f"command terminated with non-zero exit code: exit status {code}",
                  details={"causes": [{"reason": "ExitCode", "message": code}]})


def test_success_is_exit_zero() -> None:
    assert channels.exit_code(status(status="Success")) == 0


@given(st.integers(1, 255))
def test_nonzero_exit_code_comes_from_the_cause(code: int) -> None:
    assert channels.exit_code(nonzero(str(code))) == code


def test_exit_code_among_other_causes() -> None:
    body = status(status="Failure", reason="NonZeroExitCode", details={"causes": [
        {"reason": "Other", "message": "x"}, {"reason": "ExitCode", "message": "42"}]})
    assert channels.exit_code(body) == 42


@pytest.mark.parametrize("body", [
    status(status="Failure", reason="InternalError", message="no such file"),
    status(status="Failure", reason="NonZeroExitCode", message="no code", details={}),
    nonzero("not-a-number"),
    b"plain text error",
    b"[1, 2]",
])
def test_anything_else_is_an_exec_error(body: bytes) -> None:
    with pytest.raises(ExecError) as caught:
        channels.exit_code(body)
    assert not isinstance(caught.value, StreamInterrupted)
    assert isinstance(caught.value, errors.KubernetesError)


def test_internal_error_keeps_the_status() -> None:
    with pytest.raises(ExecError) as caught:
        channels.exit_code(status(status="Failure", reason="InternalError", message="boom"))
    assert caught.value.status is not None and caught.value.status["reason"] == "InternalError"
    assert "boom" in str(caught.value)


def test_no_status_is_an_interrupted_stream() -> None:
    with pytest.raises(StreamInterrupted):
        channels.exit_code(b"")


def test_server_text_is_escaped_in_the_message() -> None:
    with pytest.raises(ExecError) as caught:
        channels.exit_code(status(status="Failure", reason="InternalError",
                                  message="\x1b]0;pwned\x07"))
    assert "\x1b" not in str(caught.value)


# --- the session state -------------------------------------------------------------------


def test_exec_and_attach_params() -> None:
    assert session_params(command=["ls", "-l"], container="c", stdin=True, stdout=True,
                          stderr=True, tty=False) == [
        ("command", "ls"), ("command", "-l"), ("container", "c"), ("stdin", "true"),
        ("stdout", "true"), ("stderr", "true"), ("tty", "false")]
    # a terminal merges stderr into stdout: never asked for separately (kubectl)
    assert ("stderr", "false") in session_params(command=["sh"], container=None, stdin=True,
                                                 stdout=True, stderr=True, tty=True)
    attach = session_params(command=None, container=None, stdin=False, stdout=True,
                            stderr=False, tty=False)
    assert not any(key == "command" for key, _ in attach)


@pytest.mark.parametrize("command", ["ls -l", [], b"ls"])
def test_command_must_be_a_sequence_of_arguments(command: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        session_params(command=command, container=None, stdin=False, stdout=True,
                       stderr=True, tty=False)


def test_no_stream_at_all_is_refused() -> None:
    with pytest.raises(ValueError):
        session_params(command=["ls"], container=None, stdin=False, stdout=False,
                       stderr=False, tty=False)


def test_unknown_subprotocol_is_refused() -> None:
    with pytest.raises(ExecError):
        ExecProtocol("base64.channel.k8s.io")
    with pytest.raises(ExecError):
        ExecProtocol(None)


@given(st.binary(max_size=3 * STDIN_CHUNK + 7))
def test_stdin_chunks_reassemble(data: bytes) -> None:
    messages = ExecProtocol(channels.V5).stdin(data)
    assert all(m[0] == channels.STDIN and len(m) <= STDIN_CHUNK + 1 for m in messages)
    assert b"".join(m[1:] for m in messages) == data


def test_close_stdin_v5_once_and_v4_never(caplog: pytest.LogCaptureFixture) -> None:
    v5 = ExecProtocol(channels.V5)
    assert v5.close_stdin() == b"\xff\x00"
    assert v5.close_stdin() is None
    with pytest.raises(ValueError):
        v5.stdin(b"late")
    with caplog.at_level(logging.WARNING, "kubecodegen_runtime.streams"):
        assert ExecProtocol(channels.V4).close_stdin() is None
    assert "cannot close stdin" in caplog.text


outputs = st.lists(st.tuples(st.sampled_from([channels.STDOUT, channels.STDERR]),
                             st.binary(max_size=300)), max_size=20)


@given(outputs, st.integers(0, 255))
def test_receive_round_trip_with_status_split_anywhere(
        chunks: list[tuple[int, bytes]], code: int) -> None:
    protocol = ExecProtocol(channels.V4)
    error = nonzero(str(code)) if code else status(status="Success")
    cut = len(error) // 3
    messages = [channels.encode(c, d) for c, d in chunks]
    # the kubelet's readiness frame (empty, on stdout) and an error Status in two pieces
    messages = [channels.encode(channels.STDOUT, b""), *messages,
                channels.encode(channels.ERROR, error[:cut]),
                channels.encode(channels.ERROR, error[cut:])]
    collector = OutputCollector(10**9, "GET", "/p")
    for message in messages:
        output = protocol.receive(message)
        if output is not None:
            collector.add(*output)
    result = collector.result(protocol.finish())
    assert result.stdout == b"".join(d for c, d in chunks if c == channels.STDOUT)
    assert result.stderr == b"".join(d for c, d in chunks if c == channels.STDERR)
    assert result.exit_code == code


def test_unexpected_channels_are_ignored() -> None:
    protocol = ExecProtocol(channels.V5)
    assert protocol.receive(channels.encode(9, b"x")) is None
    assert protocol.receive(b"") is None


def test_output_limit() -> None:
    collector = OutputCollector(10, "GET", "/api/v1/namespaces/n/pods/p/exec")
    collector.add("stdout", b"12345")
    collector.add("stderr", b"12345")
    with pytest.raises(errors.ResponseTooLarge) as caught:
        collector.add("stdout", b"!")
    assert caught.value.limit == 10
