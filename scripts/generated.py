"""Regenerate (``write``) or verify (``check``) the committed reference packages in generated/.

``check`` renders each package in memory and compares it with the committed files, so
CI fails when a generator or template change was not followed by ``make generated``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kubecodegen.generate import check, generate, write

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "generated"
REFERENCES = {
    "kube_v1_35": "builtin:v1.35",  # the embedded default spec
    "kube_v1_20": "builtin:v1.20",  # /openapi/v2 as served by kube-apiserver v1.20.2
}


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else "check"
    stale_total = 0
    for package, source in REFERENCES.items():
        generated = generate(source, package)
        if mode == "write":
            print(f"wrote {write(generated, OUT)}")
            continue
        stale = check(generated, OUT)
        stale_total += len(stale)
        state = "up to date" if not stale else f"STALE ({len(stale)} files)"
        print(f"generated/{package} from {source}: {state}")
        for path in stale[:20]:
            print(f"  {path}")
    if stale_total:
        print("run `make generated` and commit the result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
