"""How a generated package reaches its runtime: the installed library, or a vendored copy.

By default generated code imports ``kubecodegen_runtime`` (absolute imports) and records the
runtime version range this generator writes code for (:data:`kubecodegen.RUNTIME_REQUIREMENT`);
the package's ``__init__`` refuses an installed runtime outside that range. With
``--vendor-runtime`` the runtime's sources are copied into ``<package>/_runtime`` and every
import is relative, so the package needs nothing but httpx, msgspec and PyYAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kubecodegen_runtime import __version__ as runtime_version

from .. import RUNTIME_REQUIREMENT
from .env import Code

DISTRIBUTION = "kubecodegen-runtime"
IMPORT_NAME = "kubecodegen_runtime"
VENDORED_NAME = "_runtime"

_RANGE = re.compile(r">=(\d+(?:\.\d+)*),<(\d+(?:\.\d+)*)")


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True)
class RuntimeLink:
    """What the templates need to import the runtime, and to state the contract."""

    vendored: bool
    minimum: tuple[int, ...]
    maximum: tuple[int, ...]

    @property
    def requirement(self) -> str:
        """The line a user adds to their dependencies: ``kubecodegen-runtime>=0.2,<0.3``."""
        low = ".".join(map(str, self.minimum))
        high = ".".join(map(str, self.maximum))
        return f"{DISTRIBUTION}>={low},<{high}"

    def from_top(self) -> Code:
        """The runtime's module path as seen from a top-level module of the package."""
        return Code(f".{VENDORED_NAME}" if self.vendored else IMPORT_NAME)

    def from_subpackage(self) -> Code:
        """The same, from ``models/``, ``clientset/``, ``listers/`` or ``informers/``."""
        return Code(f"..{VENDORED_NAME}" if self.vendored else IMPORT_NAME)

    def context(self) -> dict[str, object]:
        return {
            "runtime_vendored": self.vendored,
            "runtime_top": self.from_top(),
            "runtime_sub": self.from_subpackage(),
            "runtime_requirement": self.requirement,
            "runtime_version": runtime_version,
            "runtime_minimum": Code(repr(self.minimum)),
            "runtime_maximum": Code(repr(self.maximum)),
        }


def runtime_link(vendored: bool, requirement: str = RUNTIME_REQUIREMENT) -> RuntimeLink:
    """Parse ``>=A,<B`` (the only form the generator states) into a :class:`RuntimeLink`."""
    match = _RANGE.fullmatch(requirement)
    if match is None:
        raise ValueError(f"runtime requirement must read '>=A,<B', got {requirement!r}")
    return RuntimeLink(vendored, _release(match.group(1)), _release(match.group(2)))


def vendored_files() -> list[tuple[str, bytes]]:
    """The runtime library's sources, copied verbatim into ``<package>/_runtime``."""
    root = Path(str(resources.files(IMPORT_NAME)))
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".typed") and "__pycache__" not in path.parts:
            files.append((path.relative_to(root).as_posix(), path.read_bytes()))
    return files
