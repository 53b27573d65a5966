"""The fake server's request handling: actions, reactors, patches, apply, subresources,
discovery, and the errors for what it does not serve."""

from __future__ import annotations

from typing import Any

import pytest

from kubecodegen_runtime import errors
from kubecodegen_runtime.fake import Action, actions
from kubecodegen_runtime.meta import GroupVersionResource

from .fake_core_support import CMS, body, cm, kube_api, raw, send, server

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}}}


# --- actions and reactors --------------------------------------------------------------


def test_every_request_is_recorded_as_an_action() -> None:
    srv = server()
    send(srv, "POST", CMS, cm("a"), params=(("fieldManager", "me"), ("dryRun", "All")))
    send(srv, "GET", CMS, params=(("labelSelector", "x=y"),))
    send(srv, "PATCH", f"{CMS}/a", {"data": {}}, content_type="application/merge-patch+json")
    send(srv, "DELETE", CMS)
    send(srv, "GET", "/api/v1/configmaps")
    got = srv.actions()
    assert [a.verb for a in got] == ["create", "list", "patch", "delete-collection", "list"]
    create = got[0]
    assert create.resource == GroupVersionResource("", "v1", "configmaps")
    assert (create.namespace, create.field_manager, create.dry_run) == ("default", "me", True)
    assert create.object is not None and create.object["metadata"]["name"] == "a"
    assert got[1].label_selector == "x=y"
    assert got[2].patch_type == "application/merge-patch+json" and got[2].patch == b'{"data": {}}'
    assert got[4].namespace is None
    srv.clear_actions()
    assert srv.actions() == []


def test_recorded_actions_are_ordinary_actions() -> None:
    """The server builds its actions without the dataclass's __init__ (for speed): they
    must be indistinguishable from ones built by it, and as frozen."""
    srv = server()
    send(srv, "PATCH", f"{CMS}/a", {"data": {}}, content_type="application/merge-patch+json",
         params=(("fieldManager", "me"), ("force", "true")))
    got = srv.actions()[0]
    built = Action(verb="patch", resource=GroupVersionResource("", "v1", "configmaps"),
                   namespace="default", name="a", patch_type="application/merge-patch+json",
                   patch=b'{"data": {}}', field_manager="me", force=True,
                   params=(("fieldManager", "me"), ("force", "true")), path=f"{CMS}/a",
                   kind="ConfigMap")
    assert got == built and repr(got) == repr(built) and vars(got) == vars(built)
    with pytest.raises(AttributeError):
        got.verb = "get"  # type: ignore[misc]


def test_reactors_answer_before_the_tracker_newest_first() -> None:
    srv = server()
    seen: list[Action] = []

    def count(action: Action) -> None:
        seen.append(action)

    srv.prepend_reactor("*", "*", count)
    srv.prepend_reactor("get", "configmaps", lambda a: cm(a.name or "", "default"))
    got = send(srv, "GET", f"{CMS}/anything")
    assert got.status_code == 200 and body(got)["metadata"]["name"] == "anything"
    assert seen == []  # the newer reactor answered
    send(srv, "GET", "/api/v1/namespaces/default/secrets/s")
    assert [a.resource.resource for a in seen] == ["secrets"]


def test_reactors_raise_api_errors_as_statuses() -> None:
    srv = server()
    calls = {"n": 0}

    def flaky(action: Action) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise actions.conflict("configmaps", action.name or "")
        return None

    srv.prepend_reactor("update", "configmaps", flaky)
    send(srv, "POST", CMS, cm("a"))
    first = send(srv, "PUT", f"{CMS}/a", cm("a"))
    assert first.status_code == 409 and body(first)["reason"] == "Conflict"
    assert send(srv, "PUT", f"{CMS}/a", cm("a")).status_code == 200


def test_reactors_match_subresources_by_name() -> None:
    srv = server()
    srv.prepend_reactor("patch", "deployments/status", lambda a: (_ for _ in ()).throw(
        actions.internal_error("status is broken")))
    send(srv, "POST", DEPLOYMENTS, deployment("d"))
    ok = send(srv, "PATCH", f"{DEPLOYMENTS}/d", {"metadata": {"labels": {"a": "b"}}},
              content_type="application/merge-patch+json")
    assert ok.status_code == 200
    broken = send(srv, "PATCH", f"{DEPLOYMENTS}/d/status", {"status": {}},
                  content_type="application/merge-patch+json")
    assert broken.status_code == 500 and "status is broken" in body(broken)["message"]


@pytest.mark.parametrize(("error", "cls"), [
    (actions.not_found("pods", "p"), errors.NotFound),
    (actions.already_exists("pods", "p"), errors.AlreadyExists),
    (actions.conflict("pods", "p"), errors.Conflict),
    (actions.forbidden("pods", "p", "no"), errors.Forbidden),
    (actions.invalid("Pod", "p", [("FieldValueInvalid", "spec.x", "bad")]), errors.Invalid),
    (actions.server_timeout("pods"), errors.ServerTimeout),
    (actions.too_many_requests(), errors.TooManyRequests),
    (actions.internal_error(), errors.InternalError),
])
def test_error_helpers_reach_clients_as_their_typed_errors(error: errors.ApiError,
                                                           cls: type[errors.ApiError]) -> None:
    kube = pytest.importorskip("kube_v1_20.fake")
    cs = kube.Clientset()
    cs.prepend_reactor("get", "pods", lambda a: (_ for _ in ()).throw(error))
    with pytest.raises(cls) as caught:
        cs.core_v1.pods("default").get("p")
    assert caught.value.message == error.message and caught.value.status == error.status


# --- patches and apply -----------------------------------------------------------------


def test_patch_flavours() -> None:
    srv = server()
    send(srv, "POST", CMS, cm("a"))
    merged = send(srv, "PATCH", f"{CMS}/a", {"data": {"x": "1"}},
                  content_type="application/merge-patch+json")
    assert body(merged)["data"] == {"k": "v", "x": "1"}
    jsonp = send(srv, "PATCH", f"{CMS}/a", [{"op": "remove", "path": "/data/k"}],
                 content_type="application/json-patch+json")
    assert body(jsonp)["data"] == {"x": "1"}
    failed = send(srv, "PATCH", f"{CMS}/a", [{"op": "test", "path": "/data/x", "value": "2"}],
                  content_type="application/json-patch+json")
    assert failed.status_code == 422
    strategic = send(srv, "PATCH", f"{CMS}/a", {"data": {"y": "2"}},
                     content_type="application/strategic-merge-patch+json")
    assert body(strategic)["data"] == {"x": "1", "y": "2"}
    odd = send(srv, "PATCH", f"{CMS}/a", {}, content_type="text/plain")
    assert (odd.status_code, body(odd)["message"]) == (415, "415: Unsupported Media Type")
    assert send(srv, "PATCH", f"{CMS}/zz", {}, content_type="application/merge-patch+json").status_code == 404


def test_strategic_merge_is_refused_for_custom_resources() -> None:
    srv = server()
    send(srv, "POST", WIDGETS, {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    resp = send(srv, "PATCH", f"{WIDGETS}/w", {"spec": {}},
                content_type="application/strategic-merge-patch+json")
    assert resp.status_code == 415 and "strategic" not in body(resp)["message"]


def test_apply_creates_then_owns_fields_and_conflicts() -> None:
    srv = server()
    apply = "application/apply-patch+yaml"
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: one\n"
    created = send(srv, "PATCH", f"{CMS}/a", config.encode(), content_type=apply,
                   params=(("fieldManager", "first"),))
    assert created.status_code == 201 and body(created)["data"] == {"k": "one"}
    conflict = send(srv, "PATCH", f"{CMS}/a", config.replace("one", "two").encode(), content_type=apply,
                    params=(("fieldManager", "second"),))
    status = body(conflict)
    assert conflict.status_code == 409 and status["reason"] == "Conflict"
    assert status["message"].startswith('Apply failed with 1 conflict: conflict with "first"')
    assert status["details"]["causes"][0] == {"reason": "FieldManagerConflict",
                                              "message": 'conflict with "first"', "field": ".data.k"}
    forced = send(srv, "PATCH", f"{CMS}/a", config.replace("one", "two").encode(), content_type=apply,
                  params=(("fieldManager", "second"), ("force", "true")))
    assert forced.status_code == 200 and body(forced)["data"] == {"k": "two"}
    managers = [e["manager"] for e in body(forced)["metadata"]["managedFields"]]
    assert managers == ["second"]


def test_apply_needs_a_field_manager_and_a_name() -> None:
    srv = server()
    apply = "application/apply-patch+yaml"
    no_manager = send(srv, "PATCH", f"{CMS}/a", b"{}", content_type=apply)
    assert no_manager.status_code == 422
    no_name = send(srv, "PATCH", f"{CMS}/a", b'{"apiVersion":"v1","kind":"ConfigMap"}', content_type=apply,
                   params=(("fieldManager", "m"),))
    assert body(no_name)["message"] == ("the name of the object (a based on URL) was undeterminable: "
                                        "name must be provided")


# --- subresources ----------------------------------------------------------------------


def test_scale_reads_and_writes_the_parents_replicas() -> None:
    srv = server()
    send(srv, "POST", DEPLOYMENTS, deployment("d", 2))
    scale = body(send(srv, "GET", f"{DEPLOYMENTS}/d/scale"))
    assert (scale["kind"], scale["apiVersion"], scale["spec"], scale["status"]) == \
        ("Scale", "autoscaling/v1", {"replicas": 2}, {"replicas": 0, "selector": "app=d"})
    scale["spec"]["replicas"] = 5
    assert body(send(srv, "PUT", f"{DEPLOYMENTS}/d/scale", scale))["spec"] == {"replicas": 5}
    parent = body(send(srv, "GET", f"{DEPLOYMENTS}/d"))
    assert parent["spec"]["replicas"] == 5 and parent["metadata"]["generation"] == 2
    stale = send(srv, "PUT", f"{DEPLOYMENTS}/d/scale", scale)
    assert stale.status_code == 409
    patched = send(srv, "PATCH", f"{DEPLOYMENTS}/d/scale", {"spec": {"replicas": 1}},
                   content_type="application/merge-patch+json")
    assert body(patched)["spec"] == {"replicas": 1}


@pytest.mark.parametrize(("package", "scaler_recorded"), [("kube_v1_20", False),
                                                         ("kube_v1_35", True)])
def test_a_write_through_scale_is_a_managed_write_from_1_21(package: str,
                                                             scaler_recorded: bool) -> None:
    """1.20 records no field manager for ``/scale`` (the applier keeps ``spec.replicas``);
    from 1.21 the scaler is an Update manager of the parent like any other writer."""
    srv = server(api=kube_api(package))
    send(srv, "PATCH", f"{DEPLOYMENTS}/d", deployment("d", 1), params=(("fieldManager", "owner"),),
         content_type="application/apply-patch+yaml")
    before = body(send(srv, "GET", f"{DEPLOYMENTS}/d"))["metadata"]["managedFields"]
    send(srv, "PATCH", f"{DEPLOYMENTS}/d/scale", {"spec": {"replicas": 3}},
         params=(("fieldManager", "scaler"),), content_type="application/merge-patch+json")
    after = body(send(srv, "GET", f"{DEPLOYMENTS}/d"))
    assert after["spec"]["replicas"] == 3
    managers = [e["manager"] for e in after["metadata"]["managedFields"]]
    assert ("scaler" in managers) is scaler_recorded
    if not scaler_recorded:
        assert after["metadata"]["managedFields"] == before


def test_custom_resource_scale_uses_the_crd_paths() -> None:
    srv = server()
    send(srv, "POST", WIDGETS, {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                                "spec": {"size": 3}})
    assert body(send(srv, "GET", f"{WIDGETS}/w/scale"))["spec"] == {"replicas": 3}
    send(srv, "PATCH", f"{WIDGETS}/w/scale", {"spec": {"replicas": 4}},
         content_type="application/merge-patch+json")
    assert body(send(srv, "GET", f"{WIDGETS}/w"))["spec"] == {"size": 4}


def test_eviction_deletes_the_pod() -> None:
    srv = server()
    pods = "/api/v1/namespaces/default/pods"
    send(srv, "POST", pods, {"metadata": {"name": "p"}})
    evicted = send(srv, "POST", f"{pods}/p/eviction",
                   {"apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": "p"}})
    assert evicted.status_code == 201 and body(evicted)["status"] == "Success"
    assert send(srv, "GET", f"{pods}/p").status_code == 404


def test_what_the_server_does_not_serve() -> None:
    srv = server()
    unknown = send(srv, "GET", "/api/v1/foos")
    assert (unknown.status_code, body(unknown)["message"]) == \
        (404, "the server could not find the requested resource")
    assert send(srv, "GET", "/api/v1/namespaces/default/nodes").status_code == 404  # cluster-scoped
    assert send(srv, "GET", "/api/v1/pods/p").status_code == 404  # namespaced, no namespace
    not_allowed = send(srv, "DELETE", "/api/v1/componentstatuses/x")
    assert (not_allowed.status_code, body(not_allowed)["reason"]) == (405, "MethodNotAllowed")
    assert send(srv, "GET", "/api/v1/namespaces/default/pods/p/foo").status_code == 404


# --- discovery ---------------------------------------------------------------------------


def test_discovery_documents() -> None:
    srv = server()
    assert body(send(srv, "GET", "/api"))["versions"] == ["v1"]
    groups = {g["name"]: g for g in body(send(srv, "GET", "/apis"))["groups"]}
    assert groups["autoscaling"]["preferredVersion"]["version"] == "v1"
    assert [v["version"] for v in groups["autoscaling"]["versions"]] == ["v1", "v2beta1", "v2beta2"]
    assert "example.com" in groups
    core = body(send(srv, "GET", "/api/v1"))
    assert "apiVersion" not in core
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["configmaps"]["verbs"] == ["create", "delete", "deletecollection", "get", "list",
                                              "patch", "update", "watch"]
    scale = {r["name"]: r for r in body(send(srv, "GET", "/apis/apps/v1"))["resources"]}["deployments/scale"]
    assert (scale["kind"], scale["group"], scale["version"]) == ("Scale", "autoscaling", "v1")
    assert body(send(srv, "GET", "/version"))["gitVersion"] == "v1.20.2"
    assert send(srv, "GET", "/apis/nope.example.com").status_code == 404


def test_discovery_and_dynamic_clients_work_on_the_fake() -> None:
    kube = pytest.importorskip("kube_v1_20.fake")
    cs = kube.Clientset()
    discovery = cs.discovery
    assert discovery.core.dir is None  # a fake cluster is never cached on disk
    info = discovery.resolve_kind("deploy")  # short names as kube-apiserver announces them
    assert (info.group, info.version, info.resource, info.namespaced) == ("apps", "v1", "deployments", True)
    assert discovery.server_version().git_version == "v1.20.2"
    configmaps = cs.dynamic.resource_for("ConfigMap", "v1").namespace("default")
    configmaps.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dyn"}})
    assert cs.core_v1.config_maps("default").get("dyn").metadata.name == "dyn"


def test_reactor_resource_names_match_as_in_client_go() -> None:
    def action(sub: str | None) -> Action:
        return Action(verb="get", resource=GroupVersionResource("", "v1", "pods"), subresource=sub)

    assert action(None).matches("get", "pods") and action("status").matches("get", "pods")
    assert action("status").matches("get", "pods/status")
    assert not action(None).matches("get", "pods/status")
    assert not action("log").matches("get", "pods/status")
    assert action("log").matches("*", "*") and not action(None).matches("list", "pods")


def test_discovery_actions_are_ordinary_actions() -> None:
    """Discovery requests' actions are built without the dataclass's __init__ too."""
    srv = server()
    send(srv, "GET", "/apis/apps/v1")
    got = srv.actions()[0]
    built = Action(verb="discovery", resource=GroupVersionResource("apps", "v1", ""),
                   path="/apis/apps/v1")
    assert got == built and repr(got) == repr(built) and vars(got) == vars(built)


def test_reactors_added_after_requests_still_answer() -> None:
    """A server without reactors skips them; one added later is consulted at once."""
    srv = server()
    assert send(srv, "GET", f"{CMS}/a").status_code == 404
    srv.prepend_reactor("get", "configmaps", lambda action: cm("a"))
    assert send(srv, "GET", f"{CMS}/a").status_code == 200


def test_every_action_names_every_field() -> None:
    """_new_action trusts its callers to name each Action field (no check per request):
    every verb's action has exactly the dataclass's fields."""
    import dataclasses

    fields = {f.name for f in dataclasses.fields(Action)}
    srv = server()
    send(srv, "POST", CMS, cm("a"))
    send(srv, "PUT", f"{CMS}/a", cm("a"))
    send(srv, "PATCH", f"{CMS}/a", {"data": {}}, content_type="application/merge-patch+json")
    send(srv, "GET", f"{CMS}/a")
    send(srv, "GET", CMS)
    send(srv, "DELETE", f"{CMS}/a")
    send(srv, "DELETE", CMS)
    send(srv, "GET", "/api")
    srv.open_watch(raw("GET", CMS, params=(("watch", "true"),))).close()
    got = srv.actions()
    assert [a.verb for a in got] == ["create", "update", "patch", "get", "list", "delete",
                                     "delete-collection", "discovery", "watch"]
    for action in got:
        assert set(vars(action)) == fields


def test_responses_are_ordinary_responses() -> None:
    """dispatch makes its Responses without the dataclass's __init__ (for speed): they
    must equal the constructor's, and stay frozen."""
    import dataclasses

    from kubecodegen_runtime.fake import dispatch
    from kubecodegen_runtime.rest.response import Response

    made = dispatch.new_response(201, dispatch.JSON_HEADERS, b"{}", "POST", "/api/v1/x")
    built = Response(201, dispatch.JSON_HEADERS, b"{}", "POST", "/api/v1/x")
    assert type(made) is Response and made == built and repr(made) == repr(built)
    assert hash(made) == hash(built)
    assert dispatch.new_response is not Response  # the fast path is in use
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.status_code = 200  # type: ignore[misc]
    got = send(server(), "GET", f"{CMS}/missing")
    assert type(got) is Response and got.status_code == 404 and got.path == f"{CMS}/missing"


def test_version_document_follows_the_package_version() -> None:
    """Discovery documents are cached per package: two packages with one resource table
    and different versions answer /version each with its own."""
    import dataclasses

    from kubecodegen_runtime.fake import FakeServer

    api = kube_api()
    older = dataclasses.replace(api, kubernetes_version="v1.19.4")
    assert body(send(FakeServer(api), "GET", "/version"))["gitVersion"] == api.kubernetes_version
    assert body(send(FakeServer(older), "GET", "/version"))["gitVersion"] == "v1.19.4"
