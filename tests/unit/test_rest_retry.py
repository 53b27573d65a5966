"""The retry policy: which failures repeat, and how long to wait."""

from __future__ import annotations

import pytest

from kubecodegen_runtime.errors import DeadlineExceeded, TransportError
from kubecodegen_runtime.retry import NO_RETRY, Failure, RetryPolicy, failure_kind

POLICY = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=4.0, max_total=10.0, jitter=0.0)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_idempotent_reads_retry_transient_statuses(status: int) -> None:
    assert POLICY.delay(attempt=1, method="GET", status=status) == 0.5


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("status", [429, 500, 503])
def test_writes_do_not_retry_without_retry_after(method: str, status: int) -> None:
    assert POLICY.delay(attempt=1, method=method, status=status) is None


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH"])
def test_retry_after_is_honoured_for_any_verb(method: str) -> None:
    assert POLICY.delay(attempt=1, method=method, status=429, retry_after=3.0) == 3.0
    assert POLICY.delay(attempt=1, method=method, status=503, retry_after=1.0) == 1.0


def test_retry_after_is_capped_by_max_delay_and_budget() -> None:
    assert POLICY.delay(attempt=1, method="GET", status=429, retry_after=100.0) == 4.0
    assert POLICY.delay(attempt=1, method="GET", status=429, retry_after=3.0, waited=8.0) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_client_errors_never_retry(status: int) -> None:
    assert POLICY.delay(attempt=1, method="GET", status=status) is None
    assert POLICY.delay(attempt=1, method="GET", status=status, retry_after=1.0) is None


def test_not_implemented_only_retries_when_the_server_asks() -> None:
    assert POLICY.delay(attempt=1, method="GET", status=501) is None
    assert POLICY.delay(attempt=1, method="GET", status=501, retry_after=1.0) == 1.0


def test_exponential_backoff_is_capped() -> None:
    waits = [POLICY.backoff(n) for n in range(1, 7)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_attempts_are_bounded() -> None:
    assert POLICY.delay(attempt=4, method="GET", status=503) == 4.0
    assert POLICY.delay(attempt=5, method="GET", status=503) is None
    assert NO_RETRY.delay(attempt=1, method="GET", status=503) is None


def test_connection_failures() -> None:
    assert POLICY.delay(attempt=1, method="POST", failure=Failure.CONNECT) == 0.5
    assert POLICY.delay(attempt=1, method="POST", failure=Failure.OTHER) is None
    assert POLICY.delay(attempt=1, method="GET", failure=Failure.OTHER) == 0.5


def test_jitter_stays_within_bounds() -> None:
    low = RetryPolicy(jitter=0.2, random=lambda: 0.0).backoff(1)
    high = RetryPolicy(jitter=0.2, random=lambda: 1.0).backoff(1)
    assert low == pytest.approx(0.4) and high == pytest.approx(0.6)


def test_a_spent_deadline_is_never_retried() -> None:
    assert POLICY.delay(attempt=1, method="GET", failure=Failure.DEADLINE) is None
    assert POLICY.delay(attempt=1, method="GET", failure=Failure.OTHER) == 0.5


def test_failure_kinds() -> None:
    sent = TransportError("reset", method="GET", url="u")
    unsent = TransportError("refused", method="POST", url="u", sent=False)
    late = DeadlineExceeded("too slow", method="GET", url="u")
    assert [failure_kind(e) for e in (sent, unsent, late)] == [
        Failure.OTHER, Failure.CONNECT, Failure.DEADLINE]
