"""Conformance scenarios, grouped by topic; importing this package registers all of them.

``backends`` is imported first: it puts generated/ on ``sys.path``, which the topic modules'
``kube_v1_20`` imports need.
"""

from .. import backends  # noqa: F401  (first: see above)
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
