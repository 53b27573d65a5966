"""Every conformance scenario on both backends: ``[kube]`` (kube-apiserver 1.20) and ``[fake]``.

Only the ``[kube]`` instances use the harness cluster (and carry the ``cluster`` mark), so
``make unit`` runs the fake side alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .backends import Backend, fake_backend, real_backend
from .coverage import POINTS
from .scenarios import SCENARIOS, Scenario

BACKENDS = [
    pytest.param("kube", id="kube", marks=pytest.mark.cluster),
    pytest.param("fake", id="fake"),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "kube":
        made = real_backend(request.getfixturevalue("cluster"))
    else:
        made = fake_backend()
    try:
        yield made
    finally:
        made.close()


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(sc: Scenario, backend: Backend, request: pytest.FixtureRequest) -> None:
    if backend.name == "fake" and sc.fake_limit:
        request.applymarker(pytest.mark.xfail(reason=f"known limit: {sc.fake_limit}", strict=True))
    sc.run(backend)


def test_enough_scenarios() -> None:
    """Issue 12 asks for at least 60 scenarios."""
    assert len(SCENARIOS) >= 60


def test_every_issue_point_is_covered() -> None:
    """Each point of issue 12's item 1 has scenarios (coverage.py), all of which exist."""
    ids = {s.id for s in SCENARIOS}
    for point, covering in POINTS.items():
        assert covering, point
        assert set(covering) <= ids, (point, set(covering) - ids)
