"""Regenerate (``write``) or verify (``check``) everything the generator writes into this repository.

That is the committed reference packages in generated/, the runtime's own meta/v1 module
(generator/runtime/kubecodegen_runtime/apis/meta_v1.py, from the newest bundled spec) and the
packages examples generate from their CRD files (``CRD_PACKAGES``).
``check`` renders it all in memory and compares it with the committed files, so CI fails when
a generator, template or spec change was not followed by ``make generated``, or when a
generated file was edited by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kubecodegen.generate import SpecSource, check, generate, generate_runtime_meta, write
from kubecodegen.render.write import stale_files

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "generated"
RUNTIME = ROOT / "generator" / "runtime" / "kubecodegen_runtime"
REFERENCES = {
    "kube_v1_35": "builtin:v1.35",  # the embedded default spec
    "kube_v1_20": "builtin:v1.20",  # /openapi/v2 as served by kube-apiserver v1.20.2
}
#: Packages generated from CRD files, as a user runs ``kubecodegen generate --crd FILE
#: --package NAME --out FOLDER``: NAME -> (FILE, FOLDER), both relative to the repository.
CRD_PACKAGES = {
    "samplecontroller": ("examples/sample_controller/crd.yaml",
                         "examples/sample_controller/generated"),
}


def write_runtime_meta(runtime: Path = RUNTIME) -> list[Path]:
    """Write the runtime's generated modules under ``runtime``; returns the paths written."""
    written = []
    for rel, data in generate_runtime_meta().items():
        path = runtime / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def stale_runtime_meta(runtime: Path = RUNTIME) -> list[str]:
    """The runtime's generated modules that differ from what the generator writes (or are
    missing), relative to ``runtime``. Only those files are compared: the rest of the
    runtime is written by hand."""
    files = generate_runtime_meta()
    return [rel for rel in stale_files(files, runtime) if rel in files]


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else "check"
    stale_total = 0
    if mode == "write":
        for path in write_runtime_meta():
            print(f"wrote {path.relative_to(ROOT)}")
    else:
        stale = stale_runtime_meta()
        stale_total += len(stale)
        state = "up to date" if not stale else f"STALE ({', '.join(stale)})"
        print(f"{RUNTIME.relative_to(ROOT)} generated modules: {state}")
    jobs: list[tuple[str, str | SpecSource, Path, str]] = [
        (package, source, OUT, source) for package, source in REFERENCES.items()]
    for package, (crd, folder) in CRD_PACKAGES.items():
        jobs.append((package, SpecSource(crds=(str(ROOT / crd),)), ROOT / folder, f"--crd {crd}"))
    for package, source, out, origin in jobs:
        generated = generate(source, package)
        if mode == "write":
            print(f"wrote {write(generated, out)}")
            continue
        stale = check(generated, out)
        stale_total += len(stale)
        state = "up to date" if not stale else f"STALE ({len(stale)} files)"
        print(f"{(out / package).relative_to(ROOT)} from {origin}: {state}")
        for path in stale[:20]:
            print(f"  {path}")
    if stale_total:
        print("run `make generated` and commit the result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
