"""``Scheme.merge``: one Scheme that decodes and encodes the kinds of two packages."""

from __future__ import annotations

import json

import msgspec
import pytest

from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Object
from kubecodegen_runtime.scheme import UnknownKindError
from tests.generated_packages import import_reference

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}


class Gadget(Object, kw_only=True):
    GVK = GroupVersionKind("example.com", "v1", "Gadget")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    size: int | None = None


def test_left_wins_and_the_right_fills_in() -> None:
    new = import_reference("kube_v1_35")
    old = import_reference("kube_v1_20")
    only_old = sorted(set(old.scheme.kinds()) - set(new.scheme.kinds()),
                      key=lambda g: (g.group, g.version, g.kind))
    assert only_old  # 1.20 serves kinds 1.35 dropped (e.g. extensions/v1beta1)
    merged = new.scheme.merge(old.scheme)
    assert set(merged.kinds()) == set(new.scheme.kinds()) | set(old.scheme.kinds())
    assert type(merged.from_dict(POD)).__module__ == "kube_v1_35.models.core_v1"
    for gvk in only_old:
        old_cls = old.scheme.type_for(gvk)
        assert merged.type_for(gvk) is old_cls
    # an object of the right-hand package decodes to its class and encodes with its GVK
    ingress = {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "i"}}
    decoded = merged.from_dict(ingress)
    assert type(decoded).__module__ == "kube_v1_20.models.extensions_v1beta1"
    assert json.loads(merged.encode(decoded)) == ingress
    # the inputs are unchanged
    with pytest.raises(UnknownKindError):
        new.scheme.type_for(gvk)


def test_registrations_survive_the_merge_and_later_ones_win() -> None:
    kube = import_reference("kube_v1_20")
    other = kube.scheme.merge(kube.scheme)  # a fresh scheme to register on, not the package's
    other.register(Gadget)
    merged = kube.scheme.merge(other)
    gadget = merged.from_dict({"apiVersion": "example.com/v1", "kind": "Gadget", "size": 3})
    assert isinstance(gadget, Gadget) and gadget.size == 3
    assert json.loads(merged.encode(Gadget(size=1))) == {
        "apiVersion": "example.com/v1", "kind": "Gadget", "size": 1}
    assert merged.gvk_for(Gadget) == Gadget.GVK
    with pytest.raises(UnknownKindError):
        kube.scheme.type_for(Gadget.GVK)  # registered on `other` only
