"""scripts/unasync.py's rules: generic (no class of ours is named), applied to any source."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _unasync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sync(source: str) -> str:
    return str(_unasync().transform(source, set()))


def test_any_async_prefixed_name_loses_its_prefix() -> None:
    # names this repository has never used: the rule must not depend on a table of them
    source = "class AsyncGizmoQueue(AsyncIterator[int], _AsyncWidgetBase):\n    pass\n"
    assert _sync(source) == "class GizmoQueue(Iterator[int], _SyncWidgetBase):\n    pass\n"


def test_keywords_dunders_and_prose() -> None:
    source = (
        '"""The async gizmo (async); Async readers."""\n'
        "async def f(self):\n"
        "    async with self.lock:\n"
        "        await self.aclose()\n"
        "    return await self.__aenter__()\n"
    )
    assert _sync(source) == (
        '"""The sync gizmo (sync); Sync readers."""\n'
        "def f(self):\n"
        "    with self.lock:\n"
        "        self.close()\n"
        "    return self.__enter__()\n"
    )


def test_words_containing_async_are_left_alone() -> None:
    source = "import asyncio\nasynchronous = asyncio.Lock\nAsyncio = 1\n"
    assert _sync(source) == source


def test_re_yielding_loops_become_yield_from_even_over_several_lines() -> None:
    source = (
        "async def g(self):\n"
        "    async for item in self.pages(a,\n"
        "                                 b):\n"
        "        yield item\n"
        "    for item in rest:\n"
        "        yield item\n"
        "        count += 1\n"
    )
    assert _sync(source) == (
        "def g(self):\n"
        "    yield from self.pages(a,\n"
        "                                 b)\n"
        "    for item in rest:\n"
        "        yield item\n"
        "        count += 1\n"
    )


def test_every_rule_still_matches_the_real_sources() -> None:
    module = _unasync()
    used: set[str] = set()
    for source_dir, _ in module.PAIRS:
        for path in sorted(source_dir.glob("*.py")):
            module.transform(path.read_text(), used)
    assert used == {name for name, _, _ in module.RULES}
