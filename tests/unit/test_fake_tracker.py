"""The fake server's write semantics, as kube-apiserver 1.20 has them (checked against it).

Requests go through :meth:`FakeServer.handle` (sans-IO), so each test sees the status code
and the JSON body a client would.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest

from kubecodegen_runtime.fake import FakeServer, ObjectTracker
from kubecodegen_runtime.fake.objmeta import SUFFIX_ALPHABET

from .fake_core_support import CMS, body, cm, kube_api, send, server

WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


def widget(name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name},
            "spec": {"size": 1}, **extra}


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}}},
            "status": {"replicas": 5}}


def meta(resp: Any) -> dict[str, Any]:
    result: dict[str, Any] = body(resp)["metadata"]
    return result


# --- create ----------------------------------------------------------------------------


def test_fresh_cluster_has_the_initial_namespaces() -> None:
    names = [n["metadata"]["name"] for n in body(send(server(), "GET", "/api/v1/namespaces"))["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    ns = body(send(server(), "GET", "/api/v1/namespaces/default"))
    assert ns["spec"] == {"finalizers": ["kubernetes"]} and ns["status"] == {"phase": "Active"}


@pytest.mark.parametrize("version", ["kube_v1_20", "kube_v1_35"])
def test_initial_namespaces_are_what_the_create_path_makes(version: str) -> None:
    """A fresh tracker's namespaces come from JSON made once per PackageApi: each is what
    ``_create_initial_namespace`` (the create path) makes, committed at 101..104 with an
    ADDED event, and has its own uid (two trackers share no object)."""
    api = kube_api(version)
    first, second = ObjectTracker(api), ObjectTracker(api)
    info = first.info("", "v1", "namespaces")
    assert info is not None
    uids = set()
    for tracker in (first, second):
        stored = tracker.items(info)
        assert [s.rv for s in stored] == [101, 102, 103, 104]
        for entry in stored:
            name = entry.obj["metadata"]["name"]
            expected = tracker._create_initial_namespace(info, name)
            expected["metadata"]["uid"] = entry.obj["metadata"]["uid"]
            expected["metadata"]["creationTimestamp"] = entry.obj["metadata"]["creationTimestamp"]
            expected["metadata"]["resourceVersion"] = str(entry.rv)
            assert entry.raw == json.dumps(expected, separators=(",", ":")).encode()
            assert entry.obj == expected
            uids.add(expected["metadata"]["uid"])
        log = tracker.events._logs[("", "namespaces")]
        assert [(e.type, e.rv, e.old) for e in log.events] == \
            [("ADDED", rv, None) for rv in (101, 102, 103, 104)]
        assert [e.new for e in log.events] == [s.obj for s in stored]
    assert len(uids) == 8
    assert first.items(info)[0].obj["metadata"] is not second.items(info)[0].obj["metadata"]


def test_create_sets_server_fields() -> None:
    srv = server()
    before = int(srv.tracker.resource_version)
    resp = send(srv, "POST", CMS, cm("a"))
    assert resp.status_code == 201
    got = meta(resp)
    assert got["namespace"] == "default" and int(got["resourceVersion"]) == before + 1
    assert re.fullmatch(r"[0-9a-f-]{36}", got["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got["creationTimestamp"])
    assert "generation" not in got  # configmaps track none
    assert got["managedFields"][0]["manager"] == "tester"  # the User-Agent's first segment
    assert srv.tracker.resource_version == got["resourceVersion"]


def test_write_answers_are_the_stored_bytes_and_callers_get_plain_dicts() -> None:
    """The server sends a write's answer as the stored JSON (no second encoding): byte for
    byte what a GET of the object then sends. The tracker's own callers still get plain
    dicts, and a version other than the stored one is presented, not passed through."""
    srv = server()
    created = send(srv, "POST", CMS, cm("a", labels={"x": "1"}))
    assert created.body == send(srv, "GET", f"{CMS}/a").body
    patched = send(srv, "PATCH", f"{CMS}/a", {"data": {"k": "v"}},
                   content_type="application/merge-patch+json")
    assert patched.body == send(srv, "GET", f"{CMS}/a").body
    assert body(patched)["data"] == {"k": "v"}
    replaced = send(srv, "PUT", f"{CMS}/a", {**body(patched), "data": {"k": "w"}})
    assert replaced.body == send(srv, "GET", f"{CMS}/a").body
    info = srv.tracker.info("", "v1", "configmaps")
    assert info is not None
    assert type(srv.tracker.create(info, cm("b"), namespace="default")) is dict
    assert type(srv.tracker.update(info, srv.tracker.get(info, "b", "default"),
                                   namespace="default")[0]) is dict
    assert type(srv.tracker.mutate(info, "b", lambda o: o, namespace="default")) is dict
    assert type(srv.tracker.delete(info, "b", namespace="default")[0]) is dict
    # one object served in two versions: a write through the other one answers in it
    # (a delete that only marks the object keeps the stored version's document)
    hpas = "/apis/autoscaling/{}/namespaces/default/horizontalpodautoscalers"
    hpa = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "h", "finalizers": ["example.com/keep"]},
           "spec": {"maxReplicas": 2, "scaleTargetRef": {
               "kind": "Deployment", "name": "d", "apiVersion": "apps/v1"}}}
    assert send(srv, "POST", hpas.format("v1"), hpa).status_code == 201
    marked = send(srv, "DELETE", hpas.format("v2beta2") + "/h")
    assert marked.status_code == 200, marked.body
    assert body(marked)["apiVersion"] == "autoscaling/v2beta2"
    assert body(marked)["metadata"]["deletionTimestamp"]


def test_generate_name() -> None:
    srv = server()
    name = meta(send(srv, "POST", CMS, {"metadata": {"generateName": "x-"}}))["name"]
    assert name.startswith("x-") and len(name) == 7
    assert all(c in SUFFIX_ALPHABET for c in name[2:])
    long = meta(send(srv, "POST", CMS, {"metadata": {"generateName": "a" * 70}}))["name"]
    assert long == "a" * 58 + long[58:] and len(long) == 63


def test_invalid_names_and_labels_are_422_with_causes() -> None:
    srv = server()
    resp = send(srv, "POST", CMS, cm("Bad_Name"))
    status = body(resp)
    assert resp.status_code == 422 and status["reason"] == "Invalid"
    assert status["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid '
                                        'value: "Bad_Name": a lowercase RFC 1123 subdomain')
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    missing = body(send(srv, "POST", CMS, {"metadata": {}}))
    assert missing["details"]["causes"] == [{"reason": "FieldValueRequired", "field": "metadata.name",
                                             "message": "Required value: name or generateName is required"}]
    labels = body(send(srv, "POST", CMS, cm("a", labels={"bad key": "v v"})))
    assert [c["message"].split(":")[1].strip() for c in labels["details"]["causes"]] == \
        ['"bad key"', '"v v"']
    deploy = body(send(srv, "POST", DEPLOYMENTS, deployment("a.b")))  # a DNS label name
    assert deploy["message"].startswith('Deployment.apps "a.b" is invalid')


def test_already_exists_and_namespace_checks() -> None:
    srv = server()
    send(srv, "POST", CMS, cm("a"))
    dup = send(srv, "POST", CMS, cm("a"))
    assert (dup.status_code, body(dup)["reason"], body(dup)["message"]) == \
        (409, "AlreadyExists", 'configmaps "a" already exists')
    other = send(srv, "POST", CMS, cm("b", ns="other"))
    assert other.status_code == 400 and "does not match the namespace" in body(other)["message"]
    missing = send(srv, "POST", "/api/v1/namespaces/nope/configmaps", cm("a"))
    assert (missing.status_code, body(missing)["message"]) == (404, 'namespaces "nope" not found')


def test_terminating_namespace_refuses_new_content() -> None:
    srv = server()
    send(srv, "POST", "/api/v1/namespaces", {"metadata": {"name": "doomed"}})
    gone = body(send(srv, "DELETE", "/api/v1/namespaces/doomed"))
    assert gone["status"]["phase"] == "Terminating" and "deletionGracePeriodSeconds" not in gone["metadata"]
    assert send(srv, "GET", "/api/v1/namespaces/doomed").status_code == 200  # no namespace controller
    resp = send(srv, "POST", "/api/v1/namespaces/doomed/configmaps", cm("late"))
    status = body(resp)
    assert resp.status_code == 403 and status["message"] == (
        'configmaps "late" is forbidden: unable to create new content in namespace doomed because '
        "it is being terminated")
    assert status["details"]["causes"][0]["reason"] == "NamespaceTerminating"


def test_dry_run_create_stores_nothing() -> None:
    srv = server()
    rv = srv.tracker.resource_version
    resp = send(srv, "POST", CMS, cm("a"), params=(("dryRun", "All"),))
    assert resp.status_code == 201 and "resourceVersion" not in meta(resp) and meta(resp)["uid"]
    assert srv.tracker.resource_version == rv
    assert send(srv, "GET", f"{CMS}/a").status_code == 404


def test_status_is_dropped_on_create() -> None:
    srv = server()
    assert body(send(srv, "POST", DEPLOYMENTS, deployment("d")))["status"] == {}
    assert "status" not in body(send(srv, "POST", WIDGETS, widget("w", status={"size": 3})))


def test_seeded_objects_keep_their_status_and_create_their_namespace() -> None:
    srv = server({**deployment("d"), "metadata": {"name": "d", "namespace": "seeded"}})
    assert body(send(srv, "GET", "/apis/apps/v1/namespaces/seeded/deployments/d"))["status"] == {"replicas": 5}
    assert send(srv, "GET", "/api/v1/namespaces/seeded").status_code == 200


def test_typed_seed_objects() -> None:
    core = pytest.importorskip("kube_v1_20.models.core_v1")
    meta_v1 = pytest.importorskip("kube_v1_20.models.meta_v1")
    srv = server(core.ConfigMap(metadata=meta_v1.ObjectMeta(name="typed"), data={"a": "b"}))
    got = body(send(srv, "GET", f"{CMS}/typed"))
    assert (got["apiVersion"], got["kind"], got["data"]) == ("v1", "ConfigMap", {"a": "b"})


# --- update ----------------------------------------------------------------------------


def test_update_optimistic_concurrency() -> None:
    srv = server()
    created = body(send(srv, "POST", CMS, cm("a")))
    created["data"] = {"k": "2"}
    ok = send(srv, "PUT", f"{CMS}/a", created)
    assert ok.status_code == 200 and int(meta(ok)["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    stale = body(send(srv, "PUT", f"{CMS}/a", created))
    assert stale["reason"] == "Conflict" and stale["message"] == (
        'Operation cannot be fulfilled on configmaps "a": the object has been modified; please '
        "apply your changes to the latest version and try again")
    unconditional = cm("a")
    unconditional["data"] = {"k": "3"}
    assert body(send(srv, "PUT", f"{CMS}/a", unconditional))["data"] == {"k": "3"}


def test_update_errors() -> None:
    srv = server()
    assert send(srv, "PUT", f"{CMS}/zz", cm("zz")).status_code == 404
    send(srv, "POST", CMS, cm("a"))
    mismatch = body(send(srv, "PUT", f"{CMS}/a", cm("b")))
    assert mismatch["message"] == "the name of the object (b) does not match the name on the URL (a)"
    uid = body(send(srv, "PUT", f"{CMS}/a", cm("a", uid="1234")))
    assert uid["reason"] == "Conflict" and "Precondition failed: UID in precondition: 1234" in uid["message"]


def test_create_on_update_resources() -> None:
    srv = server()
    resp = send(srv, "PUT", "/api/v1/namespaces/default/endpoints/e", {"metadata": {"name": "e"}})
    assert resp.status_code == 201


def test_custom_resources_need_a_resource_version_to_update() -> None:
    srv = server()
    send(srv, "POST", WIDGETS, widget("w"))
    status = body(send(srv, "PUT", f"{WIDGETS}/w", widget("w")))
    assert status["code"] == 422 and status["details"]["causes"][0]["field"] == "metadata.resourceVersion"


def test_noop_update_keeps_the_resource_version_and_emits_nothing() -> None:
    srv = server()
    created = body(send(srv, "POST", CMS, cm("a")))
    events_before = srv.tracker.events.current_rv
    again = body(send(srv, "PUT", f"{CMS}/a", created))
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert srv.tracker.events.current_rv == events_before


def test_generation_and_status_on_update() -> None:
    srv = server()
    created = body(send(srv, "POST", DEPLOYMENTS, deployment("d")))
    assert created["metadata"]["generation"] == 1
    created["metadata"]["labels"] = {"x": "y"}
    created["status"] = {"replicas": 9}
    labelled = body(send(srv, "PUT", f"{DEPLOYMENTS}/d", created))
    assert labelled["metadata"]["generation"] == 1 and labelled["status"] == {}
    labelled["spec"]["replicas"] = 3
    assert body(send(srv, "PUT", f"{DEPLOYMENTS}/d", labelled))["metadata"]["generation"] == 2


def test_status_subresource_changes_only_status() -> None:
    srv = server()
    send(srv, "POST", DEPLOYMENTS, deployment("d"))
    resp = send(srv, "PATCH", f"{DEPLOYMENTS}/d/status",
                {"status": {"replicas": 7}, "spec": {"replicas": 9}},
                content_type="application/merge-patch+json")
    got = body(resp)
    assert got["status"] == {"replicas": 7} and got["spec"]["replicas"] == 1
    assert got["metadata"]["generation"] == 1


def test_uid_and_creation_timestamp_are_kept() -> None:
    srv = server()
    created = body(send(srv, "POST", CMS, cm("a")))
    changed = dict(created, metadata={**created["metadata"], "creationTimestamp": "2000-01-01T00:00:00Z"},
                   data={"k": "2"})
    got = body(send(srv, "PUT", f"{CMS}/a", changed))
    assert got["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]
    assert got["metadata"]["uid"] == created["metadata"]["uid"]


# --- delete ----------------------------------------------------------------------------


def test_delete_answers_a_status_or_the_object() -> None:
    srv = server()
    created = body(send(srv, "POST", CMS, cm("a")))
    status = body(send(srv, "DELETE", f"{CMS}/a"))
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": {"name": "a", "kind": "configmaps", "uid": created["metadata"]["uid"]}}
    send(srv, "POST", "/api/v1/persistentvolumes", {"metadata": {"name": "pv"}})
    assert body(send(srv, "DELETE", "/api/v1/persistentvolumes/pv"))["kind"] == "PersistentVolume"
    assert send(srv, "DELETE", f"{CMS}/a").status_code == 404


def test_finalizers_hold_a_deletion_until_the_last_one_goes() -> None:
    srv = server()
    send(srv, "POST", CMS, cm("f", finalizers=["example.com/hold"]))
    held = body(send(srv, "DELETE", f"{CMS}/f"))
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["deletionGracePeriodSeconds"] == 0
    added = body(send(srv, "PATCH", f"{CMS}/f", {"metadata": {"finalizers": ["example.com/hold", "x/y"]}},
                      content_type="application/merge-patch+json"))
    assert added["code"] == 422 and added["details"]["causes"][0]["reason"] == "FieldValueForbidden"
    send(srv, "PATCH", f"{CMS}/f", {"metadata": {"finalizers": None}},
         content_type="application/merge-patch+json")
    assert send(srv, "GET", f"{CMS}/f").status_code == 404


def test_propagation_policies_add_finalizers_without_a_garbage_collector() -> None:
    srv = server()
    for name in ("o", "f", "b"):
        send(srv, "POST", CMS, cm(name))
    orphan = body(send(srv, "DELETE", f"{CMS}/o", {"propagationPolicy": "Orphan"}, content_type="application/json"))
    assert orphan["metadata"]["finalizers"] == ["orphan"]
    fore = body(send(srv, "DELETE", f"{CMS}/f", params=(("propagationPolicy", "Foreground"),)))
    assert fore["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert body(send(srv, "DELETE", f"{CMS}/b", {"propagationPolicy": "Background"},
                     content_type="application/json"))["kind"] == "Status"
    # replication controllers (core/v1) orphan by default
    send(srv, "POST", "/api/v1/namespaces/default/replicationcontrollers", {"metadata": {"name": "rc"}})
    rc = body(send(srv, "DELETE", "/api/v1/namespaces/default/replicationcontrollers/rc"))
    assert rc["metadata"]["finalizers"] == ["orphan"] and rc["metadata"]["generation"] == 2


def test_delete_preconditions() -> None:
    srv = server()
    created = body(send(srv, "POST", CMS, cm("a")))
    rv = created["metadata"]["resourceVersion"]
    stale = body(send(srv, "DELETE", f"{CMS}/a", {"preconditions": {"resourceVersion": "1"}},
                      content_type="application/json"))
    assert stale["message"] == (
        f'Operation cannot be fulfilled on ConfigMap "a": the ResourceVersion in the precondition (1) '
        f"does not match the ResourceVersion in record ({rv}). The object might have been modified")
    uid = body(send(srv, "DELETE", f"{CMS}/a", {"preconditions": {"uid": "x"}}, content_type="application/json"))
    assert uid["reason"] == "Conflict" and "might have been deleted and then recreated" in uid["message"]
    ok = send(srv, "DELETE", f"{CMS}/a", {"preconditions": {"uid": created["metadata"]["uid"]}},
              content_type="application/json")
    assert ok.status_code == 200


def test_dry_run_delete_keeps_the_object() -> None:
    srv = server()
    send(srv, "POST", CMS, cm("a"))
    assert send(srv, "DELETE", f"{CMS}/a", params=(("dryRun", "All"),)).status_code == 200
    assert send(srv, "GET", f"{CMS}/a").status_code == 200


def test_pods_on_a_node_wait_for_their_kubelet() -> None:
    srv = server()
    pods = "/api/v1/namespaces/default/pods"
    send(srv, "POST", pods, {"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}})
    graceful = body(send(srv, "DELETE", f"{pods}/p"))
    assert graceful["metadata"]["deletionGracePeriodSeconds"] == 30
    assert send(srv, "GET", f"{pods}/p").status_code == 200
    now = send(srv, "DELETE", f"{pods}/p", {"gracePeriodSeconds": 0}, content_type="application/json")
    assert now.status_code == 200


# --- concurrency ---------------------------------------------------------------------


def test_concurrent_writers_see_each_conflict_once() -> None:
    """Eight threads incrementing one counter with read-modify-write: every increment lands
    exactly once, losers get 409 and retry, resourceVersions stay unique and monotonic."""
    srv = server()
    send(srv, "POST", CMS, {"metadata": {"name": "n"}, "data": {"n": "0"}})
    conflicts = []

    def work() -> None:
        for _ in range(25):
            while True:
                cur = body(send(srv, "GET", f"{CMS}/n"))
                cur["data"]["n"] = str(int(cur["data"]["n"]) + 1)
                resp = send(srv, "PUT", f"{CMS}/n", cur)
                if resp.status_code == 200:
                    break
                conflicts.append(resp.status_code)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert body(send(srv, "GET", f"{CMS}/n"))["data"]["n"] == "200"
    assert set(conflicts) <= {409}


def test_shared_tracker() -> None:
    tracker = ObjectTracker(kube_api())
    a, b = FakeServer(kube_api(), tracker=tracker), FakeServer(kube_api(), tracker=tracker)
    send(a, "POST", CMS, cm("shared"))
    assert send(b, "GET", f"{CMS}/shared").status_code == 200
    assert tracker.get(tracker.info("", "v1", "configmaps"), "shared", "default")["data"] == {"k": "v"}  # type: ignore[arg-type]


def test_delete_options_are_validated() -> None:
    srv = server()
    send(srv, "POST", CMS, cm("a"))
    status = body(send(srv, "DELETE", f"{CMS}/a", {"propagationPolicy": "Sideways"},
                       content_type="application/json"))
    assert status["code"] == 422
    assert status["details"]["causes"][0]["reason"] == "FieldValueNotSupported"
    assert send(srv, "GET", f"{CMS}/a").status_code == 200


def test_a_patch_cannot_change_the_uid_nor_the_name() -> None:
    srv = server()
    send(srv, "POST", CMS, cm("a"))
    uid = body(send(srv, "PATCH", f"{CMS}/a", {"metadata": {"uid": "other"}},
                    content_type="application/merge-patch+json"))
    assert uid["code"] == 422 and uid["message"] == \
        'ConfigMap "a" is invalid: metadata.uid: Invalid value: "other": field is immutable'
    renamed = send(srv, "PATCH", f"{CMS}/a", {"metadata": {"name": "b"}},
                   content_type="application/merge-patch+json")
    assert renamed.status_code == 400


def test_creates_with_a_resource_version_are_refused() -> None:
    resp = send(server(), "POST", CMS, cm("a", resourceVersion="5"))
    assert (resp.status_code, body(resp)["reason"]) == (500, "InternalError")


def test_an_empty_managed_fields_list_resets_them() -> None:
    srv = server()
    created = body(send(srv, "POST", CMS, cm("a")))
    assert created["metadata"]["managedFields"]
    created["metadata"]["managedFields"] = []
    created["data"] = {"k": "2"}
    assert "managedFields" not in body(send(srv, "PUT", f"{CMS}/a", created))["metadata"]


def test_new_uid_is_a_version_4_uuid_of_its_random_bits() -> None:
    """``new_uid`` sets the version and variant with one mask: what ``uuid.UUID(int=...,
    version=4)`` makes of the same 128 random bits."""
    import random
    import uuid

    from kubecodegen_runtime.fake import objmeta

    saved = objmeta._UIDS.getstate()
    try:
        objmeta._UIDS.seed(12)
        made = [objmeta.new_uid() for _ in range(2000)]
    finally:
        objmeta._UIDS.setstate(saved)
    same = random.Random(12)
    assert made == [str(uuid.UUID(int=same.getrandbits(128), version=4)) for _ in range(2000)]


def test_name_check_fast_path_agrees_with_the_full_check() -> None:
    """``name_problems`` answers valid subdomain names without the cache or the full
    check: for any name and rule, it says what ``_find_name_problems`` says."""
    import random

    from kubecodegen_runtime.fake import objmeta

    rng = random.Random(3)
    names = ["a", "a-b.c", "-a", "a-", "A", "a..b", ".", "..", "a/b", "a%b", "x" * 253,
             "x" * 254, "x" * 63, "x" * 64, "a" * 250 + ".b-c"]
    names += ["".join(rng.choice("ab9-.A/_") for _ in range(rng.randint(1, 12)))
              for _ in range(3000)]
    for name in names:
        for rule in ("subdomain", "label", "path"):
            for prefix in (False, True):
                assert objmeta.name_problems(name, rule, prefix=prefix) == \
                    objmeta._find_name_problems(name, rule, "metadata.name", prefix), (name, rule)
