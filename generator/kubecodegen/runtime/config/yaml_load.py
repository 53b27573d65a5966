"""Parse kubeconfig YAML safely: hostile structure is a ConfigError, never a crash.

PyYAML's safe loader is safe against code execution but not against three structural
attacks, each of which used to end in an untyped exception:

* **alias bombs** ("billion laughs"): nine anchors, each a list of ten aliases of the
  previous one, expand to 10^9 nodes; the loader shares them, but everything that walks
  the document (the schema validator, our resolution code) pays the full expansion;
* **recursive aliases** (``&a [*a]``): the loader builds a self-containing list and any
  walk recurses forever (RecursionError);
* **deep nesting** (``[[[[...]]]]`` a few thousand deep): PyYAML's composer recurses once
  per level (RecursionError).

A first pass over the parser's *event stream* (which PyYAML produces without recursion)
measures nesting depth and the node count after alias expansion and rejects recursive
aliases, before the composer builds anything. go-yaml, which kubectl uses, has the same
kind of guard against excessive aliasing.

Timestamps are not resolved (kubectl converts YAML to JSON first, so an unquoted
``2024-01-01`` is a string there), and messages never quote source lines, which may hold
a token.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import ConfigError

MAX_DEPTH = 64
"""Deepest nesting accepted (a kubeconfig needs about eight levels; extensions a few more)."""

MAX_EXPANDED_NODES = 1_000_000
"""Most nodes a document may have once every alias is expanded."""


class _Loader(yaml.SafeLoader):
    """Safe YAML loading without timestamp resolution (see the module docstring)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _StructureError(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def parse_yaml(text: str, file: str | None) -> object:
    """The single document in ``text`` as Python data, or a ConfigError naming ``file``."""
    try:
        _check_structure(text)
        return yaml.load(text, Loader=_Loader)
    except _StructureError as exc:
        raise ConfigError(f"invalid YAML{_where(exc.mark)}: {exc.message}", file=file) from None
    except yaml.MarkedYAMLError as exc:
        # Only the position and PyYAML's problem statement: its full str() quotes the
        # offending source line, which may hold a token.
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "syntax error"
        if exc.problem and exc.context:
            started = exc.context_mark
            detail += f" ({exc.context}" + (
                f" started at line {started.line + 1})" if started else ")"
            )
        raise ConfigError(f"invalid YAML{_where(mark)}: {detail}", file=file) from None
    except yaml.YAMLError:
        raise ConfigError("invalid YAML", file=file) from None


def _where(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _check_structure(text: str) -> None:
    """Reject deep nesting, recursive aliases and excessive alias expansion.

    Each open collection keeps its expanded size; an anchored node's size is recorded
    when it closes, and an alias adds that size wherever it is used.
    """
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, expanded size so far)
    sizes: dict[str, int] = {}
    total = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                raise _StructureError(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
            open_nodes.append((event.anchor, 1))
            total += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = size
            _add(open_nodes, size)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            _add(open_nodes, 1)
            total += 1
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_nodes):
                raise _StructureError(
                    "an alias refers to the node that contains it (recursive alias)",
                    event.start_mark,
                )
            # An undefined alias is left for the composer to report.
            size = sizes.get(event.anchor or "", 1)
            _add(open_nodes, size)
            total += size
        if total > MAX_EXPANDED_NODES:
            raise _StructureError(
                f"the document expands to more than {MAX_EXPANDED_NODES} nodes "
                "(excessive use of aliases)",
                event.start_mark,
            )


def _add(open_nodes: list[tuple[str | None, int]], size: int) -> None:
    if open_nodes:
        anchor, current = open_nodes[-1]
        open_nodes[-1] = (anchor, current + size)
