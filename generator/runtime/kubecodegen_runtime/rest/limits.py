"""How much a client reads, and for how long, before it gives up on an answer.

Without bounds, a broken or hostile server (or anything in between) can make a client
hold a body of any size, grow one stream line forever, or keep a request alive by
trickling a byte before every read timeout. :class:`Limits` is the one place these
bounds are set; the REST clients pass it to the transport (sizes, deadline) and to the
stream decoders (line size).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import DeadlineExceeded, ResponseTooLarge
from .lines import DEFAULT_MAX_LINE

#: Default largest body of a non-streaming answer. An unpaged list of a large cluster
#: can be hundreds of MB; paged reads (``list_all``, informers) stay far below this.
DEFAULT_MAX_RESPONSE = 512 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Size and time bounds of every request a client sends.

    ``max_response_bytes`` bounds a whole (non-streaming) body after decompression;
    ``max_line_bytes`` one line of a watch or log stream; ``deadline`` is the total
    time in seconds a non-streaming request may take from connect to the last byte
    (``None``: the ``ClientConfig.timeout``, as client-go's ``Timeout`` is the whole
    request's). Streams (watch, log follow) have no deadline: the server ends a watch
    after ``timeoutSeconds``, and a followed log may legitimately last forever.
    """

    max_response_bytes: int = DEFAULT_MAX_RESPONSE
    max_line_bytes: int = DEFAULT_MAX_LINE
    deadline: float | None = None

    def __post_init__(self) -> None:
        if self.max_response_bytes <= 0 or self.max_line_bytes <= 0:
            raise ValueError("Limits: sizes must be positive")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("Limits: deadline must be positive (or None)")

    def deadline_for(self, timeout: float) -> float:
        """The total time a non-streaming request may take, given the config timeout."""
        return self.deadline if self.deadline is not None else timeout


DEFAULT_LIMITS = Limits()


class BodyCollector:
    """Gathers a non-streaming body chunk by chunk, within the size limit and deadline.

    Sans-IO: both transports feed it the chunks they read. A ``Content-Length`` above
    the limit is refused before reading anything; otherwise reading stops as soon as
    the decompressed size passes the limit (so at most ``limit`` bytes are ever held)
    or the deadline has passed (a server trickling a byte per read timeout).
    """

    __slots__ = ("_deadline", "_limit", "_method", "_parts", "_path", "_size", "_total")

    def __init__(self, limits: Limits, total: float, method: str, path: str,
                 started: float) -> None:
        self._limit = limits.max_response_bytes
        self._total = total
        self._deadline = started + total
        self._method = method
        self._path = path
        self._parts: list[bytes] = []
        self._size = 0

    def too_large(self, size: int, status: int) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"the response body is larger than the limit of {self._limit} bytes "
            f"({size} bytes)", limit=self._limit, method=self._method, path=self._path,
            status=status,
        )

    def expired(self, url: str) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"the request took longer than its deadline of {self._total:g} s",
            method=self._method, url=url,
        )

    def declared(self, headers: Mapping[str, str], status: int) -> None:
        """Refuse a declared length above the limit (uncompressed bodies only); ``headers``
        is case-insensitive (httpx's)."""
        length = headers.get("content-length")
        declared = int(length) if length and length.isdigit() else 0
        if "content-encoding" not in headers and declared > self._limit:
            raise self.too_large(declared, status)

    def add(self, chunk: bytes, status: int, url: str) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            self._parts.clear()
            raise self.too_large(self._size, status)
        if time.monotonic() > self._deadline:
            self._parts.clear()
            raise self.expired(url)
        self._parts.append(chunk)

    def body(self) -> bytes:
        """The whole body (joined once); the collector lets go of its chunks."""
        parts, self._parts = self._parts, []
        return parts[0] if len(parts) == 1 else b"".join(parts)
