"""What both broadcasters expose -- recorders and counters -- with no waiting in it."""

from __future__ import annotations

from .body import ApiName, Event
from .recorder import EventRecorder, Intake
from .writer import WriterCore


class Broadcaster:
    """What both shells expose: counters and recorders (no waiting here)."""

    _intake: Intake
    _core: WriterCore

    def _offer(self, event: Event) -> bool:
        raise NotImplementedError

    def new_recorder(self, reporting_controller: str, reporting_instance: str = "") -> EventRecorder:
        """A recorder for one controller; ``reporting_instance`` defaults to ``<controller>-<host>``."""
        return EventRecorder(self._intake, self._offer, reporting_controller, reporting_instance)

    @property
    def api(self) -> ApiName | None:
        """The Event API written to (``None`` until ``"auto"`` has asked discovery)."""
        return self._core.api

    @property
    def dropped(self) -> int:
        """Events never queued: the spam filter refused them or the queue was full/closed."""
        return self._intake.dropped

    @property
    def spam_filtered(self) -> int:
        return self._intake.spam_filtered

    @property
    def queue_full(self) -> int:
        return self._intake.queue_full

    @property
    def invalid(self) -> int:
        """``eventf`` calls refused for a bad object or type (logged as errors)."""
        return self._intake.invalid

    @property
    def written(self) -> int:
        """Requests (creates and patches) the server accepted."""
        return self._core.stats.written

    @property
    def failed(self) -> int:
        """Writes given up: refused by the server, out of tries, or abandoned at shutdown."""
        return self._core.stats.failed

    @property
    def retries(self) -> int:
        return self._core.stats.retries
