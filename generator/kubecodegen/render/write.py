"""Render planned files, format them with black, and write them all-or-nothing.

Formatting is the slow step (black on ~4 MB of source), so files are formatted in a
process pool; output does not depend on the pool (black is deterministic per file).
Writing goes to a temporary sibling folder that replaces the target only when every
file is written, so an error never leaves a half-generated package behind.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import black
from black.mode import TargetVersion
from black.parsing import InvalidInput

from .env import make_environment
from .plan import PlannedFile

_MODE = black.Mode(target_versions={TargetVersion.PY310})


class RenderError(Exception):
    """A template produced code that black cannot parse (a generator bug, never user input)."""


def _format(item: tuple[str, str]) -> tuple[str, str]:
    path, source = item
    try:
        return path, black.format_str(source, mode=_MODE)
    except InvalidInput as exc:  # pragma: no cover - would be a template bug
        raise RenderError(f"{path}: generated code does not parse: {exc}") from None


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\rformatting {done}/{total} files")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def render(planned: list[PlannedFile], workers: int | None = None) -> dict[str, bytes]:
    """Render and format every planned file; return relative path → bytes."""
    env = make_environment()
    output: dict[str, bytes] = {}
    to_format: list[tuple[str, str]] = []
    for item in planned:
        if item.template is None:
            output[item.path] = item.content or b""
        else:
            to_format.append((item.path, env.get_template(item.template).render(**item.context)))
    # Largest first, so the pool finishes together.
    to_format.sort(key=lambda pair: -len(pair[1]))
    workers = workers or min(len(to_format), os.cpu_count() or 1)
    if workers > 1 and len(to_format) > 4:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done, (path, text) in enumerate(pool.map(_format, to_format), start=1):
                output[path] = text.encode("utf-8")
                _progress(done, len(to_format))
    else:
        for done, (path, source) in enumerate(to_format, start=1):
            output[path] = _format((path, source))[1].encode("utf-8")
            _progress(done, len(to_format))
    return dict(sorted(output.items()))


def stale_files(files: dict[str, bytes], target: Path) -> list[str]:
    """Paths (relative to ``target``) that would be added, changed or removed."""
    existing = {
        p.relative_to(target).as_posix()
        for p in target.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    } if target.is_dir() else set()
    stale = [path for path, data in files.items()
             if path not in existing or (target / path).read_bytes() != data]
    stale.extend(sorted(existing - set(files)))
    return sorted(stale)


def write_atomically(files: dict[str, bytes], target: Path) -> None:
    """Replace ``target`` with exactly ``files``; on any error the old folder stays."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        for rel, data in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        retired = None
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rename(target, retired / target.name)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
