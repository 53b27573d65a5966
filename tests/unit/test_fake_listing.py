"""Lists on the fake server: selectors, the field-label table, pages and continue tokens."""

from __future__ import annotations

import pytest

from kubecodegen_runtime.fake import quirks
from kubecodegen_runtime.fake.listing import decode_continue, encode_continue

from .fake_core_support import CMS, body, cm, send, server

PODS = "/api/v1/namespaces/default/pods"


def names(resp: object) -> list[str]:
    return [i["metadata"]["name"] for i in body(resp)["items"]]  # type: ignore[arg-type]


def filled(n: int = 5):  # type: ignore[no-untyped-def]
    srv = server()
    for i in range(n):
        send(srv, "POST", CMS, cm(f"c{i}", labels={"i": str(i), "even": str(i % 2 == 0).lower()}))
    return srv


def test_list_shape() -> None:
    srv = filled(2)
    got = body(send(srv, "GET", CMS))
    assert (got["kind"], got["apiVersion"]) == ("ConfigMapList", "v1")
    assert got["metadata"] == {"resourceVersion": srv.tracker.resource_version}
    assert "kind" not in got["items"][0] and "apiVersion" not in got["items"][0]


def test_custom_resource_list_items_keep_their_type_meta() -> None:
    srv = server()
    send(srv, "POST", "/apis/example.com/v1/namespaces/default/widgets",
         {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    item = body(send(srv, "GET", "/apis/example.com/v1/widgets"))["items"][0]
    assert (item["apiVersion"], item["kind"]) == ("example.com/v1", "Widget")


def test_order_is_etcd_key_order() -> None:
    srv = server()
    for ns in ("a-b", "a"):
        send(srv, "POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        send(srv, "POST", f"/api/v1/namespaces/{ns}/configmaps", cm("x"))
    items = body(send(srv, "GET", "/api/v1/configmaps"))["items"]
    # "a-b/x" sorts before "a/x" bytewise ('-' < '/'), as etcd keys do
    assert [i["metadata"]["namespace"] for i in items] == ["a-b", "a"]


def test_label_selectors() -> None:
    srv = filled()
    assert names(send(srv, "GET", CMS, params=(("labelSelector", "even=true"),))) == ["c0", "c2", "c4"]
    assert names(send(srv, "GET", CMS, params=(("labelSelector", "i in (1,3),even!=true"),))) == ["c1", "c3"]
    bad = send(srv, "GET", CMS, params=(("labelSelector", "a b"),))
    assert bad.status_code == 400 and body(bad)["message"].startswith("unable to parse requirement")


def test_field_selectors_and_the_label_table() -> None:
    srv = filled(3)
    assert names(send(srv, "GET", CMS, params=(("fieldSelector", "metadata.name!=c1"),))) == ["c0", "c2"]
    send(srv, "POST", PODS, {"metadata": {"name": "p1"}, "spec": {"nodeName": "n1"}})
    send(srv, "POST", PODS, {"metadata": {"name": "p2"}})
    assert names(send(srv, "GET", PODS, params=(("fieldSelector", "spec.nodeName=n1"),))) == ["p1"]
    assert names(send(srv, "GET", PODS, params=(("fieldSelector", "spec.nodeName="),))) == ["p2"]
    unknown = body(send(srv, "GET", CMS, params=(("fieldSelector", "spec.foo=bar"),)))
    assert unknown["message"] == '"spec.foo" is not a known field selector: only "metadata.name", ' \
                                 '"metadata.namespace"'
    pods = body(send(srv, "GET", PODS, params=(("fieldSelector", "spec.foo=bar"),)))
    assert pods["message"] == "field label not supported: spec.foo"


def test_field_label_paths() -> None:
    srv = server()
    send(srv, "POST", "/api/v1/namespaces/default/events",
         {"metadata": {"name": "e"}, "source": {"component": "kubelet"}, "involvedObject": {"kind": "Pod"}})
    got = send(srv, "GET", "/api/v1/namespaces/default/events",
               params=(("fieldSelector", "source=kubelet,involvedObject.kind=Pod"),))
    assert names(got) == ["e"]


def test_every_field_label_table_entry_names_a_served_resource() -> None:
    from .fake_core_support import kube_api

    served = {(r.group, r.resource) for r in kube_api().resources}
    assert set(quirks.FIELD_LABELS) <= served | {("extensions", "replicasets")}
    for resource, labels in quirks.FIELD_LABELS.items():
        assert quirks.field_labels(*resource, custom=False)[:2] == quirks.METADATA_FIELDS
        assert len(set(labels)) == len(labels)


def test_pages_are_a_snapshot_with_remaining_counts() -> None:
    srv = filled(5)
    first = body(send(srv, "GET", CMS, params=(("limit", "2"),)))
    assert [i["metadata"]["name"] for i in first["items"]] == ["c0", "c1"]
    assert first["metadata"]["remainingItemCount"] == 3
    send(srv, "DELETE", f"{CMS}/c3")
    send(srv, "POST", CMS, cm("c9"))
    rest = body(send(srv, "GET", CMS, params=(("limit", "2"), ("continue", first["metadata"]["continue"]))))
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c2", "c3"]
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    last = body(send(srv, "GET", CMS, params=(("limit", "2"), ("continue", rest["metadata"]["continue"]))))
    assert [i["metadata"]["name"] for i in last["items"]] == ["c4"]
    assert "continue" not in last["metadata"] and "remainingItemCount" not in last["metadata"]


def test_selected_pages_have_no_remaining_count() -> None:
    srv = filled(5)
    page = body(send(srv, "GET", CMS, params=(("limit", "1"), ("labelSelector", "even=true"))))
    assert page["metadata"]["continue"] and "remainingItemCount" not in page["metadata"]


def test_continue_tokens_expire_with_compaction() -> None:
    srv = filled(3)
    token = body(send(srv, "GET", CMS, params=(("limit", "1"),)))["metadata"]["continue"]
    send(srv, "POST", CMS, cm("later"))
    srv.tracker.compact()
    expired = send(srv, "GET", CMS, params=(("continue", token),))
    assert expired.status_code == 410 and body(expired)["reason"] == "Expired"
    assert body(expired)["message"].startswith("The provided continue parameter is too old")


def test_bad_tokens_and_options() -> None:
    srv = filled(2)
    assert send(srv, "GET", CMS, params=(("continue", "!!"),)).status_code == 400
    token = body(send(srv, "GET", CMS, params=(("limit", "1"),)))["metadata"]["continue"]
    both = send(srv, "GET", CMS, params=(("continue", token), ("resourceVersion", "5")))
    assert body(both)["message"] == "specifying resource version is not allowed when using continue"


def test_tokens_round_trip() -> None:
    token = encode_continue(42, "ns/name\x00", 7)
    assert decode_continue(token) == (42, "ns/name\x00", 7)


def test_resource_version_zero_ignores_limit_and_too_large_times_out() -> None:
    srv = filled(3)
    got = body(send(srv, "GET", CMS, params=(("limit", "1"), ("resourceVersion", "0"))))
    assert len(got["items"]) == 3 and "continue" not in got["metadata"]
    late = send(srv, "GET", CMS, params=(("resourceVersion", "999999"),))
    status = body(late)
    assert late.status_code == 504 and status["message"].startswith("Timeout: Too large resource version")
    assert status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"


@pytest.mark.parametrize("selector", ["labelSelector", "fieldSelector"])
def test_delete_collection_uses_selectors(selector: str) -> None:
    srv = filled(4)
    value = "even=true" if selector == "labelSelector" else "metadata.name=c1"
    deleted = body(send(srv, "DELETE", CMS, params=((selector, value),)))
    assert deleted["kind"] == "ConfigMapList"
    gone = {i["metadata"]["name"] for i in deleted["items"]}
    assert set(names(send(srv, "GET", CMS))) == {"c0", "c1", "c2", "c3"} - gone


def test_lists_in_the_past() -> None:
    srv = filled(2)
    then = body(send(srv, "GET", CMS))["metadata"]["resourceVersion"]
    send(srv, "DELETE", f"{CMS}/c0")
    send(srv, "PATCH", f"{CMS}/c1", {"data": {"k": "new"}}, content_type="application/merge-patch+json")
    send(srv, "POST", CMS, cm("c2"))
    exact = (("resourceVersion", then), ("resourceVersionMatch", "Exact"))
    past = body(send(srv, "GET", CMS, params=exact))
    assert [i["metadata"]["name"] for i in past["items"]] == ["c0", "c1"]
    assert past["items"][1]["data"] == {"k": "v"} and past["metadata"]["resourceVersion"] == then
    page = body(send(srv, "GET", CMS, params=(*exact, ("limit", "1"))))
    assert page["metadata"]["remainingItemCount"] == 1
    rest = body(send(srv, "GET", CMS, params=(("continue", page["metadata"]["continue"]),)))
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c1"]
    srv.tracker.compact()
    gone = send(srv, "GET", CMS, params=exact)
    assert (gone.status_code, body(gone)["message"]) == \
        (410, "The resourceVersion for the provided list is too old.")


@pytest.mark.parametrize(("params", "message"), [
    ((("resourceVersionMatch", "Exact"),),
     "resourceVersionMatch is forbidden unless resourceVersion is provided"),
    ((("resourceVersionMatch", "Exact"), ("resourceVersion", "0")),
     'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
])
def test_list_options_are_validated(params: tuple[tuple[str, str], ...], message: str) -> None:
    status = body(send(filled(1), "GET", CMS, params=params))
    assert status["code"] == 422
    assert status["details"]["causes"] == [{"reason": "FieldValueForbidden", "field": "resourceVersionMatch",
                                            "message": f"Forbidden: {message}"}]
