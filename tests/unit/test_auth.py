"""Auth classes and exec credential plugins.

The httpx auth flows are generators; these tests drive them directly (request out,
response in) instead of standing up a server: what is checked here is the retry and
refresh logic. Talking to a real API server is tests/integration/test_auth_cluster.py.
Plugins are real Python scripts run as subprocesses.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import ssl
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubecodegen_runtime.config import (
    BasicAuth,
    BearerTokenAuth,
    ConfigError,
    ExecAuth,
    ExecConfig,
    ExecCredential,
    ExecPlugin,
    ExecPluginError,
    TokenFileAuth,
)
from kubecodegen_runtime.config.exec_plugin import API_V1, API_V1BETA1, parse_rfc3339
from tests.unit.test_kubeconfig import make_pki

# -- driving flows -------------------------------------------------------------------------------


def new_request() -> httpx.Request:
    return httpx.Request("POST", "https://api.example/api/v1/namespaces", content=b'{"a": 1}')


def run_sync(auth: httpx.Auth, statuses: list[int]) -> list[str | None]:
    """Run a sync flow answering each sent request with the next status; return the
    Authorization header of every request the flow sent."""
    flow = auth.sync_auth_flow(new_request())
    sent: list[str | None] = []
    request = next(flow)
    for status in statuses:
        sent.append(request.headers.get("Authorization"))
        try:
            request = flow.send(httpx.Response(status, request=request))
        except StopIteration:
            return sent
    raise AssertionError(f"flow sent more requests than the {len(statuses)} answers given")


async def run_async(auth: httpx.Auth, statuses: list[int]) -> list[str | None]:
    flow: AsyncGenerator[httpx.Request, httpx.Response] = auth.async_auth_flow(new_request())
    sent: list[str | None] = []
    request = await flow.__anext__()
    for status in statuses:
        sent.append(request.headers.get("Authorization"))
        try:
            request = await flow.asend(httpx.Response(status, request=request))
        except StopAsyncIteration:
            return sent
    raise AssertionError(f"flow sent more requests than the {len(statuses)} answers given")


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- static credentials --------------------------------------------------------------------------


def test_bearer_token_auth_sets_header_and_hides_token() -> None:
    auth = BearerTokenAuth("s3cr3t-token")
    assert run_sync(auth, [401]) == ["Bearer s3cr3t-token"]  # static: no retry on 401
    assert "s3cr3t" not in repr(auth)


def test_basic_auth_sets_header_and_hides_password() -> None:
    auth = BasicAuth("alice", "pa55word")
    expected = "Basic " + base64.b64encode(b"alice:pa55word").decode()
    assert run_sync(auth, [200]) == [expected]
    assert "pa55word" not in repr(auth) and "alice" in repr(auth)


# -- token file ----------------------------------------------------------------------------------


def test_token_file_rotation_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("first-token\n")
    auth = TokenFileAuth(path, refresh_interval=3600, clock=Clock())
    assert run_sync(auth, [200]) == ["Bearer first-token"]
    path.write_text("second-token-longer\n")
    assert run_sync(auth, [200]) == ["Bearer second-token-longer"]
    assert "token-longer" not in repr(auth) and str(path) in repr(auth)


def test_token_file_is_reread_after_interval_even_if_it_looks_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("aaaa")
    clock = Clock()
    auth = TokenFileAuth(path, refresh_interval=60, clock=clock)
    before = os.stat(path)
    with open(path, "r+") as handle:  # same inode, same size, same mtime
        handle.write("bbbb")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert auth.token() == "aaaa"
    clock.now += 61
    assert auth.token() == "bbbb"


def test_token_file_401_rereads_and_retries_once_when_changed(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("old")
    auth = TokenFileAuth(path, refresh_interval=3600, clock=Clock())
    assert run_sync(auth, [401]) == ["Bearer old"]  # unchanged: resending cannot help
    flow = auth.sync_auth_flow(new_request())
    first = next(flow)
    assert first.headers["Authorization"] == "Bearer old"
    path.write_text("new")
    retried = flow.send(httpx.Response(401, request=first))
    assert retried.headers["Authorization"] == "Bearer new"
    assert retried.content == b'{"a": 1}'  # body replayed
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(401, request=retried))  # only once


async def test_token_file_async_flow(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("async-token")
    assert await run_async(TokenFileAuth(path), [200]) == ["Bearer async-token"]


def test_token_file_keeps_last_token_when_file_disappears(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "token"
    path.write_text("survivor")
    auth = TokenFileAuth(path)
    path.unlink()
    with caplog.at_level(logging.WARNING):
        assert auth.token() == "survivor"
    assert "keeping the previous token" in caplog.text and "survivor" not in caplog.text


def test_token_file_must_be_readable_and_non_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read token file .*/absent: No such file"):
        TokenFileAuth(tmp_path / "absent")
    (tmp_path / "empty").write_text("  \n")
    with pytest.raises(ConfigError, match="is empty"):
        TokenFileAuth(tmp_path / "empty", origin_file="kc", origin_field="users[0].user.tokenFile")


# -- exec plugins --------------------------------------------------------------------------------

ECHO_PLUGIN = """
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
with open(os.environ["COUNT_FILE"], "a") as handle:
    handle.write("x\\n")
with open(os.environ["COUNT_FILE"]) as handle:
    count = len(handle.readlines())
time.sleep(float(os.environ.get("SLEEP", "0")))
seen = {
    "info": info,
    "args": sys.argv[1:],
    "var": os.environ.get("PLUGIN_VAR"),
    "base": os.environ.get("BASE_VAR"),
    "count": count,
    "stdin": None if info["spec"]["interactive"] else sys.stdin.read(),
}
status = {"token": "tok-" + base64.b64encode(json.dumps(seen).encode()).decode()}
if os.environ.get("EXPIRES"):
    status["expirationTimestamp"] = os.environ["EXPIRES"]
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status}))
"""


def write_plugin(directory: Path, body: str, name: str = "plugin") -> Path:
    path = directory / name
    header = f"#!{sys.executable}\nimport base64, json, os, sys, time\n"
    path.write_text(header + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def decode_token(credential: ExecCredential | str | None) -> dict[str, Any]:
    token = credential.token if isinstance(credential, ExecCredential) else credential
    assert token is not None
    token = token.removeprefix("Bearer ")
    return dict(json.loads(base64.b64decode(token.removeprefix("tok-"))))


def count(tmp_path: Path) -> int:
    counter = tmp_path / "count"
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def make_plugin(
    tmp_path: Path,
    body: str = ECHO_PLUGIN,
    *,
    env: dict[str, str] | None = None,
    api_version: str = API_V1,
    mode: str = "Never",
    tty: bool = False,
    clock: Clock | None = None,
    timeout: float = 30.0,
    **config: Any,
) -> ExecPlugin:
    command = config.pop("command", None) or str(write_plugin(tmp_path, body))
    exec_config = ExecConfig(
        command=command,
        api_version=api_version,
        user="dev",
        env=tuple({"COUNT_FILE": str(tmp_path / "count"), **(env or {})}.items()),
        interactive_mode=mode,
        file="/home/dev/.kube/config",
        field="users[0].user.exec",
        **config,
    )
    return ExecPlugin(
        exec_config,
        timeout=timeout,
        clock=clock or Clock(),
        stdin_is_tty=lambda: tty,
        environ={"PATH": os.environ.get("PATH", ""), "BASE_VAR": "from-base", "PLUGIN_VAR": "base"},
    )


def test_exec_plugin_request_env_args_and_stdin(tmp_path: Path) -> None:
    plugin = make_plugin(tmp_path, env={"PLUGIN_VAR": "from-kubeconfig"}, args=("get-token", "--x"))
    seen = decode_token(plugin.credential())
    assert seen["info"] == {
        "apiVersion": API_V1,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    assert seen["args"] == ["get-token", "--x"]
    assert seen["var"] == "from-kubeconfig"  # kubeconfig env wins over the process env
    assert seen["base"] == "from-base"
    assert seen["stdin"] == ""  # Never: stdin is not connected


def test_exec_plugin_v1beta1_and_cluster_info(tmp_path: Path) -> None:
    info = {"server": "https://k.example", "certificate-authority-data": "Q0E="}
    plugin = make_plugin(
        tmp_path, api_version=API_V1BETA1, provide_cluster_info=True, cluster_info=info
    )
    seen = decode_token(plugin.credential())
    assert seen["info"]["apiVersion"] == API_V1BETA1
    assert seen["info"]["spec"]["cluster"] == info
    without = make_plugin(tmp_path, provide_cluster_info=False, cluster_info=info)
    assert "cluster" not in decode_token(without.credential())["info"]["spec"]


@pytest.mark.parametrize(
    ("mode", "tty", "interactive"),
    [
        ("Never", True, False),
        ("IfAvailable", False, False),
        ("IfAvailable", True, True),
        ("Always", True, True),
    ],
)
def test_exec_plugin_interactive_modes(
    tmp_path: Path, mode: str, tty: bool, interactive: bool
) -> None:
    plugin = make_plugin(tmp_path, mode=mode, tty=tty)
    assert decode_token(plugin.credential())["info"]["spec"]["interactive"] is interactive


def test_exec_plugin_always_needs_a_terminal(tmp_path: Path) -> None:
    plugin = make_plugin(tmp_path, mode="Always", tty=False)
    with pytest.raises(
        ExecPluginError, match="interactiveMode Always, but standard input is not a terminal"
    ):
        plugin.credential()
    assert count(tmp_path) == 0


def test_exec_credential_cached_until_expiration(tmp_path: Path) -> None:
    clock = Clock(time.time())
    plugin = make_plugin(tmp_path, env={"EXPIRES": "2030-01-01T00:00:00Z"}, clock=clock)
    first = plugin.credential()
    assert plugin.credential() is first
    assert first.expires_at == parse_rfc3339("2030-01-01T00:00:00Z")
    clock.now = parse_rfc3339("2030-01-01T00:00:00Z") or 0.0
    second = plugin.credential()
    assert second is not first and decode_token(second)["count"] == 2


def test_exec_credential_without_expiration_is_cached_until_rejected(tmp_path: Path) -> None:
    plugin = make_plugin(tmp_path)
    first = plugin.credential()
    assert plugin.credential() is first and count(tmp_path) == 1
    second = plugin.refresh(first)
    assert decode_token(second)["count"] == 2
    assert plugin.refresh(first) is second  # already rotated by someone else: no rerun
    assert count(tmp_path) == 2


def test_exec_auth_reruns_plugin_on_401_once(tmp_path: Path) -> None:
    auth = ExecAuth(make_plugin(tmp_path))
    sent = run_sync(auth, [401, 401])
    assert [decode_token(header)["count"] for header in sent] == [1, 2]
    assert [decode_token(h)["count"] for h in run_sync(auth, [200])] == [2]  # cached


async def test_exec_auth_async_reruns_on_401(tmp_path: Path) -> None:
    auth = ExecAuth(make_plugin(tmp_path))
    sent = await run_async(auth, [401, 200])
    assert [decode_token(header)["count"] for header in sent] == [1, 2]


async def test_exec_auth_async_runs_one_plugin_and_keeps_the_loop_running(tmp_path: Path) -> None:
    auth = ExecAuth(make_plugin(tmp_path, env={"SLEEP": "0.5"}))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticking = asyncio.ensure_future(ticker())
    try:
        results = await asyncio.gather(*(run_async(auth, [200]) for _ in range(5)))
    finally:
        ticking.cancel()
    assert len({header for [header] in results}) == 1
    assert count(tmp_path) == 1
    assert ticks >= 10  # the loop kept running while the plugin slept


def test_exec_plugin_one_run_at_a_time_across_threads(tmp_path: Path) -> None:
    plugin = make_plugin(tmp_path, env={"SLEEP": "0.3"})
    results: list[ExecCredential] = []
    threads = [
        threading.Thread(target=lambda: results.append(plugin.credential())) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count(tmp_path) == 1 and len({id(r) for r in results}) == 1


# -- exec plugin errors --------------------------------------------------------------------------


def failing(tmp_path: Path, body: str, **kwargs: Any) -> ExecPluginError:
    with pytest.raises(ExecPluginError) as info:
        make_plugin(tmp_path, body, **kwargs).credential()
    error = info.value
    assert error.file == "/home/dev/.kube/config" and error.field == "users[0].user.exec"
    assert "LEAKED" not in str(error)
    return error


def test_exec_plugin_missing_on_path_shows_install_hint(tmp_path: Path) -> None:
    error = failing(
        tmp_path, "", command="no-such-plugin-kcg", install_hint="Install it with: brew install x"
    )
    assert "'no-such-plugin-kcg' for user 'dev' was not found on PATH" in error.message
    assert error.message.endswith("Install it with: brew install x")
    error = failing(tmp_path, "", command=str(tmp_path / "bin" / "gone"))
    assert f"'{tmp_path / 'bin' / 'gone'}' for user 'dev' was not found" in error.message


def test_exec_plugin_failure_keeps_stderr_out_of_the_error(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """client-go passes a plugin's stderr to the terminal; it never becomes part of an
    error, since a failing plugin may print the very token it failed to hand over."""
    body = (
        'print("LEAKED-credential-on-stdout")\n'
        'sys.stderr.write("login required; token was LEAKED-token-on-stderr\\n")\n'
        "sys.exit(3)\n"
    )
    try:
        make_plugin(tmp_path, body).credential()
    except ExecPluginError as exc:
        error = exc
        rendered = "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)
    else:
        pytest.fail("the plugin should have failed")
    assert "failed with exit status 3" in error.message
    assert "went to standard error" in error.message
    assert "LEAKED" not in rendered
    assert error.__cause__ is None and error.__context__ is None
    captured = capfd.readouterr()
    assert "LEAKED-token-on-stderr" in captured.err  # the user still sees what it said
    assert "LEAKED-credential-on-stdout" not in captured.out + captured.err


def test_exec_plugin_token_that_is_not_a_header_value_is_refused(tmp_path: Path) -> None:
    body = (
        'print(json.dumps({"apiVersion": json.loads(os.environ["KUBERNETES_EXEC_INFO"])'
        '["apiVersion"], "kind": "ExecCredential", "status": {"token": "LEAKED\\r\\nX: y"}}))\n'
    )
    error = failing(tmp_path, body)
    assert "returned a status.token that contains a line break" in error.message


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        (
            '{"token": "LEAKED-1"',
            "printed output that is not valid JSON (line 1 column 21: Expecting ',' delimiter)",
        ),
        ("[1, 2]", "printed JSON that is not an ExecCredential object"),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": {"token": "LEAKED-2"}}',
            "returned apiVersion 'client.authentication.k8s.io/v1beta1', expected 'client.authentication.k8s.io/v1'",
        ),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "Secret"}',
            "returned kind other than",
        ),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential"}',
            "without a status object",
        ),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {}}',
            "returned neither status.token nor a client certificate",
        ),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"token": 5}}',
            "status.token that is not a string",
        ),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"clientKeyData": "LEAKED-3"}}',
            "only one of status.clientCertificateData and status.clientKeyData",
        ),
        (
            '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": {"token": "LEAKED-4", "expirationTimestamp": "tomorrow"}}',
            "status.expirationTimestamp that is not RFC 3339",
        ),
    ],
)
def test_exec_plugin_bad_output(tmp_path: Path, stdout: str, message: str) -> None:
    error = failing(tmp_path, f"sys.stdout.write({stdout!r})\n")
    assert message in error.message


def test_exec_plugin_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    error = failing(tmp_path, "time.sleep(30)\n", timeout=0.5)
    assert "did not finish within 0.5 seconds" in error.message
    assert time.monotonic() - started < 10


def test_exec_plugin_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\n")
    error = failing(tmp_path, "", command=str(script))
    assert "could not be started: Permission denied" in error.message


# -- exec plugin certificates --------------------------------------------------------------------

CERT_PLUGIN = """
with open(os.environ["COUNT_FILE"], "a") as handle:
    handle.write("x\\n")
status = {{"clientCertificateData": {cert!r}, "clientKeyData": {key!r}}}
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status}}))
"""


def cert_plugin(tmp_path: Path, key: bytes | None = None) -> ExecPlugin:
    pki = make_pki()
    body = CERT_PLUGIN.format(
        cert=pki.client_cert_pem.decode(), key=(key or pki.client_key_pem).decode()
    )
    return make_plugin(tmp_path, body)


def test_exec_certificate_is_loaded_into_the_context_and_rotation_notified(tmp_path: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    auth = ExecAuth(cert_plugin(tmp_path), ssl_context=context)
    rotations: list[int] = []
    auth.add_certificate_listener(lambda: rotations.append(1))
    assert run_sync(auth, [200]) == [None]  # no Authorization header for certificate credentials
    assert run_sync(auth, [200]) == [None] and count(tmp_path) == 1
    assert rotations == []
    assert run_sync(auth, [401, 200]) == [None, None]  # 401: rerun, new certificate loaded
    assert count(tmp_path) == 2 and rotations == [1]


def test_exec_certificate_errors(tmp_path: Path) -> None:
    with pytest.raises(ExecPluginError, match="no ssl_context"):
        run_sync(ExecAuth(cert_plugin(tmp_path)), [200])
    with pytest.raises(ExecPluginError, match="also configures client-certificate"):
        run_sync(
            ExecAuth(
                cert_plugin(tmp_path),
                ssl_context=ssl.create_default_context(),
                has_static_client_certificate=True,
            ),
            [200],
        )
    mismatched = ExecAuth(
        cert_plugin(tmp_path, key=make_pki().other_key_pem),
        ssl_context=ssl.create_default_context(),
    )
    with pytest.raises(ConfigError, match="KEY_VALUES_MISMATCH") as info:
        run_sync(mismatched, [200])
    assert info.value.field == "users[0].user.exec (plugin output)"
    assert make_pki().other_key_pem.decode().splitlines()[1] not in str(info.value)


def test_exec_reprs_hide_secrets(tmp_path: Path) -> None:
    plugin = make_plugin(tmp_path, env={"PLUGIN_VAR": "hidden-env-value"})
    credential = plugin.credential()
    assert credential.token is not None
    for text in (repr(plugin), repr(ExecAuth(plugin)), repr(credential), repr(plugin.config)):
        assert credential.token not in text and "hidden-env-value" not in text


# -- timestamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-01T00:00:00Z", 1893456000.0),
        ("2030-01-01T01:00:00+01:00", 1893456000.0),
        ("2030-01-01T00:00:00.123456789Z", 1893456000.123456),
        ("2030-01-01t00:00:00.5z", 1893456000.5),
        ("2030-01-01", None),
        ("2030-13-01T00:00:00Z", None),
    ],
)
def test_parse_rfc3339(text: str, expected: float | None) -> None:
    result = parse_rfc3339(text)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, abs=1e-6)
