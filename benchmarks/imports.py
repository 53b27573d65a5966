"""Import time of a generated package up to the first typed object, in fresh interpreters.

A user's script pays this on every start, so it is measured the way they pay it: a new
``python`` process that imports the package and builds a ``Pod``. Interpreter start-up
(``python -c pass``, same environment) is measured alongside, interleaved, and
subtracted; both are reported. Warm-up runs first so bytecode caches exist, as they do
for an installed package.
"""

from __future__ import annotations

import compileall
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from . import Context, Outcome, Section, Target, median, spread
from .generation import ensure_package

TARGET_MS = 40.0
PACKAGES = {"kube_v1_20": "builtin:v1.20", "kube_v1_35": "builtin:v1.35"}
RUNS = 21
BARE = "python -c pass"
FLOOR = "msgspec"

# What every generated package must import anyway: its one compiled dependency.
_FLOOR_PROBE = """
import time
start = time.perf_counter()
import msgspec, msgspec.json
print(time.perf_counter() - start)
"""
WARMUP = 2

_PROBE = """
import time
start = time.perf_counter()
import {package}
from {package}.models.core_v1 import Pod
from {package}.models.{meta} import ObjectMeta
Pod(metadata=ObjectMeta(name="bench", namespace="default"))
print(time.perf_counter() - start)
"""


def _meta_module(directory: Path, package: str) -> str:
    """The models module that exports ``ObjectMeta`` (its name is the generator's choice):
    defined there, or re-exported from the runtime's meta/v1."""
    for path in sorted((directory / package / "models").glob("*.py")):
        if re.search(r"^class ObjectMeta\(|^\s*ObjectMeta as ObjectMeta\b", path.read_text("utf-8"),
                     re.MULTILINE):
            return path.stem
    raise RuntimeError(f"no ObjectMeta in {directory / package / 'models'}")


def _wall(code: str, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=False, timeout=120)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"import probe failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout.strip()


def _import_profile(code: str, env: dict[str, str], package: str, runs: int = 5) -> str:
    """Where the import time goes, from ``-X importtime`` (median self time per module).

    Splits the package's own modules (models, scheme, runtime) from everything they pull
    in (msgspec, typing, ...), and names the slowest own modules.
    """
    samples: dict[str, list[int]] = {}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env,
                              capture_output=True, text=True, check=False, timeout=120)
        for line in done.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(.+)$", line)
            if match:
                samples.setdefault(match.group(2).strip(), []).append(int(match.group(1)))
    self_us = {name: median(values) for name, values in samples.items()}
    own = {name: us for name, us in self_us.items()
           if name == package or name.startswith((package + ".", "kubecodegen_runtime"))}
    slowest = sorted(own.items(), key=lambda item: -item[1])[:4]
    return (f"own modules {sum(own.values()) / 1000:.1f} ms "
            f"({', '.join(f'{name} {us / 1000:.1f}' for name, us in slowest)}), "
            f"all other modules (start-up included) {sum(self_us.values()) / 1000 - sum(own.values()) / 1000:.1f} ms")


def _environment(**extra: str) -> dict[str, str]:
    """The caller's environment, minus a request not to write bytecode.

    An installed package has its ``.pyc`` files (pip compiles on install); with
    ``PYTHONDONTWRITEBYTECODE`` every probe would compile megabytes of models instead.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


def run(ctx: Context) -> Outcome:
    probes: dict[str, tuple[str, dict[str, str]]] = {
        BARE: ("pass", _environment()),
        FLOOR: (_FLOOR_PROBE, _environment()),
    }
    for package, source in PACKAGES.items():
        directory = ensure_package(ctx, package, source)
        compileall.compile_dir(directory / package, quiet=1)
        code = _PROBE.format(package=package, meta=_meta_module(directory, package))
        probes[package] = (code, _environment(PYTHONPATH=str(directory)))
    walls: dict[str, list[float]] = {name: [] for name in probes}
    inner: dict[str, list[float]] = {name: [] for name in probes}
    names = list(probes)
    for index in range(WARMUP + RUNS):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            code, env = probes[name]
            elapsed, out = _wall(code, env)
            if index >= WARMUP:
                walls[name].append(elapsed)
                if out:
                    inner[name].append(float(out))
    bare = median(walls[BARE])
    floor = median(walls[FLOOR])
    rows = [
        ["python -c pass (interpreter start-up)", f"{bare * 1000:.1f}",
         spread([w * 1000 for w in walls[BARE]]), "—", "—"],
        ["import msgspec, msgspec.json (the dependency alone)", f"{floor * 1000:.1f}",
         spread([w * 1000 for w in walls[FLOOR]]), f"{(floor - bare) * 1000:.1f}",
         f"{median(inner[FLOOR]) * 1000:.1f}"],
    ]
    targets: list[Target] = []
    notes = [f"Median of {RUNS} interleaved fresh processes after {WARMUP} warm-up rounds; "
             "the probe runs `import <pkg>`, imports `Pod` and `ObjectMeta`, builds a Pod. "
             "Bytecode is compiled beforehand, as pip does on install.",
             "The msgspec row is part of every package row: it is the floor no generated "
             "code can go below."]
    for package in PACKAGES:
        total = median(walls[package])
        net = (total - bare) * 1000
        in_process = median(inner[package]) * 1000
        rows.append([f"{package}: import → first Pod", f"{total * 1000:.1f}",
                     spread([w * 1000 for w in walls[package]]), f"{net:.1f}",
                     f"{in_process:.1f}"])
        targets.append(Target(
            name=f"import {package} → first Pod",
            goal=f"≤ {TARGET_MS:.0f} ms",
            measured=f"{net:.1f} ms net of start-up ({in_process:.1f} ms timed inside)",
            passed=net <= TARGET_MS,
        ))
        code, env = probes[package]
        notes.append(f"{package} ({ctx.package_origin.get(package, '?')}), self time under "
                     f"-X importtime (which inflates it): {_import_profile(code, env, package)}.")
    section = Section(
        title="Import of the generated package up to a first typed object",
        headers=["process", "median wall ms", "range ms", "minus start-up ms",
                 "timed inside ms"],
        rows=rows,
        notes=notes,
    )
    return Outcome(sections=[section], targets=targets)
