"""The mixin generated fake clientsets inherit: the fake's controls on the clientset."""

from __future__ import annotations

from .actions import Action, Reactor, WatchReactor
from .server import FakeServer
from .tracker import ObjectTracker


class FakeClientsetMixin:
    """Delegates the fake's controls to ``self.fake`` (set by the generated
    ``__init__`` before the real clientset's), so a test writes
    ``cs.prepend_reactor(...)`` and ``cs.actions()`` as with client-go's fakes."""

    fake: FakeServer

    @property
    def tracker(self) -> ObjectTracker:
        """The object store behind the fake (share it to give sync and async clientsets
        one cluster)."""
        return self.fake.tracker

    def actions(self) -> list[Action]:
        """Every request so far, in order."""
        return self.fake.actions()

    def clear_actions(self) -> None:
        self.fake.clear_actions()

    def prepend_reactor(self, verb: str, resource: str, fn: Reactor) -> None:
        """Run ``fn`` before the tracker for ``verb`` on ``resource`` (``"*"``: any)."""
        self.fake.prepend_reactor(verb, resource, fn)

    def prepend_watch_reactor(self, resource: str, fn: WatchReactor) -> None:
        self.fake.prepend_watch_reactor(resource, fn)
