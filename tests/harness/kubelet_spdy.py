"""The server side of SPDY/3.1 as a kubelet speaks it for ``exec`` (what kubectl 1.20 uses).

kubectl 1.20 upgrades ``pods/exec`` with ``Upgrade: SPDY/3.1`` (not WebSocket); the apiserver
passes the upgrade through to the kubelet and then copies bytes both ways. So the test kubelet
must answer SPDY for `tests/integration/test_exec_vs_kubectl.py` to compare kubectl's bytes with
ours. This module is that answer, in two layers:

* a pure (sans-IO) framing layer: `FrameParser` turns received bytes into frames, `FrameWriter`
  turns frames into bytes. SPDY/3 frames are

  - control: ``1 | version(15) | type(16)``, ``flags(8) | length(24)``, payload;
  - data:    ``0 | stream id(31)``,         ``flags(8) | length(24)``, payload.

  Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are ``count(32)`` then ``len(32) name len(32)
  value`` pairs (several values of one name joined by NUL), compressed with ONE zlib stream per
  direction for the whole connection, primed with the SPDY/3 dictionary and flushed with
  ``Z_SYNC_FLUSH`` after each block. The receiver must decompress every block in order even if
  it does not care about it, or the next block is garbage.

  Like moby/spdystream (what both kubectl and the kubelet use), this side never does SPDY/3.1
  flow control: WINDOW_UPDATE and SETTINGS are parsed and ignored, and data is sent without
  waiting for window credit (spdystream neither grants nor expects any).

* `serve_exec`: one exec session over an upgraded connection, the kubelet's remotecommand
  server (``pkg/kubelet/cri/streaming/remotecommand``) in miniature:

  1. negotiate the stream protocol from the client's ``X-Stream-Protocol-Version`` headers
     (only ``v4.channel.k8s.io`` is served: the v4 error stream carries a JSON ``Status``),
     answer ``101 Switching Protocols`` with ``Upgrade: SPDY/3.1``;
  2. accept the client's streams (SYN_STREAM, each answered by an empty SYN_REPLY), told apart by
     their ``streamType`` header: ``error``, ``stdin``, ``stdout``, ``stderr``, ``resize``;
     wait until the streams the query asked for are all there;
  3. run the command for real as a host subprocess (in a pty when ``tty``; ``resize`` frames
     are JSON ``{"Width":..,"Height":..}`` applied with TIOCSWINSZ), pump stdin DATA into it and
     its stdout/stderr into DATA frames; a DATA frame with FIN on ``stdin`` closes its stdin;
  4. when it exits: FIN on stdout/stderr, the ``Status`` on the error stream (``Success``, or
     ``Failure``/``NonZeroExitCode`` with the ``ExitCode`` cause), FIN, then GOAWAY. The caller
     closes the connection, as the kubelet does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import logging
import os
import pty
import struct
import subprocess
import termios
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import BinaryIO, Protocol

__all__ = [
    "DICTIONARY",
    "PROTOCOL_V4",
    "SUPPORTED_PROTOCOLS",
    "UPGRADE_TOKEN",
    "DataFrame",
    "ExecOptions",
    "Frame",
    "FrameParser",
    "FrameWriter",
    "GoAway",
    "HeadersFrame",
    "Ping",
    "ProtocolError",
    "RstStream",
    "Settings",
    "SynReply",
    "SynStream",
    "WindowUpdate",
    "exit_status",
    "is_spdy_upgrade",
    "negotiate_protocol",
    "refusal_response",
    "serve_exec",
    "upgrade_response",
]

log = logging.getLogger("tests.harness.kubelet_spdy")

UPGRADE_TOKEN = "SPDY/3.1"
PROTOCOL_V4 = "v4.channel.k8s.io"
#: What this server speaks, best first (kubectl 1.20 offers v4, v3, v2, v1 in that order).
SUPPORTED_PROTOCOLS: tuple[str, ...] = (PROTOCOL_V4,)
PROTOCOL_HEADER = "X-Stream-Protocol-Version"

VERSION = 3
# Control frame types (SPDY/3 section 2.6).
TYPE_SYN_STREAM = 1
TYPE_SYN_REPLY = 2
TYPE_RST_STREAM = 3
TYPE_SETTINGS = 4
TYPE_PING = 6
TYPE_GOAWAY = 7
TYPE_HEADERS = 8
TYPE_WINDOW_UPDATE = 9
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
#: RST_STREAM status codes used here.
RST_PROTOCOL_ERROR = 1
RST_REFUSED_STREAM = 3
RST_CANCEL = 5
GOAWAY_OK = 0
#: The 24-bit length field's limit; data is sent in much smaller pieces anyway.
MAX_LENGTH = 0xFFFFFF
DATA_CHUNK = 32 * 1024

# The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): length
# prefixed header names and values, then a run of common status lines, dates and media types.
_DICTIONARY_WORDS = (
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
    "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
    "cache-control", "connection", "content-base", "content-encoding", "content-language",
    "content-length", "content-location", "content-md5", "content-range", "content-type", "date",
    "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
    "if-range", "if-unmodified-since", "last-modified", "location", "max-forwards", "pragma",
    "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after", "server",
    "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
    "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
    "public", "set-cookie", "keep-alive", "origin",
)
_DICTIONARY_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY: bytes = (
    b"".join(struct.pack(">I", len(word)) + word.encode("ascii") for word in _DICTIONARY_WORDS)
    + _DICTIONARY_TAIL.encode("ascii")
)


class ProtocolError(Exception):
    """The peer sent bytes that are not SPDY/3 (the session cannot go on)."""


# --- frames ---------------------------------------------------------------------------------
Headers = tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class DataFrame:
    stream_id: int
    data: bytes
    fin: bool = False


@dataclasses.dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: Headers
    associated_to: int = 0
    priority: int = 0
    fin: bool = False
    unidirectional: bool = False

    def header(self, name: str) -> str | None:
        """The first value of ``name`` (SPDY names are lower case; compared case-insensitively)."""
        return _header(self.headers, name)


@dataclasses.dataclass(frozen=True)
class SynReply:
    stream_id: int
    headers: Headers = ()
    fin: bool = False


@dataclasses.dataclass(frozen=True)
class HeadersFrame:
    stream_id: int
    headers: Headers = ()
    fin: bool = False


@dataclasses.dataclass(frozen=True)
class RstStream:
    stream_id: int
    status: int


@dataclasses.dataclass(frozen=True)
class Settings:
    #: (flags, id, value) per entry.
    entries: tuple[tuple[int, int, int], ...] = ()


@dataclasses.dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclasses.dataclass(frozen=True)
class GoAway:
    last_good_stream_id: int
    status: int = GOAWAY_OK


@dataclasses.dataclass(frozen=True)
class WindowUpdate:
    stream_id: int
    delta: int


Frame = (
    DataFrame | SynStream | SynReply | HeadersFrame | RstStream | Settings | Ping | GoAway | WindowUpdate
)


def _header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def encode_header_block(headers: Iterable[tuple[str, str]]) -> bytes:
    """The uncompressed name/value block; repeated names are joined with NUL, as SPDY/3 wants."""
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.lower(), []).append(value)
    out = [struct.pack(">I", len(merged))]
    for name, values in merged.items():
        raw_name = name.encode("utf-8")
        raw_value = "\0".join(values).encode("utf-8")
        out.append(struct.pack(">I", len(raw_name)) + raw_name)
        out.append(struct.pack(">I", len(raw_value)) + raw_value)
    return b"".join(out)


def decode_header_block(block: bytes) -> Headers:
    """Inverse of `encode_header_block`: NUL-joined values become separate pairs."""
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(block):
            raise ProtocolError("header block shorter than its lengths say")
        piece = block[pos : pos + n]
        pos += n
        return piece

    (count,) = struct.unpack(">I", take(4))
    pairs: list[tuple[str, str]] = []
    for _ in range(count):
        (name_len,) = struct.unpack(">I", take(4))
        name = take(name_len).decode("utf-8", "replace")
        (value_len,) = struct.unpack(">I", take(4))
        value = take(value_len).decode("utf-8", "replace")
        pairs.extend((name, part) for part in value.split("\0"))
    if pos != len(block):
        raise ProtocolError(f"{len(block) - pos} bytes after the header block")
    return tuple(pairs)


class FrameParser:
    """Bytes in, frames out; keeps partial frames and the connection's header decompressor."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head = bytes(self._buffer[:8])
            payload = bytes(self._buffer[8 : 8 + length])
            del self._buffer[: 8 + length]
            frame = self._parse(head, payload)
            if frame is not None:
                frames.append(frame)
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still waiting for the rest."""
        return len(self._buffer)

    def _headers(self, compressed: bytes) -> Headers:
        try:
            block = self._inflate.decompress(compressed)
        except zlib.error as exc:
            raise ProtocolError(f"header block does not decompress: {exc}") from exc
        return decode_header_block(block)

    def _parse(self, head: bytes, payload: bytes) -> Frame | None:
        first, flags = struct.unpack(">IB", head[:5])
        if not first & 0x80000000:
            return DataFrame(first & 0x7FFFFFFF, payload, bool(flags & FLAG_FIN))
        version = (first >> 16) & 0x7FFF
        kind = first & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"SPDY version {version}, only {VERSION} is spoken")
        fin = bool(flags & FLAG_FIN)
        if kind == TYPE_SYN_STREAM:
            if len(payload) < 10:
                raise ProtocolError("SYN_STREAM shorter than 10 bytes")
            stream_id, associated, pri = struct.unpack(">IIB", payload[:9])
            return SynStream(
                stream_id=stream_id & 0x7FFFFFFF,
                headers=self._headers(payload[10:]),
                associated_to=associated & 0x7FFFFFFF,
                priority=pri >> 5,
                fin=fin,
                unidirectional=bool(flags & FLAG_UNIDIRECTIONAL),
            )
        if kind in (TYPE_SYN_REPLY, TYPE_HEADERS):
            if len(payload) < 4:
                raise ProtocolError("SYN_REPLY/HEADERS shorter than 4 bytes")
            stream_id = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
            headers = self._headers(payload[4:])
            if kind == TYPE_SYN_REPLY:
                return SynReply(stream_id, headers, fin)
            return HeadersFrame(stream_id, headers, fin)
        if kind == TYPE_RST_STREAM:
            stream_id, status = _two_words(payload, "RST_STREAM")
            return RstStream(stream_id & 0x7FFFFFFF, status)
        if kind == TYPE_SETTINGS:
            if len(payload) < 4:
                raise ProtocolError("SETTINGS shorter than 4 bytes")
            (count,) = struct.unpack(">I", payload[:4])
            if len(payload) != 4 + 8 * count:
                raise ProtocolError("SETTINGS length does not match its entry count")
            entries = []
            for i in range(count):
                word, value = struct.unpack(">II", payload[4 + 8 * i : 12 + 8 * i])
                entries.append((word >> 24, word & 0xFFFFFF, value))
            return Settings(tuple(entries))
        if kind == TYPE_PING:
            if len(payload) != 4:
                raise ProtocolError("PING payload is not 4 bytes")
            return Ping(int.from_bytes(payload, "big"))
        if kind == TYPE_GOAWAY:
            last_good, status = _two_words(payload, "GOAWAY")
            return GoAway(last_good & 0x7FFFFFFF, status)
        if kind == TYPE_WINDOW_UPDATE:
            stream_id, delta = _two_words(payload, "WINDOW_UPDATE")
            return WindowUpdate(stream_id & 0x7FFFFFFF, delta & 0x7FFFFFFF)
        # SPDY/3: unknown control frames must be ignored.
        log.debug("ignoring SPDY control frame of type %d", kind)
        return None


def _two_words(payload: bytes, name: str) -> tuple[int, int]:
    if len(payload) != 8:
        raise ProtocolError(f"{name} payload is not 8 bytes")
    first, second = struct.unpack(">II", payload)
    return first, second


class FrameWriter:
    """Frames in, bytes out; owns the connection's (stateful) header compressor.

    Not thread-safe: the compressor's state must see blocks in the order they go on the wire,
    so callers serialise `encode` and the write of its result (see `_Session.send`).
    """

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, 9, zdict=DICTIONARY)

    def _compress(self, headers: Headers) -> bytes:
        block = encode_header_block(headers)
        return self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def encode(self, frame: Frame) -> bytes:
        if isinstance(frame, DataFrame):
            return _frame_bytes(frame.stream_id & 0x7FFFFFFF, FLAG_FIN if frame.fin else 0, frame.data)
        if isinstance(frame, SynStream):
            flags = (FLAG_FIN if frame.fin else 0) | (FLAG_UNIDIRECTIONAL if frame.unidirectional else 0)
            payload = struct.pack(">IIBB", frame.stream_id, frame.associated_to, (frame.priority & 7) << 5, 0)
            return _control(TYPE_SYN_STREAM, flags, payload + self._compress(frame.headers))
        if isinstance(frame, SynReply):
            payload = struct.pack(">I", frame.stream_id) + self._compress(frame.headers)
            return _control(TYPE_SYN_REPLY, FLAG_FIN if frame.fin else 0, payload)
        if isinstance(frame, HeadersFrame):
            payload = struct.pack(">I", frame.stream_id) + self._compress(frame.headers)
            return _control(TYPE_HEADERS, FLAG_FIN if frame.fin else 0, payload)
        if isinstance(frame, RstStream):
            return _control(TYPE_RST_STREAM, 0, struct.pack(">II", frame.stream_id, frame.status))
        if isinstance(frame, Settings):
            body = struct.pack(">I", len(frame.entries)) + b"".join(
                struct.pack(">II", (flags << 24) | ident, value) for flags, ident, value in frame.entries
            )
            return _control(TYPE_SETTINGS, 0, body)
        if isinstance(frame, Ping):
            return _control(TYPE_PING, 0, struct.pack(">I", frame.ping_id))
        if isinstance(frame, GoAway):
            return _control(TYPE_GOAWAY, 0, struct.pack(">II", frame.last_good_stream_id, frame.status))
        return _control(TYPE_WINDOW_UPDATE, 0, struct.pack(">II", frame.stream_id, frame.delta))


def _frame_bytes(first_word: int, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_LENGTH:
        raise ValueError(f"SPDY frame payload of {len(payload)} bytes exceeds {MAX_LENGTH}")
    return struct.pack(">II", first_word, (flags << 24) | len(payload)) + payload


def _control(kind: int, flags: int, payload: bytes) -> bytes:
    return _frame_bytes(0x80000000 | (VERSION << 16) | kind, flags, payload)


# --- negotiation ----------------------------------------------------------------------------
def is_spdy_upgrade(headers: Mapping[str, str]) -> bool:
    """Whether a request asks for ``Upgrade: SPDY/3.1`` (header names case-insensitive)."""
    upgrade = next((v for k, v in headers.items() if k.lower() == "upgrade"), "")
    return any(token.strip().lower() == UPGRADE_TOKEN.lower() for token in upgrade.split(","))


def negotiate_protocol(offered: Iterable[str]) -> str | None:
    """The first protocol the client offers that this server speaks (client order wins).

    Each ``X-Stream-Protocol-Version`` header carries one protocol; comma-joined values (a proxy
    may fold repeated headers) are split too.
    """
    for value in offered:
        for protocol in value.split(","):
            if protocol.strip() in SUPPORTED_PROTOCOLS:
                return protocol.strip()
    return None


def upgrade_response(protocol: str) -> bytes:
    """The ``101 Switching Protocols`` answer, with the negotiated stream protocol."""
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Connection: Upgrade\r\n"
        f"Upgrade: {UPGRADE_TOKEN}\r\n"
        f"{PROTOCOL_HEADER}: {protocol}\r\n"
        "\r\n"
    ).encode("ascii")


def refusal_response(offered: Sequence[str]) -> bytes:
    """403 when no protocol matches, worded like the kubelet's ``httpstream.Handshake``."""
    body = (
        "unable to upgrade: unable to negotiate protocol: client supports "
        f"{list(offered)}, server supports {list(SUPPORTED_PROTOCOLS)}"
    ).encode()
    return (
        "HTTP/1.1 403 Forbidden\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n"
        "\r\n"
    ).encode("ascii") + body


def exit_status(exit_code: int) -> bytes:
    """The v4 error-stream payload for a process that exited with ``exit_code``.

    As the kubelet writes it: ``Success``, or ``Failure`` with reason ``NonZeroExitCode`` and a
    cause of type (JSON ``reason``) ``ExitCode`` whose message is the code in decimal.
    """
    if exit_code == 0:
        status: dict[str, object] = {"metadata": {}, "status": "Success"}
    else:
        status = {
            "metadata": {},
            "status": "Failure",
            "message": f"command terminated with non-zero exit code: exit status {exit_code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]},
        }
    return json.dumps(status, separators=(",", ":")).encode()


# --- one exec session -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ExecOptions:
    """What the kubelet's ``/exec`` query asked for (``command``, ``input``, ``output``, ...)."""

    command: tuple[str, ...]
    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    tty: bool = False

    def expected_streams(self) -> frozenset[str]:
        """The ``streamType``s the client will open (v4: no stderr stream with a tty)."""
        wanted = {"error"}
        if self.stdin:
            wanted.add("stdin")
        if self.stdout:
            wanted.add("stdout")
        if self.stderr and not self.tty:
            wanted.add("stderr")
        if self.tty:
            wanted.add("resize")
        return frozenset(wanted)


class _Reader(Protocol):
    def read1(self, size: int = ..., /) -> bytes: ...


class _Session:
    """The frames of one upgraded connection: a reader thread in, a lock-guarded writer out."""

    def __init__(self, rfile: _Reader, wfile: BinaryIO, options: ExecOptions) -> None:
        self._rfile = rfile
        self._wfile = wfile
        self._options = options
        self._writer = FrameWriter()
        self._write_lock = threading.Lock()
        self._parser = FrameParser()
        self._streams: dict[str, int] = {}
        self._stream_types: dict[int, str] = {}
        self._last_stream_id = 0
        self._all_streams = threading.Event()
        self._closed = threading.Event()
        self._broken = False
        #: Set by `run` once the process exists; stdin/resize frames arriving earlier are kept.
        self._stdin_sink: Callable[[bytes | None], None] | None = None
        self._resize_sink: Callable[[int, int], None] | None = None
        self._early_stdin: list[bytes | None] = []
        self._sink_lock = threading.Lock()
        self._resize_buffer = b""
        self._pending_size: tuple[int, int] | None = None

    # writing
    def send(self, frame: Frame) -> bool:
        with self._write_lock:
            if self._broken:
                return False
            try:
                self._wfile.write(self._writer.encode(frame))
                self._wfile.flush()
            except OSError:
                self._broken = True
                return False
            return True

    def send_data(self, stream: str, data: bytes, fin: bool = False) -> None:
        stream_id = self._streams.get(stream)
        if stream_id is None:
            return
        for start in range(0, len(data), DATA_CHUNK):
            self.send(DataFrame(stream_id, data[start : start + DATA_CHUNK]))
        if fin:
            self.send(DataFrame(stream_id, b"", fin=True))

    # reading
    def read_loop(self) -> None:
        try:
            while not self._closed.is_set():
                try:
                    chunk = self._rfile.read1(65536)
                except OSError:
                    break
                if not chunk:
                    break
                try:
                    frames = self._parser.feed(chunk)
                except ProtocolError as exc:
                    log.warning("SPDY protocol error from the client: %s", exc)
                    self.send(GoAway(self._last_stream_id, 1))
                    break
                for frame in frames:
                    if not self._handle(frame):
                        return
        finally:
            self._closed.set()
            self._all_streams.set()
            self._deliver_stdin(None)

    def _handle(self, frame: Frame) -> bool:
        if isinstance(frame, SynStream):
            kind = frame.header("streamType") or ""
            self._last_stream_id = max(self._last_stream_id, frame.stream_id)
            if kind not in self._options.expected_streams() or kind in self._streams:
                log.warning("refusing SPDY stream %d of type %r", frame.stream_id, kind)
                self.send(RstStream(frame.stream_id, RST_REFUSED_STREAM))
                return True
            self._streams[kind] = frame.stream_id
            self._stream_types[frame.stream_id] = kind
            self.send(SynReply(frame.stream_id))
            if frame.fin and kind == "stdin":
                self._deliver_stdin(None)
            if self._options.expected_streams() <= self._streams.keys():
                self._all_streams.set()
        elif isinstance(frame, DataFrame):
            kind = self._stream_types.get(frame.stream_id, "")
            if kind == "stdin":
                if frame.data:
                    self._deliver_stdin(frame.data)
                if frame.fin:
                    self._deliver_stdin(None)
            elif kind == "resize" and frame.data:
                self._on_resize(frame.data)
        elif isinstance(frame, RstStream):
            if self._stream_types.get(frame.stream_id) == "stdin":
                self._deliver_stdin(None)
        elif isinstance(frame, Ping):
            self.send(frame)  # a ping from the peer is echoed unchanged
        elif isinstance(frame, GoAway):
            return False
        # SETTINGS, WINDOW_UPDATE, HEADERS, SYN_REPLY: nothing to do (no flow control, see above).
        return True

    def _deliver_stdin(self, data: bytes | None) -> None:
        with self._sink_lock:
            if self._stdin_sink is None:
                self._early_stdin.append(data)
                return
            sink = self._stdin_sink
        sink(data)

    def set_stdin_sink(self, sink: Callable[[bytes | None], None]) -> None:
        with self._sink_lock:
            early, self._early_stdin = self._early_stdin, []
            self._stdin_sink = sink
        for data in early:
            sink(data)

    def set_resize_sink(self, sink: Callable[[int, int], None]) -> None:
        with self._sink_lock:
            self._resize_sink = sink
            pending, self._pending_size = self._pending_size, None
        if pending is not None:
            sink(*pending)

    def _on_resize(self, data: bytes) -> None:
        # kubectl writes one JSON object per size change on the stream: split on object ends.
        self._resize_buffer += data
        decoder = json.JSONDecoder()
        text = self._resize_buffer.decode("utf-8", "replace")
        pos = 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            try:
                size, end = decoder.raw_decode(text, pos)
            except ValueError:
                break
            pos = end
            if not isinstance(size, dict):
                continue
            width, height = int(size.get("Width", 0)), int(size.get("Height", 0))
            with self._sink_lock:
                sink = self._resize_sink
                if sink is None:  # before the terminal exists: applied when it does
                    self._pending_size = (width, height)
            if sink is not None:
                sink(width, height)
        self._resize_buffer = text[pos:].encode()

    def wait_for_streams(self, timeout: float) -> bool:
        self._all_streams.wait(timeout)
        return self._options.expected_streams() <= self._streams.keys()

    @property
    def last_stream_id(self) -> int:
        return self._last_stream_id

    def close(self) -> None:
        self._closed.set()


def _set_winsize(fd: int, width: int, height: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def _pump(read: Callable[[], bytes], session: _Session, stream: str) -> None:
    """Copy one output of the process into DATA frames until EOF, then FIN."""
    while True:
        try:
            chunk = read()
        except OSError as exc:
            if exc.errno != errno.EIO:  # EIO: the pty's slave side is closed
                log.warning("reading the process's %s failed: %s", stream, exc)
            chunk = b""
        if not chunk:
            break
        session.send_data(stream, chunk)
    session.send_data(stream, b"", fin=True)


def serve_exec(
    rfile: _Reader,
    wfile: BinaryIO,
    *,
    protocols: Sequence[str],
    options: ExecOptions,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stream_timeout: float = 30.0,
) -> int | None:
    """Answer an ``Upgrade: SPDY/3.1`` exec request whose HTTP head has already been read.

    ``rfile`` is the connection's buffered reader (bytes the client sent after the head may sit
    in its buffer, so never the raw socket), ``wfile`` its writer; ``protocols`` the values of
    every ``X-Stream-Protocol-Version`` header. Returns the exit code, or None when nothing ran
    (no common protocol: 403 written; streams missing; spawning failed). The caller closes the
    connection afterwards.
    """
    protocol = negotiate_protocol(protocols)
    if protocol is None:
        wfile.write(refusal_response(protocols))
        wfile.flush()
        return None
    wfile.write(upgrade_response(protocol))
    wfile.flush()
    session = _Session(rfile, wfile, options)
    reader = threading.Thread(target=session.read_loop, name="spdy-exec-reader", daemon=True)
    reader.start()
    try:
        if not session.wait_for_streams(stream_timeout):
            log.warning("SPDY exec: the client did not open the streams %s", sorted(options.expected_streams()))
            session.send(GoAway(session.last_stream_id))
            return None
        return _run(session, options, cwd=cwd, env=env)
    finally:
        session.send(GoAway(session.last_stream_id))
        session.close()


def _run(session: _Session, options: ExecOptions, *, cwd: str | None, env: Mapping[str, str] | None) -> int | None:
    master: int | None = None
    try:
        if options.tty:
            master, slave = pty.openpty()
            tty_fd = master
            session.set_resize_sink(lambda width, height: _set_winsize(tty_fd, width, height))
            try:
                proc = subprocess.Popen(
                    list(options.command),
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    cwd=cwd,
                    env=None if env is None else dict(env),
                    start_new_session=True,
                )
            finally:
                os.close(slave)
        else:
            proc = subprocess.Popen(
                list(options.command),
                stdin=subprocess.PIPE if options.stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE if options.stdout else subprocess.DEVNULL,
                stderr=subprocess.PIPE if options.stderr else subprocess.DEVNULL,
                cwd=cwd,
                env=None if env is None else dict(env),
                bufsize=0,
            )
    except OSError as exc:
        # As the kubelet: a command that cannot start is an error Status, not an exit code.
        message = f"failed to exec in container: {exc}"
        session.send_data("stderr", message.encode() + b"\n", fin=True)
        body = {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError"}
        session.send_data("error", json.dumps(body).encode(), fin=True)
        if master is not None:
            os.close(master)
        return None

    pumps: list[threading.Thread] = []
    if master is not None:
        fd = master

        def write_stdin(data: bytes | None) -> None:
            if data is None:
                with contextlib.suppress(OSError):
                    os.write(fd, b"\x04")  # EOF on a terminal is ^D
                return
            with contextlib.suppress(OSError):
                os.write(fd, data)

        pumps.append(threading.Thread(target=_pump, args=(lambda: os.read(fd, DATA_CHUNK), session, "stdout")))
    else:
        stdin_pipe = proc.stdin

        def write_stdin(data: bytes | None) -> None:
            if stdin_pipe is None:
                return
            try:
                if data is None:
                    stdin_pipe.close()
                else:
                    stdin_pipe.write(data)
            except (OSError, ValueError):
                pass  # the process stopped reading (or exited): the rest of stdin is dropped

        for name, pipe in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if pipe is not None:
                pumps.append(
                    threading.Thread(target=_pump, args=(lambda p=pipe: p.read(DATA_CHUNK), session, name))
                )
    session.set_stdin_sink(write_stdin)
    for pump in pumps:
        pump.daemon = True
        pump.start()
    code = proc.wait()
    if master is not None:
        # The pty's output may outlive the process by a moment; its pump ends on EIO.
        for pump in pumps:
            pump.join(timeout=10)
        os.close(master)
    for pump in pumps:
        pump.join()
    exit_code = code if code >= 0 else 128 - code  # killed by signal N: 128+N, like a shell
    session.send_data("error", exit_status(exit_code), fin=True)
    return exit_code
