"""The model of the embedded v1.20 spec against the live v1.20.2 server's discovery.

Proves that ``kubecodegen inspect --spec builtin:v1.20`` lists every resource the server
has, with the server's scope, verbs and subresources (discovery has no ``apply`` verb:
server-side apply is a PATCH content type, so it is compared without it).
"""

from __future__ import annotations

from typing import Any

from kubecodegen.pipeline import model_of
from kubecodegen.spec import load_spec


def _discovery(client: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    group_versions = [("", v) for v in client.get("/api").json()["versions"]]
    for group in client.get("/apis").json()["groups"]:
        group_versions += [(group["name"], v["version"]) for v in group["versions"]]
    for group, version in group_versions:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        for entry in client.get(path).json()["resources"]:
            name, _, sub = entry["name"].partition("/")
            record = found.setdefault((group, version, name), {"subresources": {}})
            if sub:
                record["subresources"][sub] = set(entry["verbs"])
            else:
                record.update(namespaced=entry["namespaced"], kind=entry["kind"], verbs=set(entry["verbs"]))
    return found


def test_builtin_v1_20_model_matches_live_discovery(cluster: Any) -> None:
    client = cluster.admin_client()
    # The session cluster is shared: other tests install CRDs; those are not built in.
    crds = client.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").json()["items"]
    custom = {(crd["spec"]["group"], crd["spec"]["names"]["plural"]) for crd in crds}
    server = {key: value for key, value in _discovery(client).items() if (key[0], key[2]) not in custom}
    model = model_of(load_spec("builtin:v1.20"))
    ours = {(r.group, r.version, r.plural): r for r in model.resources()}
    assert set(ours) == set(server)
    for key, resource in ours.items():
        live = server[key]
        assert resource.namespaced == live["namespaced"], key
        assert resource.kind == live["kind"], key
        assert set(resource.verbs) - {"apply"} == live["verbs"], key
        subs = {s.name: s for s in resource.subresources}
        assert set(subs) == set(live["subresources"]), key
        for name, sub in subs.items():
            if not sub.connect:
                assert set(sub.verbs) - {"apply"} == live["subresources"][name], (key, name)
