"""How much a client reads, and for how long, before it gives up on an answer.

Without bounds, a broken or hostile server (or anything in between) can make a client
hold a body of any size, grow one stream line forever, or keep a request alive by
trickling a byte before every read timeout. :class:`Limits` is the one place these
bounds are set; the REST clients pass it to the transport (sizes, deadline) and to the
stream decoders (line size).
"""

from __future__ import annotations

from dataclasses import dataclass

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
