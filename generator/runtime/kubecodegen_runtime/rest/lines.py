"""Splitting a byte stream into lines in linear time and bounded memory; no I/O.

Watch streams (one JSON event per line) and followed logs both arrive as chunks cut
anywhere. The naive approach -- append each chunk to a buffer, then search the whole
buffer for a newline -- rescans and recopies the buffer on every chunk, which is
quadratic in the length of a line (a 155 MB log line without a newline took minutes),
and lets a line without a newline grow without bound. :class:`LineSplitter` instead
searches only each new chunk, keeps the pieces of an unfinished line in a list, joins
them exactly once when the newline arrives, and refuses a line longer than its limit.

Splitting bytes (not text) is safe for UTF-8: a newline byte never occurs inside a
multi-byte sequence, so every complete line is complete UTF-8.
"""

from __future__ import annotations

from ..errors import LineTooLong

#: Default longest line (bytes) of a watch or log stream: far above the largest object
#: etcd stores (about 1.5 MiB by default), far below what would exhaust memory.
DEFAULT_MAX_LINE = 64 * 1024 * 1024


class LineSplitter:
    """Chunks in, complete lines (without the newline) out.

    ``copied`` counts the bytes joined into lines from earlier chunks: every byte is
    copied at most once, so it never exceeds the bytes fed (a cost the tests check
    instead of timing it).
    """

    __slots__ = ("_parts", "_size", "copied", "max_line", "what")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE, *, what: str = "line") -> None:
        if max_line <= 0:
            raise ValueError(f"max_line must be positive, got {max_line}")
        self.max_line = max_line
        self.what = what
        self._parts: list[bytes] = []
        self._size = 0
        self.copied = 0

    def _too_long(self, size: int) -> LineTooLong:
        return LineTooLong(
            f"a {self.what} grew past {self.max_line} bytes without a newline "
            f"({size} bytes so far)", limit=self.max_line,
        )

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add a chunk; return the lines it completed (possibly none)."""
        if not chunk:
            return []
        if b"\n" not in chunk:  # scans only the new bytes
            self._size += len(chunk)
            if self._size > self.max_line:
                raise self._too_long(self._size)
            self._parts.append(chunk)
            return []
        lines = chunk.split(b"\n")
        if self._parts:
            head = b"".join([*self._parts, lines[0]])
            self.copied += len(head)
            lines[0] = head
            self._parts = []
        rest = lines.pop()
        self._size = len(rest)
        if rest:
            self._parts.append(rest)
        for line in lines:
            if len(line) > self.max_line:
                raise self._too_long(len(line))
        if self._size > self.max_line:
            raise self._too_long(self._size)
        return lines

    def close(self) -> bytes:
        """End of stream: the unfinished last line (``b""`` if there is none)."""
        rest = b"".join(self._parts)
        self._parts, self._size = [], 0
        return rest
