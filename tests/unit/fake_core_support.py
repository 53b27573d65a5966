"""Helpers of the fake server's unit tests: package APIs, raw requests, a custom resource."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import msgspec

from kubecodegen_runtime.fake import FakeServer, PackageApi, ScalePaths
from kubecodegen_runtime.meta import ResourceInfo
from kubecodegen_runtime.rest.request import Request, raw
from kubecodegen_runtime.rest.response import Response
from tests.generated_packages import import_reference

WIDGETS = ResourceInfo(
    group="example.com", version="v1", resource="widgets", kind="Widget", namespaced=True,
    verbs=frozenset({"get", "list", "watch", "create", "update", "patch", "delete",
                     "deletecollection"}),
    subresources={"status": frozenset({"get", "update", "patch"}),
                  "scale": frozenset({"get", "update", "patch"})})


def kube_api(version: str = "kube_v1_20") -> PackageApi:
    """A generated package's PackageApi (kube_v1_20 unless told)."""
    api: PackageApi = import_reference(f"{version}.fake").package_api()
    return api


def with_widgets(api: PackageApi) -> PackageApi:
    """``api`` plus a custom resource ``widgets.example.com`` with status and scale."""
    return dataclasses.replace(
        api, resources=(*api.resources, WIDGETS),
        custom=api.custom | {("example.com", "widgets")},
        scale={**api.scale, ("example.com", "widgets"): ScalePaths(
            ".spec.size", ".status.size", ".status.selector")})


def server(*objects: object, api: PackageApi | None = None) -> FakeServer:
    return FakeServer(api if api is not None else with_widgets(kube_api()), objects)


def send(srv: FakeServer, method: str, path: str, body: Any = None, *,
         content_type: str | None = None, params: tuple[tuple[str, str], ...] = (),
         user_agent: str = "tester/1.0") -> Response:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req: Request = raw(method, path, params=params, body=data, content_type=content_type)
    return srv.handle(req, user_agent=user_agent)


def body(resp: Response) -> Any:
    return msgspec.json.decode(resp.body)


def cm(name: str, ns: str | None = None, **meta: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, **meta}
    if ns is not None:
        metadata["namespace"] = ns
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"k": "v"}}


CMS = "/api/v1/namespaces/default/configmaps"
