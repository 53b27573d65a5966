"""The spam filter and the rate limit of the drop log: two small pure policies.

:class:`SpamFilter` is client-go's ``EventSourceObjectSpamFilter``: one token bucket per
source and object (reporting controller and instance; the regarding object's kind,
apiVersion, namespace, name and uid -- not the reason or the note), holding ``burst``
tokens (25) refilled at ``qps`` (one per 5 minutes). An event is refused when its bucket
is empty; a refusal does not consume. Buckets live in an LRU of ``cache_size`` (4096)
entries, so a controller touching many objects keeps bounded memory (an evicted object
starts again with a full bucket, as in client-go).

:class:`LogLimiter` lets a message through at most once per ``interval`` seconds and
counts what it held back, so a flood of drops costs one debug line per interval.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from ..ratelimit import TokenBucket
from .body import Event

DEFAULT_SPAM_QPS = 1.0 / 300.0
DEFAULT_SPAM_BURST = 25
DEFAULT_CACHE_SIZE = 4096


def spam_key(event: Event) -> Hashable:
    ref = event.regarding
    return (event.reporting_controller, event.reporting_instance, ref.kind, ref.namespace,
            ref.name, ref.uid, ref.api_version)


class SpamFilter:
    """``allow(event, now)``: whether this source may write one more event about this object."""

    def __init__(self, qps: float = DEFAULT_SPAM_QPS, burst: int = DEFAULT_SPAM_BURST,
                 cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        if burst < 1:
            raise ValueError(f"spam_burst must be >= 1, got {burst}")
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size}")
        self.qps = qps
        self.burst = burst
        self.cache_size = cache_size
        self._buckets: OrderedDict[Hashable, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, event: Event, now: float) -> bool:
        key = spam_key(event)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.qps, self.burst, now=now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.cache_size:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.try_take(now)


class LogLimiter:
    """``ready(now)`` -> ``None`` (stay quiet) or how many messages were held back before."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._last: float | None = None
        self._held = 0

    def ready(self, now: float) -> int | None:
        if self._last is not None and now - self._last < self.interval:
            self._held += 1
            return None
        held, self._held, self._last = self._held, 0, now
        return held
