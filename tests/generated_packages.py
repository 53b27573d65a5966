"""Import the committed reference packages in generated/ as a user of them would."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

GENERATED = Path(__file__).resolve().parents[1] / "generated"


def import_reference(package: str) -> ModuleType:
    if str(GENERATED) not in sys.path:
        sys.path.insert(0, str(GENERATED))
    return importlib.import_module(package)
