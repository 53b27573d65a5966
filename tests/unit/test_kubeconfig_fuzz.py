"""Fuzz the kubeconfig loader: any input gives a ClientConfig or a ConfigError.

Three input families, each bounded in examples and time so the suite stays fast on a
shared two-core machine: kubeconfig-shaped documents with arbitrary values in every
field the loader reads, arbitrary YAML-ish text (anchors, aliases, flow collections,
escapes), and random byte-level mutations of a valid kubeconfig. Every context of a
document that loads is resolved too, since most checks happen only then. Nothing here
runs a plugin or opens a connection: resolution is lazy about both.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubecodegen_runtime.config import ClientConfig, ConfigError, Kubeconfig

FUZZ = settings(
    # A longer run for investigation: KUBECODEGEN_FUZZ_EXAMPLES=5000.
    max_examples=int(os.environ.get("KUBECODEGEN_FUZZ_EXAMPLES", "150")),
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CLUSTER_KEYS = [
    "server",
    "tls-server-name",
    "insecure-skip-tls-verify",
    "certificate-authority",
    "certificate-authority-data",
    "proxy-url",
    "disable-compression",
    "extensions",
]
USER_KEYS = [
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
    "token",
    "tokenFile",
    "as",
    "as-uid",
    "as-groups",
    "as-user-extra",
    "username",
    "password",
    "auth-provider",
    "exec",
]
EXEC_KEYS = [
    "command",
    "args",
    "env",
    "apiVersion",
    "installHint",
    "provideClusterInfo",
    "interactiveMode",
]
OIDC_KEYS = [
    "idp-issuer-url",
    "client-id",
    "client-secret",
    "idp-certificate-authority",
    "idp-certificate-authority-data",
    "id-token",
    "refresh-token",
]

# Strings that hit interesting branches: URLs with and without schemes, paths that
# exist or are devices, base64, control characters, NUL, IDNA trouble, newlines.
INTERESTING = st.sampled_from(
    [
        "",
        "https://127.0.0.1:6443",
        "127.0.0.1:6443",
        "h:6443/p",
        "http://h",
        "ftp://h",
        "https://h:99999",
        "https://a\u200b.b",
        "https://x\x1by",
        "/dev/zero",
        "/dev/null",
        "/etc/hostname",
        ".",
        "a\0b",
        "bGlnaHQ=",
        "!!!",
        "a\nb",
        "A=B",
        "client.authentication.k8s.io/v1",
        "client.authentication.k8s.io/v1beta1",
        "Never",
        "Always",
        "oidc",
        "gcp",
        "x.y.z",
    ]
)
TEXT = st.one_of(INTERESTING, st.text(max_size=30))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
ANY_VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)


def body(
    keys: list[str], nested: dict[str, st.SearchStrategy[Any]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    values = {key: (nested or {}).get(key, ANY_VALUE) for key in keys}
    return st.fixed_dictionaries({}, optional=values)


EXEC = body(
    EXEC_KEYS,
    {
        "env": st.lists(st.dictionaries(st.sampled_from(["name", "value"]), TEXT), max_size=2),
        "args": st.lists(TEXT, max_size=2),
    },
)
AUTH_PROVIDER = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(INTERESTING, ANY_VALUE),
        "config": st.one_of(body(OIDC_KEYS), ANY_VALUE),
    },
)
USER = body(USER_KEYS, {"exec": st.one_of(EXEC, ANY_VALUE), "auth-provider": AUTH_PROVIDER})
CLUSTER = body(CLUSTER_KEYS)
NAMES = st.sampled_from(["a", "b", ""])


def named(key: str, inner: st.SearchStrategy[Any]) -> st.SearchStrategy[list[dict[str, Any]]]:
    item = st.fixed_dictionaries({"name": st.one_of(NAMES, ANY_VALUE)}, optional={key: inner})
    return st.lists(item, max_size=3)


CONTEXT = st.fixed_dictionaries(
    {},
    optional={
        "cluster": st.one_of(NAMES, ANY_VALUE),
        "user": st.one_of(NAMES, ANY_VALUE),
        "namespace": TEXT,
    },
)
DOCUMENT = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.one_of(st.just("v1"), ANY_VALUE),
        "kind": st.one_of(st.just("Config"), ANY_VALUE),
        "clusters": st.one_of(named("cluster", CLUSTER), ANY_VALUE),
        "users": st.one_of(named("user", USER), ANY_VALUE),
        "contexts": st.one_of(named("context", CONTEXT), ANY_VALUE),
        "current-context": st.one_of(NAMES, ANY_VALUE),
    },
)

VALID = """\
apiVersion: v1
kind: Config
current-context: c
clusters:
- name: k
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user:
    token: t0k
    as: someone
    as-groups: [g1, g2]
    exec: {apiVersion: client.authentication.k8s.io/v1, command: plug, interactiveMode: Never}
contexts:
- name: c
  context: {cluster: k, user: u, namespace: n, extensions: &e [{name: x, extension: 1}]}
extensions: *e
"""

YAMLISH = st.text(
    alphabet=st.sampled_from(
        [*"abc:-[]{}&*!|>'\"#,\n \t\\0=?%@`", "\x00", "\x1b", "é", "\ufeff"]
    ),
    max_size=120,
)


def check(text: str) -> None:
    """The property: loading and resolving every context ends in a result or ConfigError."""
    try:
        config = Kubeconfig.from_text(text, file="fuzz.kubeconfig")
    except ConfigError:
        return
    for context in [None, *config.contexts]:
        try:
            result = config.client_config(context=context)
        except ConfigError as exc:
            assert exc.file in (None, "fuzz.kubeconfig") or isinstance(exc.file, str)
            continue
        assert isinstance(result, ClientConfig)


@FUZZ
@given(DOCUMENT)
def test_kubeconfig_shaped_documents(document: dict[str, Any]) -> None:
    check(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(YAMLISH)
def test_yaml_like_text(text: str) -> None:
    check(text)


@FUZZ
@given(st.integers(0, len(VALID)), st.integers(0, 20), YAMLISH)
def test_mutated_valid_kubeconfig(position: int, cut: int, insert: str) -> None:
    check(VALID[:position] + insert + VALID[position + cut :])
