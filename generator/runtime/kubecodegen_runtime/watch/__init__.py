"""Watch streams: typed event records and the incremental decoder."""

from .decode import WatchDecodeError, WatchDecoder, event_union, watch_error
from .event import INITIAL_EVENTS_END, Bookmark, EventType, WatchEvent

__all__ = [
    "INITIAL_EVENTS_END",
    "Bookmark",
    "EventType",
    "WatchDecodeError",
    "WatchDecoder",
    "WatchEvent",
    "event_union",
    "watch_error",
]
