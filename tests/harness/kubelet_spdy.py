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

* `SpdyExecSession` (asyncio, as the test kubelet): one exec session over an upgraded
  connection, the kubelet's remotecommand server (``pkg/kubelet/cri/streaming/remotecommand``)
  in miniature, and `spdy_handler`, which plugs it into `TestKubelet.spdy_handler`:

  1. negotiate the stream protocol from the client's ``X-Stream-Protocol-Version`` headers
     (only ``v4.channel.k8s.io`` is served: its error stream carries a JSON ``Status``; kubectl
     1.20 offers v4 first) and answer ``101 Switching Protocols`` with ``Upgrade: SPDY/3.1``
     (403 with the kubelet's wording when nothing matches);
  2. accept the client's streams (each SYN_STREAM answered by an empty SYN_REPLY), told apart by
     their ``streamType`` header: ``error``, ``stdin``, ``stdout``, ``stderr``, ``resize``; a
     stream the query did not ask for is refused (RST_STREAM); wait until all asked for exist;
  3. start the command the test kubelet's way (`kubelet_process.ContainerProcess`: a real host
     process, a pty when ``tty``), feed it the ``stdin`` DATA (FIN closes its stdin), apply
     ``resize`` messages (JSON ``{"Width":..,"Height":..}``), send its output as DATA frames;
  4. when it exits: FIN on stdout/stderr, the ``Status`` on the error stream (``Success``, or
     ``Failure``/``NonZeroExitCode`` with the ``ExitCode`` cause), FIN, then GOAWAY. The kubelet
     closes the connection, as the real one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import struct
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from .kubelet_exec import exit_status, internal_error_status, success_status

if TYPE_CHECKING:
    from .kubelet import StreamUpgrade

__all__ = [
    "DICTIONARY",
    "PROTOCOL_V4",
    "SUPPORTED_PROTOCOLS",
    "UPGRADE_TOKEN",
    "DataFrame",
    "Frame",
    "FrameParser",
    "FrameWriter",
    "GoAway",
    "HeadersFrame",
    "Ping",
    "Process",
    "ProtocolError",
    "ResizeDecoder",
    "RstStream",
    "Settings",
    "SpdyExecSession",
    "StreamFlags",
    "SynReply",
    "SynStream",
    "WindowUpdate",
    "expected_streams",
    "negotiate_protocol",
    "spdy_handler",
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


def _status_bytes(status: Mapping[str, object]) -> bytes:
    """The v4 error-stream payload: the kubelet's ``Status`` as compact JSON."""
    return json.dumps(status, separators=(",", ":")).encode()


# --- one exec session -----------------------------------------------------------------------
class StreamFlags(Protocol):
    """The query flags as the test kubelet parses them (its ``StreamOptions`` fits)."""

    @property
    def stdin(self) -> bool: ...
    @property
    def stdout(self) -> bool: ...
    @property
    def stderr(self) -> bool: ...
    @property
    def tty(self) -> bool: ...


def expected_streams(flags: StreamFlags) -> frozenset[str]:
    """The ``streamType``s the client opens for these flags (v4: no stderr stream with a tty)."""
    wanted = {"error"}
    if flags.stdin:
        wanted.add("stdin")
    if flags.stdout:
        wanted.add("stdout")
    if flags.stderr and not flags.tty:
        wanted.add("stderr")
    if flags.tty:
        wanted.add("resize")
    return frozenset(wanted)


class Process(Protocol):
    """A started command as the test kubelet runs it (`kubelet_process.ContainerProcess`).

    ``output`` yields ``(stream, data)`` (stream "stdout" or "stderr"; with a tty everything is
    "stdout") and then None once every output has ended.
    """

    output: asyncio.Queue[tuple[str, bytes] | None]

    async def write_stdin(self, data: bytes) -> None: ...
    async def close_stdin(self) -> None: ...
    def resize(self, width: int, height: int) -> None: ...
    async def wait(self) -> int: ...
    def kill(self) -> None: ...
    def close(self) -> None: ...


class ResizeDecoder:
    """kubectl writes one JSON object per terminal size change; frames may cut them anywhere."""

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> list[tuple[int, int]]:
        self._buffer += data.decode("utf-8", "replace")
        sizes: list[tuple[int, int]] = []
        pos = 0
        while True:
            while pos < len(self._buffer) and self._buffer[pos].isspace():
                pos += 1
            try:
                size, end = self._decoder.raw_decode(self._buffer, pos)
            except ValueError:
                break
            pos = end
            if isinstance(size, dict):
                try:
                    sizes.append((int(size["Width"]), int(size["Height"])))
                except (KeyError, TypeError, ValueError):
                    log.warning("ignoring a resize message without Width/Height: %r", size)
        self._buffer = self._buffer[pos:]
        return sizes


class SpdyExecSession:
    """One exec session on an upgraded connection (after the 101 went out), asyncio.

    ``initial`` is what the HTTP parser had already read past the request head (the client may
    send its first SYN_STREAMs right behind it).
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        options: StreamFlags,
        initial: bytes = b"",
        *,
        stream_timeout: float = 30.0,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._expected = expected_streams(options)
        self._initial = initial
        self._stream_timeout = stream_timeout
        self._parser = FrameParser()
        self._frames = FrameWriter()
        self._write_lock = asyncio.Lock()
        self._streams: dict[str, int] = {}
        self._types: dict[int, str] = {}
        self._last_stream_id = 0
        self._ready = asyncio.Event()
        self._process: Process | None = None
        self._process_started = asyncio.Event()
        self._resize = ResizeDecoder()
        self._early_sizes: list[tuple[int, int]] = []
        self._stdin: list[bytes | None] = []
        self._stdin_ready = asyncio.Event()
        self.exit_code: int | None = None

    async def send(self, frame: Frame) -> None:
        async with self._write_lock:
            self._writer.write(self._frames.encode(frame))
            await self._writer.drain()

    async def send_data(self, stream: str, data: bytes, *, fin: bool = False) -> None:
        stream_id = self._streams.get(stream)
        if stream_id is None:
            return
        for start in range(0, len(data), DATA_CHUNK):
            await self.send(DataFrame(stream_id, data[start : start + DATA_CHUNK]))
        if fin:
            await self.send(DataFrame(stream_id, b"", fin=True))

    async def run(self, start: Callable[[], Awaitable[Process]]) -> int | None:
        """Accept the streams, run the command, report its exit; the exit code (None: not run)."""
        inbound = asyncio.ensure_future(self._read_loop())
        stdin_pump: asyncio.Task[None] | None = None
        try:
            try:
                await asyncio.wait_for(self._ready.wait(), self._stream_timeout)
            except asyncio.TimeoutError:
                missing = sorted(self._expected - self._streams.keys())
                log.warning("SPDY exec: the client never opened the streams %s", missing)
                return None
            try:
                process = await start()
            except OSError as exc:
                status = internal_error_status(f"error executing command in container: {exc}")
                await self.send_data("error", _status_bytes(status), fin=True)
                return None
            self._process = process
            for width, height in self._early_sizes:
                process.resize(width, height)
            stdin_pump = asyncio.ensure_future(self._pump_stdin(process))
            try:
                while True:
                    item = await process.output.get()
                    if item is None:
                        break
                    stream, data = item  # with a tty everything is "stdout" already
                    await self.send_data(stream, data)  # a stream not asked for drops it
                for stream in ("stdout", "stderr"):
                    await self.send_data(stream, b"", fin=True)
                code = await process.wait()
                self.exit_code = code
                status = success_status() if code == 0 else exit_status(code)
                await self.send_data("error", _status_bytes(status), fin=True)
                return code
            finally:
                process.kill()
                process.close()
        except (ConnectionError, OSError) as exc:
            log.info("SPDY exec stream ended early: %s", exc)
            return None
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                await self.send(GoAway(self._last_stream_id))
            if stdin_pump is not None:
                stdin_pump.cancel()
            inbound.cancel()
            await asyncio.gather(inbound, *([stdin_pump] if stdin_pump else []), return_exceptions=True)

    async def _read_loop(self) -> None:
        data = self._initial
        try:
            while True:
                if data:
                    try:
                        frames = self._parser.feed(data)
                    except ProtocolError as exc:
                        log.warning("SPDY protocol error from the client: %s", exc)
                        await self.send(GoAway(self._last_stream_id, 1))
                        return
                    for frame in frames:
                        if not await self._handle(frame):
                            return
                data = await self._reader.read(65536)
                if not data:
                    return
        except (ConnectionError, OSError):
            return
        finally:
            self._queue_stdin(None)  # the client is gone: so is its input

    async def _handle(self, frame: Frame) -> bool:
        if isinstance(frame, SynStream):
            kind = (frame.header("streamType") or "").lower()
            self._last_stream_id = max(self._last_stream_id, frame.stream_id)
            if kind not in self._expected or kind in self._streams:
                log.warning("refusing SPDY stream %d of type %r", frame.stream_id, kind)
                await self.send(RstStream(frame.stream_id, RST_REFUSED_STREAM))
                return True
            self._streams[kind] = frame.stream_id
            self._types[frame.stream_id] = kind
            await self.send(SynReply(frame.stream_id))
            if frame.fin and kind == "stdin":
                self._queue_stdin(None)
            if self._expected <= self._streams.keys():
                self._ready.set()
        elif isinstance(frame, DataFrame):
            kind = self._types.get(frame.stream_id, "")
            if kind == "stdin":
                if frame.data:
                    self._queue_stdin(frame.data)
                if frame.fin:
                    self._queue_stdin(None)
            elif kind == "resize" and frame.data:
                for size in self._resize.feed(frame.data):
                    if self._process is None:
                        self._early_sizes.append(size)
                    else:
                        self._process.resize(*size)
        elif isinstance(frame, RstStream):
            if self._types.get(frame.stream_id) == "stdin":
                self._queue_stdin(None)
        elif isinstance(frame, Ping):
            await self.send(frame)  # the peer's ping, echoed unchanged
        elif isinstance(frame, GoAway):
            return False
        # SETTINGS, WINDOW_UPDATE, HEADERS, SYN_REPLY: nothing to do (no flow control, see above).
        return True

    def _queue_stdin(self, data: bytes | None) -> None:
        """Input in arrival order; None ends it. Kept until the process exists."""
        if self._stdin and self._stdin[-1] is None:
            return
        self._stdin.append(data)
        self._stdin_ready.set()

    async def _pump_stdin(self, process: Process) -> None:
        while True:
            await self._stdin_ready.wait()
            self._stdin_ready.clear()
            pending, self._stdin = self._stdin, []
            for data in pending:
                if data is None:
                    await process.close_stdin()
                    return
                await process.write_stdin(data)


def _header_values(headers: Iterable[tuple[bytes, bytes]], name: str) -> list[str]:
    wanted = name.lower().encode()
    return [value.decode("latin-1") for key, value in headers if key.lower() == wanted]


async def spdy_handler(upgrade: StreamUpgrade) -> None:
    """The test kubelet's ``spdy_handler``: exec over SPDY/3.1 (attach/portforward: 400).

    Answers through the kubelet's `StreamUpgrade.switch`/`refuse` (h11 hands over the bytes it
    read past the request head), then runs a `SpdyExecSession`. The kubelet closes the
    connection when this returns.
    """
    if upgrade.kind != "exec" or upgrade.options is None:
        await upgrade.refuse(400, f"{upgrade.kind} over SPDY is not served by the test kubelet (only exec)")
        return
    offered = _header_values(upgrade.request.headers, PROTOCOL_HEADER)
    protocol = negotiate_protocol(offered)
    if protocol is None:
        await upgrade.refuse(
            403,
            "unable to upgrade: unable to negotiate protocol: client supports "
            f"{offered}, server supports {list(SUPPORTED_PROTOCOLS)}",
        )
        return
    initial = await upgrade.switch(
        [("Connection", "Upgrade"), ("Upgrade", UPGRADE_TOKEN), (PROTOCOL_HEADER, protocol)]
    )
    session = SpdyExecSession(upgrade.reader, upgrade.writer, upgrade.options, initial)
    await session.run(upgrade.start_process)
