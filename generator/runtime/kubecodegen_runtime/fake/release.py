"""The Kubernetes release a package's API comes from: the one reading of
:attr:`~.schema.PackageApi.kubernetes_version` every version-gated behaviour of the fake
asks (field manager, apply, patch engines, tracker, watch-lists).

The rule for a version that cannot be read (empty, or not ``v<major>.<minor>...``): it is
the **newest** release, :data:`NEWEST`. A package generated from a spec without a
version comes from whatever cluster served that spec, which is a current one, so the
fake then behaves as the current server does rather than as some old one.

``v1.35.0``, ``1.35``, ``v1.20.15+k3s1`` and ``v1.27.3-gke.100`` read as ``(1, 35)``,
``(1, 35)``, ``(1, 20)`` and ``(1, 27)``: only the leading major and minor count.
"""

from __future__ import annotations

import functools
import re

#: What an unreadable version is taken as: later than every real release, so every
#: "from 1.N on" gate holds.
NEWEST: tuple[int, int] = (99, 0)

_LEADING = re.compile(r"v?(\d+)\.(\d+)")


@functools.lru_cache(maxsize=64)
def release(version: str) -> tuple[int, int]:
    """``(major, minor)`` of a Kubernetes version string; unreadable: :data:`NEWEST`.
    (Cached: the patch engines ask on every patch.)"""
    found = _LEADING.match(version.strip())
    if found is None:
        return NEWEST
    return int(found.group(1)), int(found.group(2))


def at_least(version: str, wanted: tuple[int, int]) -> bool:
    """Whether ``version`` is release ``wanted`` or later (unreadable: yes, see the
    module's rule)."""
    return release(version) >= wanted


__all__ = ["NEWEST", "at_least", "release"]
