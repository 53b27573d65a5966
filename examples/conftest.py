"""The examples use the committed reference package ``kube_v1_35`` as a user's project would
use its own generated package: importable by name."""

import sys
from pathlib import Path

GENERATED = Path(__file__).resolve().parents[1] / "generated"
if str(GENERATED) not in sys.path:
    sys.path.insert(0, str(GENERATED))
