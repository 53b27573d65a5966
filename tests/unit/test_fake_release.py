"""The fake's one reading of ``PackageApi.kubernetes_version`` (fake/release.py) and its
rule for a version it cannot read: the newest release, in every gate that asks."""

from __future__ import annotations

import dataclasses

import pytest

from kubecodegen_runtime.fake import FakeServer
from kubecodegen_runtime.fake.derived import derived
from kubecodegen_runtime.fake.patch._common import version_at_least
from kubecodegen_runtime.fake.release import NEWEST, at_least, release
from kubecodegen_runtime.rest.request import raw
from kubecodegen_runtime.rest.response import Response
from tests.unit.fake_core_support import body, kube_api, send


@pytest.mark.parametrize(("text", "expected"), [
    ("v1.20.0", (1, 20)), ("1.35", (1, 35)), ("v1.20.15+k3s1", (1, 20)),
    ("v1.27.3-gke.100", (1, 27)), (" v1.36.0 ", (1, 36)), ("v2.0.0", (2, 0)),
])
def test_known_versions_read_major_and_minor(text: str, expected: tuple[int, int]) -> None:
    assert release(text) == expected


@pytest.mark.parametrize("text", ["", "v", "latest", "v1", "vX.Y", "1-20"])
def test_unreadable_version_is_the_newest(text: str) -> None:
    assert release(text) == NEWEST
    assert at_least(text, (1, 36)) and at_least(text, (1, 99))


def test_gates_order_known_versions() -> None:
    assert at_least("v1.21.0", (1, 21)) and not at_least("v1.20.9", (1, 21))
    assert version_at_least("v1.25.0", 25) and not version_at_least("v1.24.3", 25)


@pytest.mark.parametrize("text", ["", "unknown"])
def test_every_gate_takes_an_unreadable_version_as_newest(text: str) -> None:
    api = dataclasses.replace(kube_api(), kubernetes_version=text)
    assert derived(api).version == NEWEST
    assert version_at_least(text, 28)
    srv = FakeServer(api)
    # tracker: namespaces get their name label (1.21+)
    ns = body(send(srv, "GET", "/api/v1/namespaces/default"))
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "default"}
    # dispatch: watch-list options are those of 1.27+ (1.20 forbids resourceVersionMatch)
    assert "requires setting resourceVersionMatch" in _watch_list_refusal(srv, ())


def test_a_1_20_package_keeps_its_gates() -> None:
    srv = FakeServer(kube_api())
    ns = body(send(srv, "GET", "/api/v1/namespaces/default"))
    assert "kubernetes.io/metadata.name" not in ns["metadata"].get("labels", {})
    assert "resourceVersionMatch is forbidden for watch" in _watch_list_refusal(
        srv, (("resourceVersionMatch", "NotOlderThan"),))


def _watch_list_refusal(srv: FakeServer, more: tuple[tuple[str, str], ...]) -> str:
    """The message of the 422 a watch with ``sendInitialEvents`` (and ``more``) gets."""
    req = raw("GET", "/api/v1/namespaces/default/configmaps",
              params=(("watch", "true"), ("sendInitialEvents", "true"), *more))
    resp = srv.open_watch(req)
    assert isinstance(resp, Response) and resp.status_code == 422
    message: str = body(resp)["message"]
    return message
