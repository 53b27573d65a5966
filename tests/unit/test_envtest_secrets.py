"""envtest keeps secrets out of reprs and errors, and costs nothing until used (no server runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubecodegen_runtime.envtest import Binaries, Environment, StartError
from kubecodegen_runtime.envtest.pki import CertificateAuthority, service_account_keys


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def fake_binaries(tmp_path: Path, etcd_body: str) -> Binaries:
    """A kube-apiserver that only knows its version and an etcd doing ``etcd_body``."""
    return Binaries(
        kube_apiserver=script(tmp_path / "bin" / "kube-apiserver", "echo Kubernetes v1.20.2"),
        etcd=script(tmp_path / "bin" / "etcd", etcd_body),
        etcdctl=None,
    )


def test_tokens_stay_out_of_the_repr(tmp_path: Path) -> None:
    env = Environment(
        binaries=fake_binaries(tmp_path, "exit 1"),
        token_users={"robot": ("system:masters",), "reader": ()},
    )
    try:
        robot, reader = env.token("robot"), env.token("reader")
        assert robot != reader and len(robot) >= 40
        text = repr(env)
        assert robot not in text and reader not in text
        assert text.startswith("Environment(kube-apiserver, -, stopped, dir=")
        with pytest.raises(KeyError, match="'nobody' is not one of this environment's token users"):
            env.token("nobody")
        with pytest.raises(RuntimeError, match="not been started"):
            _ = env.config
    finally:
        env.close()


@pytest.mark.parametrize("user", ["a,b", 'quo"te', "new\nline", ""])
def test_names_that_would_break_the_token_file_are_refused(tmp_path: Path, user: str) -> None:
    with pytest.raises(ValueError, match="cannot be written to a token file"):
        Environment(binaries=fake_binaries(tmp_path, "exit 1"), token_users={user: ()})
    with pytest.raises(ValueError, match="cannot be written to a token file"):
        Environment(binaries=fake_binaries(tmp_path, "exit 1"), token_users={"ok": (user,)})


def test_a_failed_start_shows_the_log_but_no_secret_and_cleans_up(tmp_path: Path) -> None:
    env = Environment(
        binaries=fake_binaries(tmp_path, "echo 'etcd: cannot listen' >&2; exit 3"),
        token_users={"robot": ()},
    )
    folder = env.directory
    assert folder.stat().st_mode & 0o777 == 0o700
    with pytest.raises(StartError) as caught:
        env.start()
    message = str(caught.value)
    assert "etcd exited while starting" in message
    assert "etcd: cannot listen" in message and "exit code 3" in message
    assert env.token("robot") not in message
    key = (folder / "pki" / "admin.key").read_text()
    assert "PRIVATE KEY" in key and key not in message
    for secret in ("admin.key", "apiserver.key", "sa.key", "tokens.csv"):
        path = next(folder.rglob(secret))
        assert path.stat().st_mode & 0o077 == 0, path
    assert not env.running
    env.close()
    assert not folder.exists()
    env.close()  # idempotent


def test_an_explicit_folder_is_the_callers(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    env = Environment(binaries=fake_binaries(tmp_path, "exit 1"), directory=tmp_path / "mine")
    with pytest.raises(StartError):
        env.start()
    env.close()
    assert (tmp_path / "mine" / "pki" / "ca.crt").is_file()  # left to the caller
    with pytest.raises(ValueError, match="is not a folder"):
        Environment(binaries=fake_binaries(tmp_path, "exit 1"), directory=tmp_path / "absent")


def test_keys_stay_out_of_pki_reprs() -> None:
    ca = CertificateAuthority()
    pair = ca.issue_client("alice", ["devs"])
    assert "PRIVATE" not in repr(pair) and pair.key_pem.decode() not in repr(pair)
    assert repr(ca) == "CertificateAuthority('CN=kubecodegen-envtest-ca')"
    assert "PRIVATE" not in repr(service_account_keys())


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_without_cryptography_only_the_certificates_need_the_extra() -> None:
    result = run_python(
        "import sys\n"
        "sys.modules['cryptography'] = None  # as if not installed\n"
        "import kubecodegen_runtime.client, kubecodegen_runtime.envtest.pytest_plugin\n"
        "from kubecodegen_runtime.envtest import Environment, find_binaries, load_crds\n"
        "try:\n"
        "    import kubecodegen_runtime.envtest.pki\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'kubecodegen-runtime[envtest]'" in result.stdout
    assert "cryptography" in result.stdout


def test_the_pytest_plugin_imports_nothing_until_a_fixture_is_used() -> None:
    result = run_python(
        "import sys\n"
        "before = set(sys.modules)\n"
        "import kubecodegen_runtime.envtest.pytest_plugin\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    assert result.returncode == 0, result.stderr
    loaded = {name.strip("'") for name in result.stdout.strip("[]\n").split(", ")}
    assert "httpx" not in loaded and "cryptography" not in loaded
    assert "kubecodegen_runtime.envtest.environment" not in loaded
    assert "kubecodegen_runtime.envtest.pytest_plugin" in loaded


def test_a_with_block_whose_start_fails_still_removes_the_folder(tmp_path: Path) -> None:
    env = Environment(binaries=fake_binaries(tmp_path, "exit 4"))
    with pytest.raises(StartError, match="exit code 4"), env:
        pytest.fail("the block must not run")
    assert not env.directory.exists()


def test_the_server_flags_keep_service_accounts_and_tokens(tmp_path: Path) -> None:
    """Where envtest's kube-apiserver flags deliberately differ from controller-runtime's."""
    from kubecodegen_runtime.envtest.flags import Layout, apiserver_args

    layout = Layout(tmp_path / "etcd", tmp_path / "pki", tmp_path / "tokens.csv", 1, 2, 3)
    args = apiserver_args(Path("/k"), (1, 30, 0), layout, extra=["--v=2"])
    assert f"--token-auth-file={tmp_path / 'tokens.csv'}" in args
    assert "--authorization-mode=RBAC" in args
    assert not [arg for arg in args if arg.startswith("--disable-admission-plugins")]
    assert "--advertise-address=127.0.0.1" in args and args[-1] == "--v=2"
