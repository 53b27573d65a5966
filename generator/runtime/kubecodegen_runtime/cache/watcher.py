"""The list/watch state machine: what to request next, and what it means for the cache.

:class:`Watcher` performs no I/O. A driver feeds it what the API server answered and
gets back a :class:`Step`: events for the cache, and the next request to issue as a plain
record (:class:`ListRequest` / :class:`WatchRequest`). The thread and asyncio drivers are
thin loops around it::

    step = watcher.start()
    loop:
        handle step.events (delta processing)
        if step.backoff: sleep(next(backoff))
        if step.request is a ListRequest: issue it, then feed on_list_page / on_list_error
        if step.request is a WatchRequest: open it (on_watch_error if that fails), then
            feed each decoded event to on_watch_event (on_watch_undecodable when its
            object did not decode), and on_watch_closed / on_watch_error
            when the stream ends; a step with a request means: drop the stream, issue it.

Inputs are typed records, never strings or rebuilt dicts: a watch event is the decoder's
:class:`~..watch.event.WatchEvent` or :class:`~..watch.event.Bookmark`; an ``ERROR`` event
arrives the way the decoder delivers it, as the typed :class:`~..errors.ApiError` it raises,
through ``on_watch_error``; a failed LIST is its exception. The requests the watcher asks
for are records too (:class:`ListRequest`, :class:`WatchRequest`); the driver turns them into
HTTP requests with :mod:`..rest.request`, the one place requests are built.

States (what is outstanding after a step):

* ``EMPTY`` -- a first-page LIST is outstanding; nothing of this listing received yet.
* ``INIT_PAGE`` -- a continuation page of the LIST is outstanding.
* ``INIT_LISTED`` -- the LIST is complete; a WATCH is requested but not open yet.
* ``INIT_STREAM`` -- a watch-list is outstanding (see below): its initial events are
  arriving, or it is requested but not open yet.
* ``WATCHING`` -- the watch stream is delivering events.

Events (kube-rs's vocabulary) bracket each full listing: ``Init``, then one ``InitApply`` per
listed object, then ``InitDone``; after that ``Apply`` (added or modified) and ``Delete``.
Anything cached but not listed between ``Init`` and ``InitDone`` is gone from the server.

Watch-list (``WatcherConfig.watch_list``; client-go's WatchListClient, KEP-3157): the full
listing comes as the first events of a watch instead of LIST pages, so the server never
builds a whole page (and the client never holds one):

* The request is a WATCH with ``sendInitialEvents=true``, ``resourceVersionMatch=NotOlderThan``
  and bookmarks, from the last synced resourceVersion (``""`` at first and after a 410:
  the most recent state, as client-go asks).
* Each initial ``ADDED`` is an ``InitApply`` (``Init`` opens the bracket with the stream's
  first event); the bookmark annotated ``k8s.io/initial-events-end`` is ``InitDone`` at its
  resourceVersion, and the same stream goes on as an ordinary watch (``WATCHING``).
  Versions of initial events and of other bookmarks do not count until then.
* Before that bookmark, a stream that ends, breaks or sends a ``DELETED`` restarts the
  watch-list with backoff (a 410 also forgets the version); nothing is deleted from the
  cache by an unfinished listing.
* A server that refuses the request (kube-apiserver before 1.27, or with the feature
  off, answers 422 Invalid or 400) makes the watcher fall back to LIST + WATCH at once,
  for its lifetime.
* After ``InitDone`` every rule above applies unchanged, except that a relist is a
  watch-list again.

Objects the driver could not decode (see :mod:`.tolerant`) are fed by key, never as
objects, and never stop the machine:

* a listed key without a usable object (``on_list_page(..., unavailable=keys)``) yields
  ``InitKeep(key)``: the object exists, so it is not gone; whatever the cache holds for
  it stays (a stale version beats a false deletion);
* an undecodable ``ADDED``/``MODIFIED`` (``on_watch_undecodable``) advances the
  resourceVersion like any event and yields nothing (the cached version, if any, stays
  until a decodable version arrives); an undecodable ``DELETED`` yields
  ``DeleteKey(key)``: the object is gone, its final state unknown.

resourceVersion rules (client-go's reflector, with kube-rs's resume-instead-of-relist):

* The first LIST uses ``resourceVersion=0`` (:attr:`ListSemantic.ANY`): the API server
  answers from its watch cache without an etcd quorum read, which is what keeps thousands
  of informers restarting together from flattening etcd. The data can be slightly stale;
  the watch that follows brings it up to date. ``limit`` is sent; a watch cache may ignore
  it and answer in one page. :attr:`ListSemantic.MOST_RECENT` uses ``""`` (a consistent
  read) for every LIST instead.
* Continuation pages send ``continue`` and ``limit`` and no resourceVersion (the token
  pins it; the server rejects both).
* A relist after a watch failed with 410 Gone uses the last seen resourceVersion: a LIST
  "not older than" it is served from the watch cache, and nothing goes back in time. To
  keep that cheap, ``limit`` is dropped for such an exact version unless the server
  paginated a ``resourceVersion=0`` list before (then there is no watch cache to protect).
* If a LIST fails with 410 (or "too large resource version", see
  :func:`is_resource_version_too_large`), the version is marked
  unavailable and the LIST is retried at once with ``""``; the mark clears on success.
* The WATCH starts at the version of the completed LIST and each event, bookmark
  (``allowWatchBookmarks=true``) and relist advances it. ``timeoutSeconds`` is random in
  ``[min_watch_timeout, 2·min_watch_timeout)`` so watches of many clients do not expire
  in step.

Failure handling: a 410 (or "too large resource version") during a watch returns to
``EMPTY`` (relist). Any other error (connection refused or reset, 429, 5xx, an ERROR event
with another code) resumes the watch from the last version without relisting. A stream that ends normally is
re-opened at once; one that ends within ``short_watch_threshold`` seconds without
delivering a single event counts as a failure. Every failure asks for a backoff delay
except the immediate ``""`` retry after a LIST's 410.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..errors import ApiError
from ..watch.event import Bookmark, EventType, WatchEvent
from ..watch.watch_list import refuses_watch_list
from .keys import get_resource_version

T = TypeVar("T")


class WatcherState(enum.Enum):
    EMPTY = "Empty"
    INIT_PAGE = "InitPage"
    INIT_LISTED = "InitListed"
    INIT_STREAM = "InitStream"
    WATCHING = "Watching"


class ListSemantic(enum.Enum):
    """Which resourceVersion LISTs use (see the module docstring)."""

    ANY = "any"
    MOST_RECENT = "most_recent"


@dataclass(frozen=True, slots=True)
class WatcherConfig:
    """What to list/watch and how; selectors are canonical strings (``str(Selector)``)."""

    label_selector: str | None = None
    field_selector: str | None = None
    page_size: int | None = 500
    allow_watch_bookmarks: bool = True
    min_watch_timeout: float = 300.0
    short_watch_threshold: float = 1.0
    list_semantic: ListSemantic = ListSemantic.ANY
    watch_list: bool = False

    def __post_init__(self) -> None:
        if self.page_size is not None and self.page_size <= 0:
            raise ValueError(f"page_size must be positive or None, got {self.page_size}")
        if self.min_watch_timeout < 1:
            raise ValueError(f"min_watch_timeout must be >= 1 s, got {self.min_watch_timeout}")


@dataclass(frozen=True, slots=True)
class ListRequest:
    """One LIST call. ``resource_version`` ``""`` means omit it (a consistent read)."""

    resource_version: str
    limit: int | None
    continue_token: str | None
    label_selector: str | None = None
    field_selector: str | None = None


@dataclass(frozen=True, slots=True)
class WatchRequest:
    """One WATCH call, resuming after ``resource_version``."""

    resource_version: str
    timeout_seconds: int
    allow_watch_bookmarks: bool
    label_selector: str | None = None
    field_selector: str | None = None
    send_initial_events: bool = False
    """A watch-list (see :mod:`..watch.watch_list`): the current state first, then the
    ``k8s.io/initial-events-end`` bookmark."""


Request = ListRequest | WatchRequest


@dataclass(frozen=True, slots=True)
class Init:
    """A full listing starts; ``InitApply`` events follow until ``InitDone``."""


@dataclass(frozen=True, slots=True)
class InitApply(Generic[T]):
    """An object of the listing in progress."""

    obj: T


@dataclass(frozen=True, slots=True)
class InitDone:
    """The listing is complete at ``resource_version``; unlisted cached objects are gone."""

    resource_version: str


@dataclass(frozen=True, slots=True)
class InitKeep:
    """A listed object that could not be used: ``key`` is not gone; keep its cached state."""

    key: str


@dataclass(frozen=True, slots=True)
class Apply(Generic[T]):
    """The watch reported ``obj`` added or modified."""

    obj: T


@dataclass(frozen=True, slots=True)
class Delete(Generic[T]):
    """The watch reported ``obj`` deleted (its final state)."""

    obj: T


@dataclass(frozen=True, slots=True)
class DeleteKey:
    """The watch reported ``key`` deleted without a usable object (final state unknown)."""

    key: str


WatcherEvent = Init | InitApply[T] | InitKeep | InitDone | Apply[T] | Delete[T] | DeleteKey


class FailureKind(enum.Enum):
    EXPIRED = "expired"
    """410 Gone / reason Expired: the resourceVersion is older than the server keeps."""
    RV_TOO_LARGE = "resource_version_too_large"
    """The server has not caught up with the requested resourceVersion."""
    NO_RESOURCE_VERSION = "no_resource_version"
    """A list or event without metadata.resourceVersion: the resource cannot be resumed."""
    SHORT_WATCH = "short_watch"
    """A watch ended almost at once without delivering anything."""
    FAILED = "failed"
    """Anything else: transport errors, 429, 5xx, 403, error events with other codes."""
    WATCH_LIST_UNSUPPORTED = "watch_list_unsupported"
    """The server refused a watch-list request; the watcher falls back to LIST + WATCH."""


@dataclass(frozen=True, slots=True)
class WatcherFailure:
    """What went wrong, for logs and metrics. ``error`` is the driver's exception, if any."""

    phase: str
    kind: FailureKind
    code: int | None = None
    message: str = ""
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class Step(Generic[T]):
    """The watcher's answer to one input.

    ``events`` go to delta processing in order. ``request`` is the next call to make (the
    current stream, if any, is finished); ``None`` means keep reading the current stream.
    ``backoff`` asks the driver to wait ``next(backoff)`` seconds before ``request``.
    """

    events: tuple[WatcherEvent[T], ...] = ()
    request: Request | None = None
    failure: WatcherFailure | None = None
    backoff: bool = False


class WatcherProtocolError(RuntimeError):
    """The driver fed an input that does not fit the outstanding request (a driver bug)."""


#: The Status cause type (``details.causes[].reason`` on the wire) a server sets when a
#: request asked for a resourceVersion it has not reached yet (metav1.CauseTypeResourceVersionTooLarge).
CAUSE_RESOURCE_VERSION_TOO_LARGE = "ResourceVersionTooLarge"
_TOO_LARGE_TEXT = "Too large resource version"


def is_resource_version_too_large(error: ApiError) -> bool:
    """Whether the server has not caught up with the requested resourceVersion.

    client-go's rule: a Status cause of type ``ResourceVersionTooLarge`` (1.19 and later
    set it); older servers answer a Timeout (504) whose cause message (1.17.0--1.18.5) or
    Status message (before 1.17) says "Too large resource version". Text is consulted only
    on a Timeout, so an unrelated error quoting the phrase is not mistaken for it.
    """
    if any(cause.reason == CAUSE_RESOURCE_VERSION_TOO_LARGE for cause in error.causes):
        return True
    if not (error.reason == "Timeout" or error.status == 504):
        return False
    if any(cause.message == _TOO_LARGE_TEXT for cause in error.causes):
        return True
    return _TOO_LARGE_TEXT in error.message


def classify(error: BaseException | None) -> FailureKind:
    """Map a failure to the kind that decides between resume and relist.

    Only the API server's answers carry that decision (410 Gone or reason Expired/Gone;
    a too-large resourceVersion); every other exception is a plain failure.
    """
    if not isinstance(error, ApiError):
        return FailureKind.FAILED
    if error.status == 410 or error.reason in ("Expired", "Gone"):
        return FailureKind.EXPIRED
    if is_resource_version_too_large(error):
        return FailureKind.RV_TOO_LARGE
    return FailureKind.FAILED


def _failure(phase: str, error: BaseException) -> WatcherFailure:
    """The failure record for ``error``: the HTTP code and the server's message when the
    server answered, the exception's type and text otherwise."""
    if isinstance(error, ApiError):
        return WatcherFailure(phase, classify(error), error.status, error.message, error)
    return WatcherFailure(phase, FailureKind.FAILED, None, _describe(error), error)


_CONTINUE: Step[Any] = Step()

JITTER_RNG = random.Random()
"""The default randomness of watch timeouts and of the reflectors' backoff jitter.

One generator for every informer instead of one each: seeding a ``random.Random()``
reads the OS's entropy (~17 µs, twice per informer). Its draws are independent of which
informer takes them, and ``random()`` is a single C call, atomic under the GIL, so
sharing it across threads is safe."""


class Watcher(Generic[T]):
    """List/watch decisions for one informer; see the module docstring for the rules.

    ``rng`` randomizes watch timeouts, ``clock`` (monotonic seconds) measures watch
    lifetimes; both are injectable for tests.
    """

    def __init__(self, config: WatcherConfig | None = None, *, rng: random.Random | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config if config is not None else WatcherConfig()
        self._rng = rng if rng is not None else JITTER_RNG
        self._clock = clock
        self._state = WatcherState.EMPTY
        self._started = False
        self._last_rv = ""
        self._rv_unavailable = False
        self._paginated_result = False
        self._list_rv = ""
        self._watch_started_at = 0.0
        self._watch_events = 0
        self._watch_list_refused = False
        self._bracket_open = False

    @property
    def state(self) -> WatcherState:
        return self._state

    @property
    def resource_version(self) -> str:
        """The last resourceVersion seen (from a completed list, an event or a bookmark)."""
        return self._last_rv

    @property
    def uses_watch_list(self) -> bool:
        """Whether full listings are watch-lists (configured, and not refused so far)."""
        return self.config.watch_list and not self._watch_list_refused

    # -- requests -----------------------------------------------------------------------

    def _relist(self) -> Request:
        """A full listing: a watch-list where it is used, else the first LIST page."""
        return self._watch_list() if self.uses_watch_list else self._first_page()

    def _watch_list(self) -> WatchRequest:
        self._state = WatcherState.INIT_STREAM
        self._bracket_open = False
        self._watch_started_at = self._clock()
        self._watch_events = 0
        rv = ("" if self._rv_unavailable or self.config.list_semantic is ListSemantic.MOST_RECENT
              else self._last_rv)
        return WatchRequest(rv, self._watch_timeout(), True, self.config.label_selector,
                            self.config.field_selector, send_initial_events=True)

    def _watch_timeout(self) -> int:
        return int(self.config.min_watch_timeout * (1.0 + self._rng.random()))

    def _relist_rv(self) -> str:
        if self._rv_unavailable or self.config.list_semantic is ListSemantic.MOST_RECENT:
            return ""
        return self._last_rv or "0"

    def _first_page(self) -> ListRequest:
        self._state = WatcherState.EMPTY
        rv = self._relist_rv()
        limit = self.config.page_size
        if rv not in ("", "0") and not self._paginated_result:
            limit = None  # let the watch cache answer an exact version (see module doc)
        self._list_rv = rv
        return ListRequest(rv, limit, None, self.config.label_selector, self.config.field_selector)

    def _next_page(self, token: str) -> ListRequest:
        self._state = WatcherState.INIT_PAGE
        return ListRequest("", self.config.page_size, token,
                           self.config.label_selector, self.config.field_selector)

    def _watch(self) -> WatchRequest:
        self._state = WatcherState.INIT_LISTED
        self._watch_started_at = self._clock()
        self._watch_events = 0
        return WatchRequest(self._last_rv, self._watch_timeout(), self.config.allow_watch_bookmarks,
                            self.config.label_selector, self.config.field_selector)

    def _expect(self, phase: str, *states: WatcherState) -> None:
        if not self._started:
            raise WatcherProtocolError(f"{phase}: call start() first")
        if self._state not in states:
            raise WatcherProtocolError(
                f"{phase} does not fit state {self._state.value}: the outstanding request is "
                f"{'a LIST' if self._state in (WatcherState.EMPTY, WatcherState.INIT_PAGE) else 'a WATCH'}"
            )

    # -- inputs -------------------------------------------------------------------------

    def start(self) -> Step[T]:
        """Begin: the first LIST request."""
        if self._started:
            raise WatcherProtocolError("start() called twice")
        self._started = True
        return Step(request=self._relist())

    def relist(self) -> Step[T]:
        """Abandon whatever is outstanding and list again (no backoff)."""
        self._expect("relist", *WatcherState)
        return Step(request=self._relist())

    def on_list_page(self, items: Sequence[T], resource_version: str | None,
                     continue_token: str | None, unavailable: Sequence[str] = ()) -> Step[T]:
        """A LIST page arrived: its items, ``metadata.resourceVersion`` and ``continue``.

        ``unavailable`` are keys of listed objects the driver could not decode.
        """
        self._expect("on_list_page", WatcherState.EMPTY, WatcherState.INIT_PAGE)
        events: list[WatcherEvent[T]] = []
        if self._state is WatcherState.EMPTY:
            events.append(Init())
        events.extend(InitApply(obj) for obj in items)
        events.extend(InitKeep(key) for key in unavailable if key)
        if continue_token:
            if self._list_rv == "0":
                self._paginated_result = True
            return Step(tuple(events), self._next_page(continue_token))
        if not resource_version:
            failure = WatcherFailure("list", FailureKind.NO_RESOURCE_VERSION,
                                     message="list response has no metadata.resourceVersion")
            return Step(tuple(events), self._first_page(), failure, backoff=True)
        self._last_rv = resource_version
        self._rv_unavailable = False
        events.append(InitDone(resource_version))
        return Step(tuple(events), self._watch())

    def on_list_error(self, error: BaseException) -> Step[T]:
        """A LIST request failed: an :class:`~..errors.ApiError` if the server answered,
        else whatever the transport or the decoder raised."""
        self._expect("on_list_error", WatcherState.EMPTY, WatcherState.INIT_PAGE)
        failure = _failure("list", error)
        kind = failure.kind
        if kind in (FailureKind.EXPIRED, FailureKind.RV_TOO_LARGE):
            # A continuation token or the listed version is gone: start over consistently.
            # Retry at once unless that was already the consistent ("") first page.
            immediate = not (self._state is WatcherState.EMPTY and self._list_rv == "")
            self._rv_unavailable = True
            return Step((), self._first_page(), failure, backoff=not immediate)
        return Step((), self._first_page(), failure, backoff=True)

    def on_watch_opened(self) -> None:
        """Optional: the WATCH response arrived with status 200."""
        self._expect("on_watch_opened", WatcherState.INIT_LISTED, WatcherState.INIT_STREAM,
                     WatcherState.WATCHING)
        if self._state is not WatcherState.INIT_STREAM:
            self._state = WatcherState.WATCHING

    def on_watch_event(self, event: WatchEvent[T] | Bookmark) -> Step[T]:
        """One decoded watch event: an object added, modified or deleted, or a bookmark.

        (An ``ERROR`` event is an error, fed through :meth:`on_watch_error`.)
        """
        self._expect("on_watch_event", WatcherState.INIT_LISTED, WatcherState.INIT_STREAM,
                     WatcherState.WATCHING)
        self._watch_events += 1
        if self._state is WatcherState.INIT_STREAM:
            return self._initial_event(event)
        self._state = WatcherState.WATCHING
        if isinstance(event, Bookmark):
            if event.resource_version:
                self._last_rv = event.resource_version
            return _CONTINUE
        rv = get_resource_version(event.object)
        if not rv:
            failure = WatcherFailure("watch", FailureKind.NO_RESOURCE_VERSION,
                                     message=f"{event.type} event without resourceVersion")
            return Step((), self._relist(), failure, backoff=True)
        self._last_rv = rv
        change: WatcherEvent[T] = (Delete(event.object) if event.type == "DELETED"
                                   else Apply(event.object))
        return Step((change,))

    def _opening(self) -> tuple[WatcherEvent[T], ...]:
        """``(Init(),)`` for the first event of a watch-list stream, else nothing."""
        if self._bracket_open:
            return ()
        self._bracket_open = True
        return (Init(),)

    def _initial_event(self, event: WatchEvent[T] | Bookmark) -> Step[T]:
        opening = self._opening()
        if isinstance(event, Bookmark):
            if not event.initial_events_end:
                return Step(opening)  # progress inside the listing: its version is the end's
            if not event.resource_version:
                failure = WatcherFailure("watch-list", FailureKind.NO_RESOURCE_VERSION,
                                         message="initial-events-end bookmark without "
                                                 "resourceVersion")
                return Step(opening, self._watch_list(), failure, backoff=True)
            self._last_rv = event.resource_version
            self._rv_unavailable = False
            self._state = WatcherState.WATCHING
            return Step((*opening, InitDone(event.resource_version)))
        if event.type == "DELETED":
            failure = WatcherFailure("watch-list", FailureKind.FAILED,
                                     message="DELETED event among the initial events")
            return Step(opening, self._watch_list(), failure, backoff=True)
        return Step((*opening, InitApply(event.object)))

    def on_watch_undecodable(self, event_type: EventType, key: str,
                             resource_version: str) -> Step[T]:
        """An ``ADDED``/``MODIFIED``/``DELETED`` line whose object did not decode.

        ``key`` and ``resource_version`` were read from the raw object (``""`` if it had
        none). The stream goes on; see the module docstring for the cache's side.
        """
        self._expect("on_watch_undecodable", WatcherState.INIT_LISTED,
                     WatcherState.INIT_STREAM, WatcherState.WATCHING)
        self._watch_events += 1
        if self._state is WatcherState.INIT_STREAM:
            # a listed object without a usable state: not gone (see InitKeep)
            return Step(self._opening() + ((InitKeep(key),) if key else ()))
        self._state = WatcherState.WATCHING
        if resource_version:
            self._last_rv = resource_version
        if event_type == "DELETED" and key:
            return Step((DeleteKey(key),))
        return _CONTINUE

    def on_watch_error(self, error: BaseException) -> Step[T]:
        """Opening the WATCH failed, its stream broke, or it delivered an ``ERROR`` event
        (an :class:`~..errors.ApiError` whenever the server said something)."""
        self._expect("on_watch_error", WatcherState.INIT_LISTED, WatcherState.INIT_STREAM,
                     WatcherState.WATCHING)
        if self._state is WatcherState.INIT_STREAM:
            return self._watch_list_failed(error)
        failure = _failure("watch", error)
        if failure.kind is FailureKind.EXPIRED:
            return Step((), self._relist(), failure, backoff=True)
        if failure.kind is FailureKind.RV_TOO_LARGE:
            self._rv_unavailable = True
            return Step((), self._relist(), failure, backoff=True)
        return Step((), self._watch(), failure, backoff=True)

    def _watch_list_failed(self, error: BaseException) -> Step[T]:
        if refuses_watch_list(error):
            self._watch_list_refused = True
            refused = _failure("watch-list", error)
            failure = WatcherFailure("watch-list", FailureKind.WATCH_LIST_UNSUPPORTED,
                                     refused.code, refused.message, error)
            return Step((), self._first_page(), failure)
        failure = _failure("watch-list", error)
        if failure.kind in (FailureKind.EXPIRED, FailureKind.RV_TOO_LARGE):
            self._rv_unavailable = True
        return Step((), self._watch_list(), failure, backoff=True)

    def on_watch_closed(self) -> Step[T]:
        """The WATCH stream ended without an error (server timeout or connection close)."""
        self._expect("on_watch_closed", WatcherState.INIT_LISTED, WatcherState.INIT_STREAM,
                     WatcherState.WATCHING)
        if self._state is WatcherState.INIT_STREAM:
            failure = WatcherFailure("watch-list", FailureKind.FAILED,
                                     message="the stream ended before the initial-events-end "
                                             "bookmark")
            return Step((), self._watch_list(), failure, backoff=True)
        lasted = self._clock() - self._watch_started_at
        if self._watch_events == 0 and lasted < self.config.short_watch_threshold:
            failure = WatcherFailure(
                "watch", FailureKind.SHORT_WATCH,
                message=f"watch closed after {lasted:.3f}s without delivering any event")
            return Step((), self._watch(), failure, backoff=True)
        return Step(request=self._watch())



def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
