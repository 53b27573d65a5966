"""The sans-IO fake API server: ``Request`` in, ``Response`` (or a watch feed) out.

:meth:`FakeServer.handle` parses the path (:mod:`.paths`), records an
:class:`~.actions.Action`, runs the reactors, then lets the :class:`~.tracker.ObjectTracker`
answer; every :class:`~..errors.ApiError` raised on the way is sent as the ``Status``
body a real kube-apiserver sends for it. :meth:`FakeServer.open_watch` does the same
for watches and answers with a :class:`WatchFeed` of JSON lines. Nothing here does I/O
or sleeps: :mod:`.transport` wraps it for the REST clients.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ..client import AsyncRESTClient, RESTClient
from ..rest.request import Request
from ..rest.response import Response
from . import clients, dispatch
from .actions import Action, Reactor, ReactorChain, WatchReactor
from .feed import WatchFeed
from .schema import PackageApi
from .tracker import ObjectTracker

__all__ = ["FakeServer", "WatchFeed"]


class FakeServer:
    """An in-memory kube-apiserver for one generated package's API.

    ``objects`` (typed models or dicts) are added as if created, their namespaces too.
    Pass ``tracker`` to serve an existing store (a sync and an async clientset over
    one cluster); otherwise a fresh one is made.
    """

    def __init__(self, api: PackageApi, objects: Iterable[object] = (), *,
                 tracker: ObjectTracker | None = None) -> None:
        self.api = api
        self.tracker = tracker if tracker is not None else ObjectTracker(api)
        self.reactors = ReactorChain()
        self._actions: list[Action] = []
        self._actions_lock = threading.Lock()
        for obj in objects:
            self.tracker.add(obj)

    # --- the controls tests use ------------------------------------------------------

    def actions(self) -> list[Action]:
        """Every request handled so far, in order."""
        with self._actions_lock:
            return list(self._actions)

    def clear_actions(self) -> None:
        with self._actions_lock:
            self._actions.clear()

    def prepend_reactor(self, verb: str, resource: str, fn: Reactor) -> None:
        """Run ``fn`` before the tracker for ``verb`` on ``resource`` (``"*"``: any;
        ``"pods/status"`` names a subresource)."""
        self.reactors.prepend(verb, resource, fn)

    def prepend_watch_reactor(self, resource: str, fn: WatchReactor) -> None:
        self.reactors.prepend_watch(resource, fn)

    # --- clients -----------------------------------------------------------------------

    def rest_client(self) -> RESTClient:
        """A real RESTClient over this server: no retries, no client-side rate limit."""

        return clients.rest_client(self)

    def async_rest_client(self) -> AsyncRESTClient:

        return clients.async_rest_client(self)

    # --- the sans-IO core --------------------------------------------------------------

    def record(self, action: Action) -> None:
        with self._actions_lock:
            self._actions.append(action)

    def handle(self, request: Request, *, user_agent: str = "") -> Response:
        """Answer an ordinary (non-watch) request."""

        return dispatch.handle(self, request, user_agent)

    def open_watch(self, request: Request, *, user_agent: str = "") -> Response | WatchFeed:
        """Answer a streaming request: a watch feed, or a whole response (an error, or
        a request that does not stream on this server)."""

        return dispatch.open_watch(self, request, user_agent)
