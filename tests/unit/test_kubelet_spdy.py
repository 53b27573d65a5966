"""The test kubelet's SPDY/3.1 exec server (tests/harness/kubelet_spdy.py): framing and session.

The framing is checked against the wire format (hand-built frames, byte offsets), by round trips
through arbitrary splits of the byte stream, and the session by a real subprocess behind a
socketpair driven by a client made of the same frames. Interoperability with the real kubectl
is tests/integration/test_exec_vs_kubectl.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.harness import kubelet_exec
from tests.harness import kubelet_spdy as spdy
from tests.harness.kubelet_process import ContainerProcess

# --- the dictionary -------------------------------------------------------------------------


def test_dictionary_is_the_spdy3_one() -> None:
    # 1423 bytes; its Adler-32 is the dictionary id every SPDY/3 zlib stream names (FDICT),
    # which Go's zlib reader (spdystream) checks before it inflates a single header.
    assert len(spdy.DICTIONARY) == 1423
    assert zlib.adler32(spdy.DICTIONARY) == 0xE3C6A7C2
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b"charset=iso-8859-1,utf-,*,enq=0.")


def test_first_header_block_names_the_dictionary() -> None:
    frame = spdy.FrameWriter().encode(spdy.SynReply(1))
    compressed = frame[12:]
    cmf, flg = compressed[0], compressed[1]
    assert cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0  # deflate, valid zlib header
    assert flg & 0x20  # FDICT
    assert int.from_bytes(compressed[2:6], "big") == zlib.adler32(spdy.DICTIONARY)


# --- wire format ----------------------------------------------------------------------------


def test_data_frame_layout() -> None:
    raw = spdy.FrameWriter().encode(spdy.DataFrame(5, b"abc", fin=True))
    assert raw == struct.pack(">I", 5) + bytes([spdy.FLAG_FIN, 0, 0, 3]) + b"abc"


def test_control_frame_layout() -> None:
    raw = spdy.FrameWriter().encode(spdy.Ping(7))
    assert raw == bytes([0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04]) + struct.pack(">I", 7)
    raw = spdy.FrameWriter().encode(spdy.GoAway(3, 0))
    assert raw[:8] == bytes([0x80, 0x03, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08])
    assert struct.unpack(">II", raw[8:]) == (3, 0)
    raw = spdy.FrameWriter().encode(spdy.RstStream(9, spdy.RST_CANCEL))
    assert raw[2:4] == b"\x00\x03" and struct.unpack(">II", raw[8:]) == (9, spdy.RST_CANCEL)


def test_syn_stream_layout_and_headers() -> None:
    writer = spdy.FrameWriter()
    frame = spdy.SynStream(3, (("streamType", "stdout"),), priority=2, fin=True, unidirectional=True)
    raw = writer.encode(frame)
    assert raw[:4] == bytes([0x80, 0x03, 0x00, 0x01])
    assert raw[4] == spdy.FLAG_FIN | spdy.FLAG_UNIDIRECTIONAL
    assert int.from_bytes(raw[5:8], "big") == len(raw) - 8
    assert struct.unpack(">II", raw[8:16]) == (3, 0)
    assert raw[16] >> 5 == 2
    block = zlib.decompressobj(zdict=spdy.DICTIONARY).decompress(raw[18:])
    # names go on the wire in lower case, as SPDY/3 requires
    assert block == struct.pack(">I", 1) + struct.pack(">I", 10) + b"streamtype" + struct.pack(">I", 6) + b"stdout"
    (parsed,) = spdy.FrameParser().feed(raw)
    assert isinstance(parsed, spdy.SynStream)
    assert parsed.header("streamType") == "stdout"
    assert (parsed.stream_id, parsed.priority, parsed.fin, parsed.unidirectional) == (3, 2, True, True)


def test_repeated_header_names_are_nul_joined() -> None:
    block = spdy.encode_header_block([("a", "1"), ("A", "2"), ("b", "")])
    assert b"1\x002" in block
    assert spdy.decode_header_block(block) == (("a", "1"), ("a", "2"), ("b", ""))


def test_settings_and_window_update_parse() -> None:
    writer = spdy.FrameWriter()
    raw = writer.encode(spdy.Settings(((1, 4, 100), (0, 7, 65536)))) + writer.encode(spdy.WindowUpdate(1, 4096))
    assert spdy.FrameParser().feed(raw) == [spdy.Settings(((1, 4, 100), (0, 7, 65536))), spdy.WindowUpdate(1, 4096)]


def test_unknown_control_frame_is_ignored() -> None:
    unknown = bytes([0x80, 0x03, 0x00, 0x0A, 0, 0, 0, 2]) + b"xx"
    ping = spdy.FrameWriter().encode(spdy.Ping(1))
    assert spdy.FrameParser().feed(unknown + ping) == [spdy.Ping(1)]


@pytest.mark.parametrize(
    "raw",
    [
        bytes([0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1]),  # SPDY/2
        bytes([0x80, 0x03, 0x00, 0x06, 0, 0, 0, 2, 0, 1]),  # PING of 2 bytes
        bytes([0x80, 0x03, 0x00, 0x07, 0, 0, 0, 4, 0, 0, 0, 1]),  # GOAWAY of 4 bytes
        bytes([0x80, 0x03, 0x00, 0x02, 0, 0, 0, 6, 0, 0, 0, 1, 1, 2]),  # garbage header block
    ],
)
def test_malformed_frames_are_protocol_errors(raw: bytes) -> None:
    with pytest.raises(spdy.ProtocolError):
        spdy.FrameParser().feed(raw)


def test_oversized_payload_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        spdy.FrameWriter().encode(spdy.DataFrame(1, b"\0" * (spdy.MAX_LENGTH + 1)))


# --- round trips ----------------------------------------------------------------------------

stream_ids = st.integers(min_value=1, max_value=2**31 - 1)
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
values = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=30)
header_lists = st.dictionaries(names, st.lists(values, min_size=1, max_size=3), max_size=5).map(
    lambda d: tuple((k, v) for k, vs in d.items() for v in vs)
)
frames = st.one_of(
    st.builds(spdy.DataFrame, stream_ids, st.binary(max_size=300), st.booleans()),
    st.builds(
        spdy.SynStream,
        stream_ids,
        header_lists,
        associated_to=st.integers(0, 2**31 - 1),
        priority=st.integers(0, 7),
        fin=st.booleans(),
        unidirectional=st.booleans(),
    ),
    st.builds(spdy.SynReply, stream_ids, header_lists, st.booleans()),
    st.builds(spdy.HeadersFrame, stream_ids, header_lists, st.booleans()),
    st.builds(spdy.RstStream, stream_ids, st.integers(1, 11)),
    st.builds(spdy.Ping, st.integers(1, 2**32 - 1)),
    st.builds(spdy.GoAway, st.integers(0, 2**31 - 1), st.integers(0, 2)),
    st.builds(spdy.WindowUpdate, stream_ids, st.integers(1, 2**31 - 1)),
    st.builds(
        spdy.Settings,
        st.lists(st.tuples(st.integers(0, 3), st.integers(1, 2**24 - 1), st.integers(0, 2**32 - 1)), max_size=4).map(
            tuple
        ),
    ),
)


@given(st.lists(frames, max_size=12), st.data())
def test_frames_survive_any_split_of_the_stream(sent: list[spdy.Frame], data: st.DataObject) -> None:
    """One compressor/decompressor pair across many header blocks, bytes cut anywhere."""
    writer = spdy.FrameWriter()
    wire = b"".join(writer.encode(frame) for frame in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    parser = spdy.FrameParser()
    received: list[spdy.Frame] = []
    start = 0
    for cut in [*cuts, len(wire)]:
        received.extend(parser.feed(wire[start:cut]))
        start = cut
    assert parser.pending == 0
    assert received == sent


def flags(
    *, stdin: bool = False, stdout: bool = True, stderr: bool = True, tty: bool = False
) -> kubelet_exec.StreamOptions:
    """The test kubelet's parsed query flags, with the defaults of a plain exec."""
    return kubelet_exec.StreamOptions(stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)


# --- negotiation and status -----------------------------------------------------------------


def test_negotiation_prefers_the_clients_order_and_splits_folded_headers() -> None:
    assert spdy.negotiate_protocol(["v4.channel.k8s.io", "v3.channel.k8s.io"]) == "v4.channel.k8s.io"
    assert spdy.negotiate_protocol(["v3.channel.k8s.io, v4.channel.k8s.io"]) == "v4.channel.k8s.io"
    assert spdy.negotiate_protocol(["v2.channel.k8s.io", "channel.k8s.io"]) is None
    assert spdy.negotiate_protocol([]) is None


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), max_size=5), st.data())
def test_resize_messages_split_anywhere(sizes: list[tuple[int, int]], data: st.DataObject) -> None:
    wire = b"".join(json.dumps({"Width": w, "Height": h}).encode() + b"\n" for w, h in sizes)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    decoder = spdy.ResizeDecoder()
    got: list[tuple[int, int]] = []
    start = 0
    for cut in [*cuts, len(wire)]:
        got.extend(decoder.feed(wire[start:cut]))
        start = cut
    assert got == sizes


def test_expected_streams() -> None:
    plain = flags(stdin=True)
    assert spdy.expected_streams(plain) == {"error", "stdin", "stdout", "stderr"}
    tty = flags(stdin=True, stderr=False, tty=True)
    assert spdy.expected_streams(tty) == {"error", "stdin", "stdout", "resize"}
    assert spdy.expected_streams(flags(stdout=False)) == {"error", "stderr"}


# --- a whole session over a socketpair, with the test kubelet's real processes --------------


class MiniClient:
    """The client half as spdystream drives it: odd stream ids, SYN_STREAMs, DATA, then reads."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.frames = spdy.FrameWriter()
        self.parser = spdy.FrameParser()
        self.ids: dict[str, int] = {}

    async def open(self, *kinds: str) -> None:
        for i, kind in enumerate(kinds):
            self.ids[kind] = 2 * i + 1
            await self.send(spdy.SynStream(2 * i + 1, (("streamtype", kind),)))

    async def send(self, frame: spdy.Frame) -> None:
        self.writer.write(self.frames.encode(frame))
        await self.writer.drain()

    async def collect(self) -> tuple[dict[str, bytes], set[str], list[spdy.Frame]]:
        """Data per stream, the streams that got FIN, the control frames; until GOAWAY."""
        by_id = {v: k for k, v in self.ids.items()}
        out = {k: b"" for k in self.ids}
        finished: set[str] = set()
        control: list[spdy.Frame] = []
        while True:
            chunk = await self.reader.read(65536)
            if not chunk:
                return out, finished, control
            for frame in self.parser.feed(chunk):
                if isinstance(frame, spdy.DataFrame):
                    out[by_id[frame.stream_id]] += frame.data
                    if frame.fin:
                        finished.add(by_id[frame.stream_id])
                else:
                    control.append(frame)
                if isinstance(frame, spdy.GoAway):
                    return out, finished, control


async def run_session(
    tmp_path: Path,
    command: list[str],
    options: kubelet_exec.StreamOptions,
    act: Callable[[MiniClient], Awaitable[None]],
) -> tuple[dict[str, bytes], set[str], list[spdy.Frame], int | None]:
    server_sock, client_sock = socket.socketpair()
    server_reader, server_writer = await asyncio.open_connection(sock=server_sock)
    client = MiniClient(*await asyncio.open_connection(sock=client_sock))
    session = spdy.SpdyExecSession(server_reader, server_writer, options, stream_timeout=30)

    async def start() -> spdy.Process:
        return await ContainerProcess.start(
            command, stdin=options.stdin, tty=options.tty, cwd=tmp_path, env=dict(os.environ)
        )

    served = asyncio.ensure_future(session.run(start))
    await act(client)
    out, finished, control = await asyncio.wait_for(client.collect(), 60)
    code = await asyncio.wait_for(served, 60)
    server_writer.close()
    client.writer.close()
    return out, finished, control, code


async def test_session_runs_the_command_with_stdin_and_reports_the_exit_code(tmp_path: Path) -> None:
    options = flags(stdin=True)

    async def act(client: MiniClient) -> None:
        await client.open("error", "stdin", "stdout", "stderr")
        await client.send(spdy.DataFrame(client.ids["stdin"], b"hello "))
        await client.send(spdy.Ping(2))
        await client.send(spdy.Settings(((0, 7, 65536),)))
        await client.send(spdy.DataFrame(client.ids["stdin"], bytes(range(256))))
        await client.send(spdy.DataFrame(client.ids["stdin"], b"", fin=True))

    out, finished, control, code = await run_session(
        tmp_path, ["sh", "-c", "cat; printf err >&2; exit 3"], options, act
    )
    assert out["stdout"] == b"hello " + bytes(range(256))
    assert out["stderr"] == b"err"
    assert json.loads(out["error"]) == kubelet_exec.exit_status(3)
    assert finished == {"stdout", "stderr", "error"}
    assert code == 3
    assert [f.stream_id for f in control if isinstance(f, spdy.SynReply)] == [1, 3, 5, 7]
    assert spdy.Ping(2) in control  # echoed
    assert isinstance(control[-1], spdy.GoAway)


async def test_session_large_output_and_success(tmp_path: Path) -> None:
    async def act(client: MiniClient) -> None:
        await client.open("error", "stdout", "stderr")

    command = ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x"]
    out, _, _, code = await run_session(tmp_path, command, flags(), act)
    assert out["stdout"] == b"x" * 3_000_000 and out["stderr"] == b""
    assert json.loads(out["error"]) == {"metadata": {}, "status": "Success"}
    assert code == 0


async def test_session_refuses_streams_not_asked_for(tmp_path: Path) -> None:
    async def act(client: MiniClient) -> None:
        await client.open("error", "stdout", "stderr")  # stderr was not asked for

    command = ["sh", "-c", "printf ok; printf dropped >&2"]
    out, _, control, code = await run_session(tmp_path, command, flags(stderr=False), act)
    assert spdy.RstStream(5, spdy.RST_REFUSED_STREAM) in control
    assert out["stdout"] == b"ok" and out["stderr"] == b"" and code == 0


async def test_session_command_that_cannot_start(tmp_path: Path) -> None:
    async def act(client: MiniClient) -> None:
        await client.open("error", "stdout", "stderr")

    out, _, _, code = await run_session(tmp_path, ["/nonexistent/cmd"], flags(), act)
    status = json.loads(out["error"])
    assert status["reason"] == "InternalError" and "/nonexistent/cmd" in status["message"]
    assert code is None


async def test_session_tty_resize_reaches_the_terminal(tmp_path: Path) -> None:
    # The line on stdin is sent after the resize and frames are handled in order, so the size
    # is set by the time `read` returns.
    options = flags(stdin=True, stderr=False, tty=True)

    async def act(client: MiniClient) -> None:
        await client.open("error", "stdin", "stdout", "resize")
        await client.send(spdy.DataFrame(client.ids["resize"], b'{"Width":91,"Height":27}'))
        await client.send(spdy.DataFrame(client.ids["stdin"], b"go\n"))

    out, _, _, code = await run_session(tmp_path, ["sh", "-c", "read line; stty size"], options, act)
    assert out["stdout"].splitlines()[-1].strip() == b"27 91"  # after the echoed "go"
    assert code == 0


# --- the handler the test kubelet calls (h11 in front, as in TestKubelet._stream) -----------


class ProcessStarter:
    """Stands in for the TestKubelet behind `StreamUpgrade.start_process`: real processes."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    async def start_exec_process(
        self, container: object, command: list[str], options: kubelet_exec.StreamOptions
    ) -> ContainerProcess:
        return await ContainerProcess.start(
            command, stdin=options.stdin, tty=options.tty, cwd=self.workdir, env=dict(os.environ)
        )


def exec_request(*protocols: str, query: str = "command=cat&input=1&output=1&error=1") -> bytes:
    lines = [
        f"POST /exec/ns/pod/main?{query} HTTP/1.1",
        "Host: kubelet",
        "Content-Length: 0",
        "Connection: Upgrade",
        "Upgrade: SPDY/3.1",
        *(f"X-Stream-Protocol-Version: {p}" for p in protocols),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def handle(
    raw: bytes, tmp_path: Path, *, kind: str = "exec", options: kubelet_exec.StreamOptions | None = None
) -> tuple[bytes, socket.socket]:
    """Send ``raw`` (a request head, maybe frames behind it) and run `spdy_handler` on it."""
    from urllib.parse import parse_qs, urlsplit

    import h11

    from tests.harness.kubelet import StreamUpgrade

    server_sock, client_sock = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=server_sock)
    client_sock.sendall(raw)
    conn = h11.Connection(h11.SERVER)
    event: object = h11.NEED_DATA
    while event is h11.NEED_DATA:
        conn.receive_data(await reader.read(65536))
        event = conn.next_event()
    assert isinstance(event, h11.Request)
    query = parse_qs(urlsplit(event.target.decode()).query)
    upgrade = StreamUpgrade(
        kind,
        event,
        query,
        cast(Any, None),
        cast(Any, object()),
        options if options is not None or kind != "exec" else kubelet_exec.StreamOptions.parse(query),
        conn,
        reader,
        writer,
        cast(Any, ProcessStarter(tmp_path)),
    )
    await asyncio.wait_for(spdy.spdy_handler(upgrade), 60)
    writer.close()  # as the kubelet does after the handler
    await writer.wait_closed()
    client_sock.settimeout(30)
    received = b""
    while chunk := client_sock.recv(65536):
        received += chunk
    return received, client_sock


async def test_handler_refuses_when_no_protocol_matches(tmp_path: Path) -> None:
    received, sock = await handle(exec_request("v2.channel.k8s.io", "channel.k8s.io"), tmp_path)
    sock.close()
    head, body = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 403 ")
    assert b"unable to negotiate protocol" in body and b"v4.channel.k8s.io" in body


async def test_handler_refuses_attach(tmp_path: Path) -> None:
    received, sock = await handle(exec_request("v4.channel.k8s.io"), tmp_path, kind="attach", options=None)
    sock.close()
    assert received.startswith(b"HTTP/1.1 400 ")


async def test_handler_upgrades_and_keeps_frames_sent_behind_the_head(tmp_path: Path) -> None:
    # The client's SYN_STREAMs and stdin arrive in the same read as the request head: h11 holds
    # them as trailing data, which the session must not lose.
    writer = spdy.FrameWriter()
    frames = b"".join(
        writer.encode(frame)
        for frame in (
            spdy.SynStream(1, (("streamtype", "error"),)),
            spdy.SynStream(3, (("streamtype", "stdin"),)),
            spdy.SynStream(5, (("streamtype", "stdout"),)),
            spdy.SynStream(7, (("streamtype", "stderr"),)),
            spdy.DataFrame(3, b"early bytes", fin=True),
        )
    )
    raw = exec_request("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io") + frames
    received, sock = await handle(raw, tmp_path)
    sock.close()
    head, rest = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"Upgrade: SPDY/3.1" in head and b"X-Stream-Protocol-Version: v4.channel.k8s.io" in head
    parsed = spdy.FrameParser().feed(rest)
    stdout = b"".join(f.data for f in parsed if isinstance(f, spdy.DataFrame) and f.stream_id == 5)
    error = b"".join(f.data for f in parsed if isinstance(f, spdy.DataFrame) and f.stream_id == 1)
    assert stdout == b"early bytes"
    assert json.loads(error) == kubelet_exec.success_status()
    assert isinstance(parsed[-1], spdy.GoAway)
