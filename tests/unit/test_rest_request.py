"""Request building: every verb's method, path, query, body and content type."""

from __future__ import annotations

import json

import pytest

from kubecodegen_runtime.meta import ResourceInfo
from kubecodegen_runtime.rest import request as rq
from kubecodegen_runtime.rest.options import (
    QUERY_NAMES,
    PatchType,
    Preconditions,
    options,
    patch_type,
)

CM = ResourceInfo(group="", version="v1", resource="configmaps", kind="ConfigMap", namespaced=True)
DEPLOY = ResourceInfo(group="apps", version="v1", resource="deployments", kind="Deployment",
                      namespaced=True)
NODE = ResourceInfo(group="", version="v1", resource="nodes", kind="Node", namespaced=False)


def test_get_paths_for_core_group_and_named_group() -> None:
    assert rq.get(CM, "a", namespace="ns").path == "/api/v1/namespaces/ns/configmaps/a"
    assert rq.get(DEPLOY, "web", namespace="ns", subresource="scale").path == (
        "/apis/apps/v1/namespaces/ns/deployments/web/scale"
    )
    assert rq.get(NODE, "n1").path == "/api/v1/nodes/n1"
    req = rq.get(CM, "a", namespace="ns", resource_version="42")
    assert req.method == "GET" and req.params == (("resourceVersion", "42"),)
    assert req.body is None and req.content_type is None and not req.stream


def test_list_options_map_to_query_names_in_call_order() -> None:
    req = rq.list_(
        CM, namespace="ns", label_selector="app=web,tier in (a,b)", field_selector="metadata.name=x",
        limit=10, continue_="tok", resource_version="0", resource_version_match="NotOlderThan",
        timeout_seconds=5,
    )
    assert req.path == "/api/v1/namespaces/ns/configmaps"
    assert req.params == (
        ("labelSelector", "app=web,tier in (a,b)"),
        ("fieldSelector", "metadata.name=x"),
        ("limit", "10"),
        ("continue", "tok"),
        ("resourceVersion", "0"),
        ("resourceVersionMatch", "NotOlderThan"),
        ("timeoutSeconds", "5"),
    )


def test_list_across_namespaces_has_no_namespace_segment() -> None:
    assert rq.list_(CM).path == "/api/v1/configmaps"


def test_unset_options_are_not_sent() -> None:
    assert rq.list_(CM, namespace="ns").params == ()
    assert rq.create(CM, b"{}", namespace="ns").params == ()


def test_watch_is_a_streaming_get_with_bookmarks_only_when_asked() -> None:
    req = rq.watch(CM, namespace="ns", resource_version="7", allow_watch_bookmarks=True,
                   timeout_seconds=30)
    assert req.stream and req.method == "GET"
    assert req.params == (("watch", "true"), ("resourceVersion", "7"), ("timeoutSeconds", "30"),
                          ("allowWatchBookmarks", "true"))
    assert ("allowWatchBookmarks", "true") not in rq.watch(CM, namespace="ns").params


def test_create_update_carry_json_body_and_write_options() -> None:
    req = rq.create(CM, b'{"a":1}', namespace="ns", dry_run=True, field_manager="me",
                    field_validation="Strict")
    assert (req.method, req.content_type, req.body) == ("POST", "application/json", b'{"a":1}')
    assert req.params == (("dryRun", "All"), ("fieldManager", "me"), ("fieldValidation", "Strict"))
    up = rq.update(CM, "a", b"{}", namespace="ns", subresource="status")
    assert (up.method, up.path) == ("PUT", "/api/v1/namespaces/ns/configmaps/a/status")


def test_subresource_create_posts_to_the_object() -> None:
    req = rq.create(CM, b"{}", namespace="ns", name="p", subresource="eviction")
    assert req.path == "/api/v1/namespaces/ns/configmaps/p/eviction"


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [
        (PatchType.JSON, "application/json-patch+json"),
        (PatchType.MERGE, "application/merge-patch+json"),
        (PatchType.STRATEGIC, "application/strategic-merge-patch+json"),
        (PatchType.APPLY, "application/apply-patch+yaml"),
    ],
)
def test_patch_content_types(kind: PatchType, content_type: str) -> None:
    req = rq.patch(CM, "a", b"{}", kind, namespace="ns", field_manager="m")
    assert (req.method, req.content_type) == ("PATCH", content_type)


def test_patch_type_names() -> None:
    assert patch_type("merge") is PatchType.MERGE
    assert patch_type("application/json-patch+json") is PatchType.JSON
    with pytest.raises(ValueError, match="unknown patch type 'yaml'"):
        patch_type("yaml")


def test_apply_requires_field_manager_and_sends_force() -> None:
    req = rq.apply(DEPLOY, "web", b"{}", namespace="ns", field_manager="me", force=True)
    assert req.content_type == "application/apply-patch+yaml"
    assert req.params == (("fieldManager", "me"), ("force", "true"))
    assert ("force", "true") not in rq.apply(DEPLOY, "web", b"{}", namespace="ns",
                                             field_manager="me").params
    with pytest.raises(ValueError, match="field_manager"):
        rq.apply(DEPLOY, "web", b"{}", namespace="ns", field_manager="")
    with pytest.raises(ValueError, match="force is only allowed with apply"):
        rq.patch(DEPLOY, "web", b"{}", PatchType.MERGE, namespace="ns", force=True)


def test_delete_options_travel_in_the_body() -> None:
    req = rq.delete(CM, "a", namespace="ns", propagation_policy="Foreground",
                    grace_period_seconds=0,
                    preconditions=Preconditions(uid="u-1", resource_version="9"), dry_run=True)
    assert req.method == "DELETE" and req.content_type == "application/json"
    assert req.params == (("dryRun", "All"),)
    assert req.body is not None
    assert json.loads(req.body) == {
        "kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground",
        "gracePeriodSeconds": 0, "preconditions": {"uid": "u-1", "resourceVersion": "9"},
        "dryRun": ["All"],
    }
    plain = rq.delete(CM, "a", namespace="ns")
    assert plain.body is None and plain.content_type is None
    with pytest.raises(ValueError, match="grace_period_seconds"):
        rq.delete(CM, "a", namespace="ns", grace_period_seconds=-1)


def test_delete_collection_has_selectors_in_query_and_options_in_body() -> None:
    req = rq.delete_collection(CM, namespace="ns", label_selector="app=x",
                               propagation_policy="Background")
    assert req.path == "/api/v1/namespaces/ns/configmaps"
    assert req.params == (("labelSelector", "app=x"),)
    assert req.body is not None and json.loads(req.body)["propagationPolicy"] == "Background"


def test_log_request() -> None:
    pods = ResourceInfo("", "v1", "pods", "Pod", True)
    req = rq.log(pods, "p", namespace="ns", container="c", follow=True, tail_lines=5)
    assert req.path == "/api/v1/namespaces/ns/pods/p/log" and req.stream
    assert req.params == (("container", "c"), ("follow", "true"), ("tailLines", "5"))
    assert not rq.log(pods, "p", namespace="ns").stream


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a%2Fb"])
def test_bad_names_are_rejected_with_the_offending_value(bad: str) -> None:
    with pytest.raises(ValueError, match="name"):
        rq.get(CM, bad, namespace="ns")
    with pytest.raises(ValueError, match="namespace"):
        rq.get(CM, "ok", namespace=bad)


def test_names_are_percent_escaped() -> None:
    assert rq.get(CM, "a b?#", namespace="ns").path == "/api/v1/namespaces/ns/configmaps/a%20b%3F%23"


def test_scope_mismatches_are_rejected() -> None:
    with pytest.raises(ValueError, match="namespaced"):
        rq.get(CM, "a")
    with pytest.raises(ValueError, match="cluster-scoped"):
        rq.get(NODE, "n", namespace="ns")


def test_option_table_and_validation() -> None:
    assert options(dry_run=False, limit=None) == ()
    assert options(dry_run=True) == (("dryRun", "All"),)
    assert options(allow_watch_bookmarks=False) == (("allowWatchBookmarks", "false"),)
    with pytest.raises(ValueError, match="limit must be a non-negative integer"):
        options(limit=-1)
    with pytest.raises(ValueError, match="limit"):
        options(limit=True)
    with pytest.raises(KeyError, match="pretty"):
        options(pretty=True)
    assert "pretty" not in QUERY_NAMES


def test_raw_paths_must_be_absolute() -> None:
    assert rq.raw("get", "/version").method == "GET"
    with pytest.raises(ValueError, match="absolute"):
        rq.raw("GET", "version")
