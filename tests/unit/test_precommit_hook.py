"""The pre-commit hook this repository defines does what README's CI recipe says.

The hook's ``entry`` plus the ``args`` a user writes (here: the README's example with the
CRDs in tests/data/crds) must pass on a freshly generated package and fail, naming the file,
once the committed package drifts.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "tests" / "data" / "crds" / "prometheus-operator__monitoring.coreos.com_servicemonitors.yaml"


def _hook() -> dict[str, object]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "kubecodegen-check"]
    assert isinstance(hook, dict)
    return hook


def _run(entry: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = shlex.split(entry)
    executable = shutil.which(command[0], path=str(Path(sys.executable).parent))
    assert executable is not None, f"{command[0]} is not installed next to {sys.executable}"
    return subprocess.run([executable, *command[1:], *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


def test_hook_definition_runs_generate_check_on_the_whole_repository() -> None:
    hook = _hook()
    assert hook["pass_filenames"] is False  # the args name the inputs, not the changed files
    assert hook["always_run"] is True  # a CRD edit must trigger it as much as a package edit
    assert "--check" in shlex.split(str(hook["entry"]))


def test_hook_passes_when_up_to_date_and_fails_naming_the_stale_file(tmp_path: Path) -> None:
    args = ["--crd", str(CRDS), "--package", "mon", "--out", "src/"]
    generated = _run("kubecodegen generate", args, tmp_path)
    assert generated.returncode == 0, generated.stderr

    entry = str(_hook()["entry"])
    clean = _run(entry, args, tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    module = next(p for p in sorted((tmp_path / "src" / "mon" / "models").glob("*.py"))
                  if p.name != "__init__.py")
    module.write_text(module.read_text() + "# edited by hand\n")
    stale = _run(entry, args, tmp_path)
    assert stale.returncode == 1
    assert module.relative_to(tmp_path / "src" / "mon").as_posix() in stale.stdout + stale.stderr
