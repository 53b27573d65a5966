"""Discovery documents for the unit tests, built in code (shapes as kube-apiserver sends).

``aggregated_*`` build ``APIGroupDiscoveryList`` answers, ``legacy_*`` the pre-1.26
``APIVersions`` / ``APIGroupList`` / ``APIResourceList`` ones; :func:`drive` runs a
discovery plan against a table of answers and records what it asked for, in batches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from kubecodegen_runtime.apis import apidiscovery_v2 as agg
from kubecodegen_runtime.discovery import Outcome, Plan
from kubecodegen_runtime.errors import KubernetesError, api_error_from_status
from kubecodegen_runtime.errors import Status as StatusBody
from kubecodegen_runtime.rest.request import Request
from kubecodegen_runtime.rest.response import Response

T = TypeVar("T")

JSON_TYPE = "application/json"


def aggregated_type(version: str = "v2") -> str:
    """The Content-Type kube-apiserver answers aggregated discovery with (its own order)."""
    return f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"


def resource(name: str, kind: str, *, namespaced: bool = True, verbs: tuple[str, ...] = ("get", "list"),
             singular: str = "", short_names: tuple[str, ...] = (), categories: tuple[str, ...] = (),
             subresources: Mapping[str, tuple[str, ...]] | None = None,
             group: str = "", version: str = "v1") -> dict[str, Any]:
    doc: dict[str, Any] = {
        "resource": name,
        "responseKind": {"group": group, "version": version, "kind": kind} if kind else {},
        "scope": "Namespaced" if namespaced else "Cluster",
        "singularResource": singular,
        "verbs": list(verbs),
    }
    if short_names:
        doc["shortNames"] = list(short_names)
    if categories:
        doc["categories"] = list(categories)
    if subresources:
        doc["subresources"] = [
            {"subresource": sub, "responseKind": {"group": group, "version": version, "kind": kind},
             "verbs": list(sub_verbs)}
            for sub, sub_verbs in subresources.items()
        ]
    return doc


def group(name: str, versions: Mapping[str, list[dict[str, Any]]],
          stale: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "versions": [
            {"version": v, "resources": res, "freshness": "Stale" if v in stale else "Current"}
            for v, res in versions.items()
        ],
    }


def aggregated_list(*groups: dict[str, Any], version: str = "v2") -> bytes:
    return json.dumps({"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}",
                       "metadata": {}, "items": list(groups)}).encode()


def legacy_api(*versions: str) -> bytes:
    return json.dumps({"kind": "APIVersions", "versions": list(versions),
                       "serverAddressByClientCIDRs": []}).encode()


def legacy_apis(groups: Mapping[str, tuple[str, ...]]) -> bytes:
    """``/apis``: each group with its versions, the first one preferred."""
    return json.dumps({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": name,
         "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
         "preferredVersion": {"groupVersion": f"{name}/{versions[0]}", "version": versions[0]}}
        for name, versions in groups.items()
    ]}).encode()


def legacy_resources(group_version: str, resources: list[dict[str, Any]]) -> bytes:
    """An ``APIResourceList`` from the aggregated resource dicts above (same content)."""
    entries: list[dict[str, Any]] = []
    for res in resources:
        entries.append({"name": res["resource"], "singularName": res["singularResource"],
                        "namespaced": res["scope"] == "Namespaced",
                        "kind": res["responseKind"].get("kind", ""), "verbs": res["verbs"],
                        "shortNames": res.get("shortNames", []),
                        "categories": res.get("categories", [])})
        for sub in res.get("subresources", []):
            entries.append({"name": f"{res['resource']}/{sub['subresource']}", "singularName": "",
                            "namespaced": res["scope"] == "Namespaced",
                            "kind": sub["responseKind"]["kind"], "verbs": sub["verbs"]})
    return json.dumps({"kind": "APIResourceList", "groupVersion": group_version,
                       "resources": entries}).encode()


def ok(body: bytes, content_type: str = JSON_TYPE) -> Response:
    return Response(200, (("content-type", content_type),), body)


def failure(code: int, path: str) -> KubernetesError:
    return api_error_from_status(StatusBody(code=code, message=f"answer {code}"), method="GET", path=path)


def drive(plan: Plan[T], answers: Mapping[str, Outcome | None]) -> tuple[T, list[list[Request]]]:
    """Run ``plan`` answering each request from ``answers`` by path; return its result and
    the batches it asked for. A path missing from ``answers`` fails the test."""
    batches: list[list[Request]] = []
    try:
        batch = next(plan)
        while True:
            batches.append(list(batch))
            outcomes: list[Outcome] = []
            for req in batch:
                found = answers.get(req.path)
                assert found is not None, f"unexpected request {req.path}"
                outcomes.append(found)
            batch = plan.send(outcomes)
    except StopIteration as done:
        return done.value, batches


__all__ = ["agg"]
