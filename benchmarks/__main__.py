"""``python -m benchmarks``: run every benchmark suite once and rewrite docs/benchmarks.md.

Suites run in one process, one after another, so the machine section of the report is
true for all of them. A suite is a module with ``run(ctx: Context) -> Outcome``; the
cluster benchmarks of later issues are added to :data:`SUITES` the same way.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import (
    ROOT,
    Context,
    Outcome,
    apply_configs,
    decode,
    fake_conformance,
    generation,
    imports,
    informer_cluster,
    informer_offline,
    list_cluster,
    metadata_memory,
    report,
    watchlist_cluster,
)

Suite = Callable[[Context], Outcome]

SUITES: dict[str, Suite] = {
    "generation": generation.run,  # first: its output serves `imports` when generated/ lacks v1.35
    "decode": decode.run,
    "imports": imports.run,
    "apply_configs": apply_configs.run,
    "list_cluster": list_cluster.run,
    "informer_cluster": informer_cluster.run,
    "informer_offline": informer_offline.run,
    "watchlist_cluster": watchlist_cluster.run,
    "fake_conformance": fake_conformance.run,
    "metadata_memory": metadata_memory.run,
}

# Generated packages the suites need, with the spec each comes from.
PACKAGES = {"kube_v1_20": "builtin:v1.20"}


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default=",".join(SUITES),
                        help=f"comma-separated suites to run (default: all of {', '.join(SUITES)})")
    parser.add_argument("--rounds", type=int, default=9,
                        help="measured rounds per in-process contender (default: 9)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default: 1)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md",
                        help="report to rewrite (default: docs/benchmarks.md)")
    parser.add_argument("--no-write", action="store_true",
                        help="print the report instead of writing it")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SUITES))
    if unknown:
        print(f"--only: unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}",
              file=sys.stderr)
        return 2
    if args.rounds < 1 or args.warmup < 0:
        print("--rounds must be ≥ 1 and --warmup ≥ 0", file=sys.stderr)
        return 2
    info = report.machine()  # before anything runs: the load average is the machine's own
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="kubecodegen-bench-") as scratch:
        ctx = Context(scratch=Path(scratch), rounds=args.rounds, warmup=args.warmup)
        for package, source in PACKAGES.items():
            generation.ensure_package(ctx, package, source)
            print(f"{package}: {ctx.package_origin[package]}", file=sys.stderr)
        for name in chosen:
            print(f"running {name} …", file=sys.stderr)
            suite_start = time.perf_counter()
            outcomes.append(SUITES[name](ctx))
            print(f"  {name} took {time.perf_counter() - suite_start:.0f} s", file=sys.stderr)
    info["load average at end"] = report.load_average()
    text = report.render(outcomes, info, report.kept_analysis(args.output), "make bench",
                         time.perf_counter() - started)
    if args.no_write:
        print(text)
    else:
        report.write(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    for target in (t for outcome in outcomes for t in outcome.targets):
        print(f"{target.verdict:4}  {target.name}: {target.measured} (goal {target.goal})",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
