"""Conformance scenarios, grouped by topic; importing this package registers all of them."""

from . import (  # noqa: F401  (imported for their registrations)
    apply,
    basics,
    clients,
    deletion,
    dryrun,
    informers,
    patches,
    selectors,
    subresources,
    watch,
)
from .registry import SCENARIOS, Scenario, scenario

__all__ = ["SCENARIOS", "Scenario", "scenario"]
