"""The client's per-type and per-text memos answer exactly what the computation they
skip would (request segments, decode plans, decode functions, discovery documents)."""

from __future__ import annotations

import msgspec
import pytest

from kubecodegen_runtime import codec, discovery
from kubecodegen_runtime.apis.meta_v1 import Status
from kubecodegen_runtime.client import ops
from kubecodegen_runtime.rest import request as rq

SEGMENTS = ["default", "kube-system", "a.b", "a b", "ü", "x~y", "é", "a:b", "%", "a/b", ".", "..", ""]


def _outcome(check: object, value: str) -> object:
    try:
        return check(value, "name")  # type: ignore[operator]
    except ValueError as exc:
        return (type(exc), str(exc))


@pytest.mark.parametrize("value", SEGMENTS)
def test_check_segment_memo_matches_the_check(value: str) -> None:
    slow = _outcome(rq._check_segment, value)
    assert _outcome(rq.check_segment, value) == slow  # fills the memo
    assert _outcome(rq.check_segment, value) == slow  # answered from it


def test_check_segment_refusals_are_never_remembered() -> None:
    with pytest.raises(ValueError):
        rq.check_segment("a/b", "name")
    assert "a/b" not in rq._CHECKED
    with pytest.raises(ValueError, match="namespace"):
        rq.check_segment("a/b", "namespace")  # the refusal still words its own ``what``


@pytest.mark.parametrize("tp", [Status, ops.page_type(Status), msgspec.Raw])
def test_decode_plan_is_what_it_memoizes(tp: object) -> None:
    plan = ops._plan(tp)
    assert plan.name == ops.type_name(tp)
    assert (plan.api_version, plan.kind) == ops.expected_type_meta(tp)
    assert ops._plan(tp) is plan


def test_decode_function_is_decode() -> None:
    good = b'{"kind": "Status", "apiVersion": "v1", "code": 404}'
    fn = codec.decode_function(Status)
    assert fn(good) == codec.decode(good, Status)
    bad = b'{"kind": "Status", "code": "x"}'
    with pytest.raises(codec.DecodeError) as slow:
        codec.decode(bad, Status)
    with pytest.raises(codec.DecodeError) as fast:
        fn(bad)
    assert (str(fast.value), fast.value.path) == (str(slow.value), slow.value.path)


def test_parse_resources_memo_returns_equal_fresh_lists() -> None:
    body = (b'{"groupVersion": "apps/v1", "resources": ['
            b'{"name": "deployments", "namespaced": true, "kind": "Deployment", "verbs": ["get"]},'
            b'{"name": "deployments/scale", "namespaced": true, "kind": "Scale", "verbs": ["get"]}]}')
    first = discovery.parse_resources("apps/v1", body)
    again = discovery.parse_resources("apps/v1", body)
    assert first == again == discovery._parse_resources("apps/v1", body)
    assert first is not again  # a caller's list is its own
    assert discovery.parse_resources("apps/v2", body)[0].info.version == "v2"
    with pytest.raises(Exception) as slow:
        discovery._parse_resources("apps/v1", b"{")
    for _ in range(2):
        with pytest.raises(type(slow.value)):
            discovery.parse_resources("apps/v1", b"{")


def test_request_builders_without_options_send_no_query() -> None:
    from kubecodegen_runtime.meta import ResourceInfo
    from kubecodegen_runtime.rest.options import PatchType

    info = ResourceInfo(group="", version="v1", resource="configmaps", kind="ConfigMap",
                        namespaced=True)
    assert rq.list_(info, namespace="ns") == rq.Request("GET", "/api/v1/namespaces/ns/configmaps")
    assert rq.list_(info, limit=0).params == (("limit", "0"),)
    assert rq.get(info, "a", namespace="ns").params == ()
    assert rq.create(info, b"{}", namespace="ns").params == ()
    assert rq.create(info, b"{}", namespace="ns", dry_run=True).params == (("dryRun", "All"),)
    assert rq.patch(info, "a", b"{}", PatchType.MERGE, namespace="ns").params == ()
    assert rq.patch(info, "a", b"{}", PatchType.APPLY, namespace="ns", field_manager="m",
                    force=False).params == (("fieldManager", "m"), ("force", "false"))
