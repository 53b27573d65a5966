"""The list/watch state machine driven by scripted server answers."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.cache import (
    Apply,
    Delete,
    FailureKind,
    Init,
    InitApply,
    InitDone,
    InitKeep,
    ListRequest,
    ListSemantic,
    Step,
    Watcher,
    WatcherConfig,
    WatcherProtocolError,
    WatcherState,
    WatchRequest,
)
from kubecodegen_runtime.cache.watcher import classify
from kubecodegen_runtime.errors import ApiError
from kubecodegen_runtime.rest.response import error_from
from kubecodegen_runtime.watch import INITIAL_EVENTS_END, Bookmark, WatchEvent

from .cache_objects import pod


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(config: WatcherConfig | None = None) -> tuple[Watcher[Any], FakeClock]:
    clock = FakeClock()
    return Watcher(config, rng=random.Random(42), clock=clock), clock


def state(w: Watcher[Any]) -> WatcherState:
    """The watcher's state, read through a call so mypy does not narrow it across inputs."""
    return w.state


def as_list(step: Step[Any]) -> ListRequest:
    assert isinstance(step.request, ListRequest), step
    return step.request


def as_watch(step: Step[Any]) -> WatchRequest:
    assert isinstance(step.request, WatchRequest), step
    return step.request


def synced(watcher: Watcher[Any], rv: str = "100") -> Step[Any]:
    watcher.start()
    return watcher.on_list_page([pod("a", rv="90")], rv, None)


def api_error(code: int, reason: str = "", message: str = "",
              causes: tuple[dict[str, str], ...] = ()) -> ApiError:
    """The error the client raises for a Status body the server sends."""
    status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                              "code": code, "message": message}
    if reason:
        status["reason"] = reason
    if causes:
        status["details"] = {"causes": list(causes)}
    return error_from(code, (), msgspec.json.encode(status), method="GET", path="/api/v1/pods")


def gone() -> ApiError:
    return api_error(410, "Expired", "too old resource version: 5 (100)")


def added(obj: Any) -> WatchEvent[Any]:
    return WatchEvent("ADDED", obj)


# -- initial list -----------------------------------------------------------------------------


def test_paged_initial_list_then_watch() -> None:
    w, _ = make(WatcherConfig(page_size=2, label_selector="app=web"))
    first = as_list(w.start())
    assert (first.resource_version, first.limit, first.continue_token) == ("0", 2, None)
    assert (first.label_selector, first.field_selector) == ("app=web", None)
    assert state(w) is WatcherState.EMPTY

    a, b, c = pod("a", rv="7"), pod("b", rv="8"), pod("c", rv="9")
    step = w.on_list_page([a, b], "10", "tok-1")
    assert step.events == (Init(), InitApply(a), InitApply(b))
    page2 = as_list(step)
    # continuation: token and limit, never a resourceVersion (the token pins it)
    assert (page2.resource_version, page2.limit, page2.continue_token) == ("", 2, "tok-1")
    assert page2.label_selector == "app=web"
    assert state(w) is WatcherState.INIT_PAGE

    step = w.on_list_page([c], "10", None)
    assert step.events == (InitApply(c), InitDone("10"))
    assert step.failure is None and not step.backoff
    watch = as_watch(step)
    assert watch.resource_version == "10" and watch.allow_watch_bookmarks
    assert 300 <= watch.timeout_seconds < 600
    assert watch.label_selector == "app=web"
    assert state(w) is WatcherState.INIT_LISTED
    assert w.resource_version == "10"


def test_unpaged_list_emits_a_complete_bracket() -> None:
    w, _ = make()
    w.start()
    step = w.on_list_page([], "5", "")
    assert step.events == (Init(), InitDone("5"))
    assert as_watch(step).resource_version == "5"


def test_watch_timeouts_are_randomized_within_bounds() -> None:
    w, _ = make(WatcherConfig(min_watch_timeout=10))
    synced(w)
    timeouts = set()
    for _ in range(20):
        w.on_watch_event(Bookmark("101"))
        timeouts.add(as_watch(w.on_watch_closed()).timeout_seconds)
    assert all(10 <= t < 20 for t in timeouts) and len(timeouts) > 3


def test_list_failures_retry_the_first_page_with_backoff() -> None:
    w, _ = make(WatcherConfig(page_size=1))
    w.start()
    w.on_list_page([pod("a")], "", "tok")
    err = ConnectionRefusedError("refused")
    step = w.on_list_error(err)
    assert step.backoff and step.failure is not None
    assert step.failure.kind is FailureKind.FAILED and step.failure.error is err
    assert "ConnectionRefusedError: refused" in step.failure.message
    again = as_list(step)
    assert (again.resource_version, again.continue_token) == ("0", None)
    assert state(w) is WatcherState.EMPTY
    # the restarted listing opens a new bracket
    assert w.on_list_page([], "3", None).events[0] == Init()


def test_list_without_resource_version_is_an_error() -> None:
    w, _ = make()
    w.start()
    step = w.on_list_page([pod("a")], "", None)
    assert step.failure is not None and step.failure.kind is FailureKind.NO_RESOURCE_VERSION
    assert step.backoff
    assert as_list(step).resource_version == "0"
    assert InitDone("") not in step.events


# -- watching -------------------------------------------------------------------------------


def test_events_and_bookmarks_advance_the_resource_version() -> None:
    w, _ = make()
    synced(w, "100")
    new, modified, deleted = pod("b", rv="101"), pod("b", rv="102"), pod("b", rv="103")
    assert w.on_watch_event(added(new)).events == (Apply(new),)
    assert state(w) is WatcherState.WATCHING
    assert w.on_watch_event(WatchEvent("MODIFIED", modified)).events == (Apply(modified),)
    step = w.on_watch_event(WatchEvent("DELETED", deleted))
    assert step.events == (Delete(deleted),) and step.request is None
    assert w.resource_version == "103"
    bookmark = w.on_watch_event(Bookmark("150"))
    assert bookmark.events == () and bookmark.request is None and bookmark.failure is None
    assert w.resource_version == "150"
    # a normal close resumes from the bookmark at once, without backoff
    step = w.on_watch_closed()
    assert not step.backoff and step.failure is None
    assert as_watch(step).resource_version == "150"


def test_watch_that_closes_immediately_counts_as_a_failure() -> None:
    w, clock = make()
    synced(w, "100")
    clock.now += 0.2
    step = w.on_watch_closed()
    assert step.backoff and step.failure is not None
    assert step.failure.kind is FailureKind.SHORT_WATCH
    assert as_watch(step).resource_version == "100"  # resume, not relist
    # a quiet watch that lasted long enough is a normal close
    clock.now += 5
    step = w.on_watch_closed()
    assert not step.backoff and step.failure is None
    # so is a short one that delivered something (a bookmark counts)
    w.on_watch_event(Bookmark("120"))
    assert not w.on_watch_closed().backoff


@pytest.mark.parametrize(
    ("code", "error"),
    [(None, ConnectionRefusedError("refused")), (None, ConnectionResetError("reset")),
     (429, api_error(429, "TooManyRequests")), (500, api_error(500, "InternalError")),
     (503, api_error(503, "ServiceUnavailable")), (403, api_error(403, "Forbidden"))],
)
def test_other_watch_errors_resume_without_relisting(code: int | None,
                                                     error: BaseException) -> None:
    w, _ = make()
    synced(w, "100")
    w.on_watch_event(added(pod("b", rv="101")))
    step = w.on_watch_error(error)
    assert step.backoff and step.failure is not None
    assert step.failure.kind is FailureKind.FAILED and step.failure.code == code
    assert step.events == ()
    assert as_watch(step).resource_version == "101"
    assert state(w) is WatcherState.INIT_LISTED


def test_error_event_with_other_code_resumes() -> None:
    w, _ = make()
    synced(w, "100")
    step = w.on_watch_error(api_error(500, "InternalError", "x"))
    assert step.failure is not None and step.failure.code == 500 and step.backoff
    assert as_watch(step).resource_version == "100"


def test_410_during_watch_relists_and_a_410_on_that_list_falls_back_to_empty_rv() -> None:
    w, _ = make(WatcherConfig(page_size=500))
    synced(w, "100")
    w.on_watch_event(WatchEvent("MODIFIED", pod("a", rv="120")))
    step = w.on_watch_error(gone())
    assert step.failure is not None and step.failure.kind is FailureKind.EXPIRED
    assert step.failure.code == 410 and "too old resource version" in step.failure.message
    assert step.backoff
    # relist "not older than" the last seen version; no limit so the watch cache can answer
    relist = as_list(step)
    assert (relist.resource_version, relist.limit) == ("120", None)
    assert state(w) is WatcherState.EMPTY
    # that version is gone for lists too: retry at once with a consistent read, paged
    step = w.on_list_error(api_error(410, "Expired", "too old"))
    assert not step.backoff
    assert step.failure is not None and step.failure.kind is FailureKind.EXPIRED
    retry = as_list(step)
    assert (retry.resource_version, retry.limit) == ("", 500)
    # if even the consistent read says 410, back off instead of spinning
    step = w.on_list_error(api_error(410))
    assert step.backoff and as_list(step).resource_version == ""
    # success clears the "unavailable" mark: the next relist uses the last version again
    step = w.on_list_page([pod("a", rv="130")], "140", None)
    assert step.events[0] == Init() and step.events[-1] == InitDone("140")
    assert as_watch(step).resource_version == "140"
    relist = as_list(w.on_watch_error(api_error(410)))
    assert relist.resource_version == "140"


def test_410_when_opening_the_watch_relists() -> None:
    w, _ = make()
    synced(w, "100")
    step = w.on_watch_error(api_error(410, "Gone"))
    assert as_list(step).resource_version == "100" and step.backoff


def test_expired_continue_token_restarts_the_listing_consistently() -> None:
    w, _ = make(WatcherConfig(page_size=1))
    w.start()
    w.on_list_page([pod("a")], "", "tok")
    step = w.on_list_error(api_error(410, "Expired", "continue token expired"))
    assert not step.backoff
    restart = as_list(step)
    assert (restart.resource_version, restart.continue_token, restart.limit) == ("", None, 1)


def test_paginated_rv0_list_keeps_limits_on_exact_relists() -> None:
    w, _ = make(WatcherConfig(page_size=1))
    w.start()
    w.on_list_page([pod("a")], "", "tok")  # the server paged an RV=0 list: no watch cache
    w.on_list_page([pod("b")], "50", None)
    relist = as_list(w.on_watch_error(gone()))
    assert (relist.resource_version, relist.limit) == ("50", 1)


#: What kube-apiserver answers for a resourceVersion it has not reached, by release.
TOO_LARGE_1_19 = api_error(504, "Timeout", "Too large resource version: 100, current: 90",
                           ({"reason": "ResourceVersionTooLarge",
                             "message": "Too large resource version"},))
TOO_LARGE_1_17 = api_error(504, "Timeout", "Timeout: Too large resource version: 100",
                           ({"message": "Too large resource version"},))
TOO_LARGE_1_16 = api_error(504, "Timeout", "Too large resource version: 100, current: 90")


@pytest.mark.parametrize("error", [TOO_LARGE_1_19, TOO_LARGE_1_17, TOO_LARGE_1_16])
def test_too_large_resource_version_relists_with_empty_rv(error: ApiError) -> None:
    w, _ = make()
    synced(w, "100")
    step = w.on_watch_error(error)
    assert step.failure is not None and step.failure.kind is FailureKind.RV_TOO_LARGE
    assert as_list(step).resource_version == ""


def test_too_large_is_read_from_the_cause_type_not_from_any_text() -> None:
    # client-go looks at the text only on a Timeout; a cause of that type is enough anywhere
    assert classify(api_error(500, "InternalError", "Too large resource version")) \
        is FailureKind.FAILED
    assert classify(api_error(400, "BadRequest", "",
                              ({"reason": "ResourceVersionTooLarge"},))) is FailureKind.RV_TOO_LARGE
    assert classify(ConnectionResetError("Too large resource version")) is FailureKind.FAILED
    assert classify(api_error(504, "Timeout", "request timed out")) is FailureKind.FAILED


def test_event_without_resource_version_relists() -> None:
    w, _ = make()
    synced(w, "100")
    step = w.on_watch_event(added({"metadata": {"name": "x"}}))
    assert step.failure is not None and step.failure.kind is FailureKind.NO_RESOURCE_VERSION
    assert as_list(step).resource_version == "100"


def test_most_recent_semantic_always_lists_consistently() -> None:
    w, _ = make(WatcherConfig(list_semantic=ListSemantic.MOST_RECENT, page_size=10))
    first = as_list(w.start())
    assert (first.resource_version, first.limit) == ("", 10)
    w.on_list_page([], "5", None)
    assert as_list(w.on_watch_error(api_error(410))).resource_version == ""


def test_driver_mistakes_are_rejected() -> None:
    w, _ = make()
    with pytest.raises(WatcherProtocolError, match="call start"):
        w.on_list_page([], "1", None)
    w.start()
    with pytest.raises(WatcherProtocolError, match="called twice"):
        w.start()
    with pytest.raises(WatcherProtocolError, match="does not fit state Empty"):
        w.on_watch_event(added(pod("a")))
    w.on_list_page([], "1", None)
    with pytest.raises(WatcherProtocolError, match="outstanding request is a WATCH"):
        w.on_list_page([], "1", None)
    relist = as_list(w.relist())
    assert relist.resource_version == "1" and state(w) is WatcherState.EMPTY


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="page_size"):
        WatcherConfig(page_size=0)
    with pytest.raises(ValueError, match="min_watch_timeout"):
        WatcherConfig(min_watch_timeout=0.5)


# -- property: any input sequence that fits the requests keeps the invariants ---------------

_inputs = st.lists(
    st.sampled_from(["page_more", "page_last", "page_norv", "list_err", "list_410",
                     "added", "deleted", "bookmark", "err_event_410", "err_event_500",
                     "watch_err", "watch_410", "close_fast", "close_slow"]),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(_inputs)
def test_requests_always_follow_the_resource_version_rules(inputs: list[str]) -> None:
    w, clock = make(WatcherConfig(page_size=3))
    step: Step[Any] = w.start()
    rv = 0
    for item in inputs:
        listing = state(w) in (WatcherState.EMPTY, WatcherState.INIT_PAGE)
        if listing != item.startswith(("page", "list")):
            continue  # this input does not fit the outstanding request
        rv += 1
        obj = pod("p", rv=str(rv))
        clock.now += 0.1 if item == "close_fast" else 10
        if item == "page_more":
            step = w.on_list_page([obj], str(rv), f"tok{rv}")
        elif item == "page_last":
            step = w.on_list_page([obj], str(rv), None)
        elif item == "page_norv":
            step = w.on_list_page([obj], "", None)
        elif item == "list_err":
            step = w.on_list_error(OSError("x"))
        elif item == "list_410":
            step = w.on_list_error(api_error(410))
        elif item in ("added", "deleted"):
            step = w.on_watch_event(WatchEvent("ADDED" if item == "added" else "DELETED", obj))
        elif item == "bookmark":
            step = w.on_watch_event(Bookmark(str(rv)))
        elif item == "err_event_410":
            step = w.on_watch_error(gone())
        elif item == "err_event_500":
            step = w.on_watch_error(api_error(500))
        elif item == "watch_err":
            step = w.on_watch_error(OSError("x"))
        elif item == "watch_410":
            step = w.on_watch_error(api_error(410))
        else:
            step = w.on_watch_closed()
        request = step.request
        if isinstance(request, WatchRequest):
            assert state(w) is WatcherState.INIT_LISTED
            assert request.resource_version == w.resource_version != ""
        elif isinstance(request, ListRequest):
            assert state(w) in (WatcherState.EMPTY, WatcherState.INIT_PAGE)
            if request.continue_token:
                assert request.resource_version == "" and request.limit == 3
            else:
                assert state(w) is WatcherState.EMPTY
                assert request.resource_version in ("", "0", w.resource_version)
        else:
            assert state(w) is WatcherState.WATCHING and not step.backoff
        if step.failure is None:
            assert not step.backoff


# -- watch-list (sendInitialEvents) ------------------------------------------------------------


def end_bookmark(rv: str) -> Bookmark:
    return Bookmark(rv, {INITIAL_EVENTS_END: "true"})


def as_watch_list(step: Step[Any]) -> WatchRequest:
    request = as_watch(step)
    assert request.send_initial_events
    assert request.allow_watch_bookmarks  # the end of the initial events is a bookmark
    return request


def test_watch_list_streams_the_listing_then_goes_on_watching() -> None:
    w, _ = make(WatcherConfig(watch_list=True, label_selector="app=web"))
    first = as_watch_list(w.start())
    assert first.resource_version == "" and first.label_selector == "app=web"
    assert state(w) is WatcherState.INIT_STREAM
    w.on_watch_opened()
    assert state(w) is WatcherState.INIT_STREAM
    a, b = pod("a", rv="40"), pod("b", rv="41")
    assert w.on_watch_event(added(a)).events == (Init(), InitApply(a))
    assert w.on_watch_event(added(b)).events == (InitApply(b),)
    # a plain bookmark inside the listing changes nothing; versions count only at the end
    assert w.on_watch_event(Bookmark("45")).events == ()
    assert w.resource_version == ""
    step = w.on_watch_event(end_bookmark("50"))
    assert step.events == (InitDone("50"),) and step.request is None
    assert state(w) is WatcherState.WATCHING and w.resource_version == "50"
    c = pod("c", rv="51")
    assert w.on_watch_event(WatchEvent("MODIFIED", c)).events == (Apply(c),)
    # a normal close resumes with a plain watch; a 410 later relists with a watch-list
    resumed = as_watch(w.on_watch_closed())
    assert not resumed.send_initial_events and resumed.resource_version == "51"
    relist = as_watch_list(w.on_watch_error(gone()))
    assert relist.resource_version == "51"


def test_an_empty_watch_list_is_a_complete_bracket() -> None:
    w, _ = make(WatcherConfig(watch_list=True))
    w.start()
    assert w.on_watch_event(end_bookmark("7")).events == (Init(), InitDone("7"))


def test_a_server_refusing_watch_lists_gets_paged_lists_for_good() -> None:
    w, _ = make(WatcherConfig(watch_list=True, page_size=50))
    w.start()
    # kube-apiserver 1.20's answer to sendInitialEvents + resourceVersionMatch on a watch
    refused = api_error(422, "Invalid", 'ListOptions.meta.k8s.io "" is invalid: '
                        "[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden "
                        "for watch]")
    step = w.on_watch_error(refused)
    assert step.failure is not None and step.failure.kind is FailureKind.WATCH_LIST_UNSUPPORTED
    assert step.failure.code == 422 and not step.backoff
    listing = as_list(step)
    assert (listing.resource_version, listing.limit) == ("0", 50)
    assert not w.uses_watch_list
    w.on_list_page([pod("a", rv="5")], "9", None)
    assert not as_watch(w.on_watch_closed()).send_initial_events
    assert isinstance(w.on_watch_error(gone()).request, ListRequest)


@pytest.mark.parametrize("interruption", ["closed", "reset", "deleted"])
def test_an_unfinished_watch_list_starts_over(interruption: str) -> None:
    w, _ = make(WatcherConfig(watch_list=True))
    synced_rv = "30"
    w.start()
    w.on_watch_event(end_bookmark(synced_rv))
    w.on_watch_error(gone())  # the synced watch expires: a watch-list from "30"
    a = pod("a", rv="31")
    assert w.on_watch_event(added(a)).events == (Init(), InitApply(a))
    if interruption == "closed":
        step = w.on_watch_closed()
    elif interruption == "reset":
        step = w.on_watch_error(ConnectionResetError("reset"))
    else:
        step = w.on_watch_event(WatchEvent("DELETED", a))
    assert step.backoff and step.failure is not None
    again = as_watch_list(step)
    assert again.resource_version == synced_rv  # the unfinished listing did not count
    assert InitDone(synced_rv) not in step.events
    # the next stream opens a new bracket
    assert w.on_watch_event(added(a)).events == (Init(), InitApply(a))


def test_a_watch_list_from_a_compacted_version_retries_from_the_newest() -> None:
    w, _ = make(WatcherConfig(watch_list=True))
    w.start()
    w.on_watch_event(end_bookmark("30"))
    assert as_watch_list(w.on_watch_error(gone())).resource_version == "30"
    again = as_watch_list(w.on_watch_error(gone()))
    assert again.resource_version == ""
    w.on_watch_event(end_bookmark("80"))
    assert as_watch_list(w.on_watch_error(gone())).resource_version == "80"


def test_an_undecodable_initial_object_is_kept_not_deleted() -> None:
    w, _ = make(WatcherConfig(watch_list=True))
    w.start()
    step = w.on_watch_undecodable("ADDED", "ns/broken", "12")
    assert step.events == (Init(), InitKeep("ns/broken"))
    assert w.on_watch_event(end_bookmark("20")).events == (InitDone("20"),)
