"""The pure glue of the typed clients: bodies, names, pages, log lines; unasync in sync."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest

from kubecodegen_runtime.client import ops
from kubecodegen_runtime.meta import GroupVersionKind
from kubecodegen_runtime.model import Object
from kubecodegen_runtime.rest.options import PatchType
from kubecodegen_runtime.rest.response import Response

ROOT = Path(__file__).resolve().parents[2]


class Meta(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str | None = None
    namespace: str | None = None


class Widget(Object, kw_only=True):
    GVK: ClassVar[GroupVersionKind] = GroupVersionKind("example.com", "v1", "Widget")
    api_version: str | None = msgspec.field(default=None, name="apiVersion")
    kind: str | None = None
    metadata: Meta | None = None
    size: int | None = None


def test_typed_objects_are_sent_with_type_meta_and_left_unchanged() -> None:
    w = Widget(metadata=Meta(name="w"), size=3)
    body = json.loads(ops.encode_object(w))
    assert body == {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
                    "size": 3}
    assert w.api_version is None and w.kind is None


def test_dicts_and_bytes_are_sent_as_given() -> None:
    assert json.loads(ops.encode_object({"a": 1})) == {"a": 1}
    assert ops.encode_object(b"raw") == b"raw"


def test_patch_bodies() -> None:
    assert ops.encode_patch('{"a":1}', PatchType.MERGE) == b'{"a":1}'
    assert json.loads(ops.encode_patch([{"op": "remove", "path": "/x"}], PatchType.JSON)) == [
        {"op": "remove", "path": "/x"}]
    with pytest.raises(TypeError, match="list of operations"):
        ops.encode_patch({"op": "remove"}, PatchType.JSON)
    applied = json.loads(ops.encode_patch(Widget(metadata=Meta(name="w")), PatchType.APPLY))
    assert applied["kind"] == "Widget"


def test_names_and_namespaces_of_objects() -> None:
    assert ops.name_of(Widget(metadata=Meta(name="w")), "update") == "w"
    assert ops.name_of({"metadata": {"name": "d"}}, "update") == "d"
    for nameless in (Widget(), Widget(metadata=Meta()), {"metadata": {}}, {}):
        with pytest.raises(ValueError, match=r"update needs an object with metadata\.name"):
            ops.name_of(nameless, "update")
    ops.check_namespace(Widget(metadata=Meta(namespace="a")), "a", "create")
    ops.check_namespace(Widget(metadata=Meta()), "a", "create")
    with pytest.raises(ValueError, match="namespace 'b' but this client is bound to 'a'"):
        ops.check_namespace({"metadata": {"namespace": "b"}}, "a", "create")


def test_pages_decode_items_and_continue_token() -> None:
    body = (b'{"kind":"WidgetList","metadata":{"continue":"c1","resourceVersion":"9"},'
            b'"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}')
    page = ops.decode(Response(200, (), body), ops.page_type(Widget))
    assert [w.metadata.name for w in page.items] == ["a", "b"]
    assert page.continue_token == "c1"
    last = ops.decode(Response(200, (), b'{"metadata":{"continue":""},"items":null}'),
                      ops.page_type(dict[str, Any]))
    assert last.continue_token is None and last.items is None


def test_object_or_status() -> None:
    status = ops.decode_or_status(Response(200, (), b'{"kind":"Status","status":"Success"}'),
                                  Widget)
    assert status.status == "Success"
    obj = ops.decode_or_status(Response(200, (), b'{"kind":"Widget","size":1}'), Widget)
    assert isinstance(obj, Widget) and obj.size == 1


@pytest.mark.parametrize("seed", range(10))
def test_log_lines_survive_any_split(seed: int) -> None:
    text = "".join(f"line {i} ✓ ünïcødé\n" for i in range(50)) + "partial"
    data = text.encode()
    rnd = random.Random(seed)
    decoder = ops.LineDecoder()
    lines: list[str] = []
    pos = 0
    while pos < len(data):
        step = rnd.randint(1, 17)
        lines.extend(decoder.feed(data[pos:pos + step]))
        pos += step
    lines.extend(decoder.close())
    assert lines == text.split("\n")


def test_sync_clients_are_generated_from_async_sources() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts/unasync.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
