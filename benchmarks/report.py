"""Render benchmark outcomes, with the machine they ran on, as ``docs/benchmarks.md``.

The file is rewritten whole from one run, so every number in it comes from the same
machine, load and commit; the header says which.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import ROOT, Outcome, Section, Target

DISTRIBUTIONS = ("msgspec", "orjson", "lightkube", "lightkube-models", "kubernetes", "pydantic",
                 "black")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=False, timeout=10)
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def load_average() -> str:
    """1/5/15-minute load: other work on a shared machine shows up in every timing."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> dict[str, str]:
    """What the numbers depend on: hardware, load, interpreter and library versions."""
    info = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "OS": platform.platform(),
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "load average at start": load_average(),
        "kubecodegen commit": _commit(),
    }
    info.update({distribution: _version(distribution) for distribution in DISTRIBUTIONS})
    return info


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _section(section: Section) -> list[str]:
    lines = [f"## {section.title}", "", *_table(section.headers, section.rows), ""]
    lines += [f"- {note}" for note in section.notes]
    return [*lines, ""] if section.notes else lines


ANALYSIS_START = "<!-- analysis: kept across runs, edit by hand -->"
ANALYSIS_END = "<!-- /analysis -->"


def kept_analysis(path: Path) -> str:
    """The hand-written analysis block of an existing report, to carry into the new one.

    Numbers are regenerated on every run; the explanation of a missed target (what a
    profile showed, what would fix it) is written by a person and must survive a rerun.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    start, end = text.find(ANALYSIS_START), text.find(ANALYSIS_END)
    if start < 0 or end < start:
        return ""
    return text[start + len(ANALYSIS_START):end].strip()


def render(outcomes: Sequence[Outcome], info: dict[str, str], analysis: str,
           command: str, elapsed: float) -> str:
    targets: list[Target] = [t for outcome in outcomes for t in outcome.targets]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (`python -m benchmarks`) from one run that took "
        f"{elapsed / 60:.1f} min; rerun it to refresh. Targets come from the issues and are "
        "reported, not asserted.",
        "",
        "## Machine",
        "",
        *_table(["", ""], [[key, value] for key, value in info.items()]),
        "",
        "## Targets",
        "",
        *_table(["target", "goal", "measured", "verdict"],
                [[t.name, t.goal, t.measured, f"**{t.verdict}**"] for t in targets]),
        "",
    ]
    lines += ["## Analysis", "", ANALYSIS_START, "",
              analysis or "_No analysis written yet._", "", ANALYSIS_END, ""]
    for outcome in outcomes:
        for section in outcome.sections:
            lines += _section(section)
    return "\n".join(lines).rstrip() + "\n"


def write(path: Path, text: str) -> None:
    """Write via a temporary sibling so a crash never leaves half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
