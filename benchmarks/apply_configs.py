"""What apply configurations cost: generated size, and import time only when used.

Every model module has an apply configuration twin, so the question is whether users
who never apply pay for them (they must not: nothing imports ``applyconfigurations``
until a module of it is), and what a user who does pays for one group-version. Sizes are
lines of the generated Python; import times are fresh processes (bytecode compiled first,
as pip does) that import the package, then either ``models.apps_v1`` or
``applyconfigurations.apps_v1``; the package import is timed apart and subtracted.
"""

from __future__ import annotations

import compileall
import subprocess
import sys
from pathlib import Path

from . import Context, Outcome, Section, median, spread
from .generation import ensure_package
from .imports import _environment

PACKAGES = {"kube_v1_20": "builtin:v1.20", "kube_v1_35": "builtin:v1.35"}
RUNS = 11

_PROBE = """
import sys, time
import {package}
start = time.perf_counter()
import {package}.{module}.apps_v1
done = time.perf_counter() - start
loaded = sum(1 for name in sys.modules if name.startswith("{package}.applyconfigurations."))
print(done, loaded)
"""

_UNUSED = """
import sys
import {package}
from {package}.models.core_v1 import Pod
print(sum(1 for name in sys.modules if ".applyconfigurations" in name))
"""


def _lines(folder: Path) -> int:
    return sum(len(path.read_bytes().splitlines()) for path in folder.rglob("*.py"))


def _probe(code: str, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    return done.stdout.strip()


def run(ctx: Context) -> Outcome:
    size = Section(title="Generated size: models and apply configurations",
                   headers=["package", "models/ lines", "applyconfigurations/ lines", "whole package lines"])
    timing = Section(title="Import of apps_v1: models vs apply configurations (after `import <pkg>`)",
                     headers=["package", "module", "median ms", "range ms", "applyconfig modules loaded"])
    for package, source in PACKAGES.items():
        directory = ensure_package(ctx, package, source)
        root = directory / package
        compileall.compile_dir(root, quiet=1)
        size.rows.append([package, str(_lines(root / "models")), str(_lines(root / "applyconfigurations")),
                          str(_lines(root))])
        env = _environment(PYTHONPATH=str(directory))
        for module in ("models", "applyconfigurations"):
            samples, loaded = [], ""
            for _ in range(RUNS):
                seconds, loaded = _probe(_PROBE.format(package=package, module=module), env).split()
                samples.append(float(seconds) * 1000)
            timing.rows.append([package, f"{module}.apps_v1", f"{median(samples):.1f}", spread(samples), loaded])
        unused = _probe(_UNUSED.format(package=package), env)
        timing.notes.append(f"{package}: `import {package}` and a first Pod load {unused} apply "
                            "configuration modules.")
    size.notes.append("Apply configurations carry no field docstrings (the models do), so they "
                      "are about half the models' size.")
    timing.notes.append(f"Median of {RUNS} fresh processes each; `apps_v1` pulls in `core_v1` and "
                        "`meta_v1` (PodTemplateSpec, ObjectMeta).")
    return Outcome(sections=[size, timing])
