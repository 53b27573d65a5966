"""Aggregated discovery (``apidiscovery.k8s.io/v2``, and its identical ``v2beta1``).

Since Kubernetes 1.26 (beta, ``v2beta1``; GA ``v2`` in 1.30, ``v2beta1`` removed in
1.33) ``/api`` and ``/apis`` answer, when asked for it by content negotiation, with one
``APIGroupDiscoveryList`` holding every group, version and resource: discovery of the
whole server in two requests instead of one per group-version. A server that does not
know the format (kube-apiserver 1.20, or an aggregated API server) ignores the media
type parameters and answers with the legacy ``APIVersions``/``APIGroupList``: the
*answer's* ``Content-Type`` says which form arrived, never the request.

The two versions have the same fields, so one set of structs reads both.
"""

from __future__ import annotations

from email.message import Message

import msgspec

GROUP = "apidiscovery.k8s.io"
LIST_KIND = "APIGroupDiscoveryList"

#: The versions this runtime reads, most preferred first.
VERSIONS = ("v2", "v2beta1")


def media_type(version: str) -> str:
    """The media type asking for the aggregated list in ``version``.

    The apiserver matches the parameters in this order (``g``, ``v``, ``as``), so they
    are always written so; answers are compared without regard to order.
    """
    return f"application/json;g={GROUP};v={version};as={LIST_KIND}"


#: The ``Accept`` header of a discovery request: aggregated v2, then v2beta1 (1.26-1.32
#: servers), then plain JSON, which every server answers with the legacy documents.
ACCEPT = ",".join([*(media_type(v) for v in VERSIONS), "application/json"])


def aggregated_version(content_type: str | None) -> str | None:
    """The aggregated-discovery version an answer's ``Content-Type`` announces, else None.

    Parameters may come in any order and with extras (``charset``, added by a proxy);
    a malformed or absent header is the legacy form, as for client-go.
    """
    if not content_type:
        return None
    header = Message()
    header["content-type"] = content_type
    if header.get_content_type() != "application/json":
        return None
    params = {key.lower(): value for key, value in header.get_params(failobj=[])[1:]}
    if params.get("g") != GROUP or params.get("as") != LIST_KIND:
        return None
    version = params.get("v")
    return version if version in VERSIONS else None


class GroupVersionKind(msgspec.Struct):
    group: str = ""
    version: str = ""
    kind: str = ""


class ObjectMeta(msgspec.Struct):
    name: str = ""


class APISubresourceDiscovery(msgspec.Struct, rename="camel"):
    subresource: str
    response_kind: GroupVersionKind | None = None
    accepted_types: list[GroupVersionKind] = []
    verbs: list[str] = []


class APIResourceDiscovery(msgspec.Struct, rename="camel"):
    resource: str
    response_kind: GroupVersionKind | None = None
    #: ``Namespaced`` or ``Cluster``.
    scope: str = ""
    singular_resource: str = ""
    verbs: list[str] = []
    short_names: list[str] = []
    categories: list[str] = []
    subresources: list[APISubresourceDiscovery] = []


#: A version whose data the server could not refresh (an aggregated API server that is
#: down): the answer still lists it, but its resources are not to be trusted.
FRESHNESS_STALE = "Stale"


class APIVersionDiscovery(msgspec.Struct):
    version: str
    resources: list[APIResourceDiscovery] = []
    freshness: str = ""


class APIGroupDiscovery(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    #: Most preferred first.
    versions: list[APIVersionDiscovery] = []


class APIGroupDiscoveryList(msgspec.Struct, rename="camel"):
    api_version: str = ""
    kind: str = ""
    #: In the server's priority order.
    items: list[APIGroupDiscovery] = []
