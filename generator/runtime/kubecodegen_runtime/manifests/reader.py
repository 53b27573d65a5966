"""Reading manifests the way ``kubectl apply -f`` finds and splits them.

Which files (cli-runtime's ``ExpandPathsToFileVisitors``, with ``--recursive``):

* a path named explicitly is read whatever its extension;
* a folder is walked recursively, each folder's entries in sorted (byte) order and a
  sub-folder visited where it sorts, as Go's ``filepath.Walk`` does; inside a folder
  only ``.json``, ``.yaml`` and ``.yml`` files are read. Symbolic links to folders are
  not followed (a link cycle cannot loop), links to files are read;
* a text stream (``sys.stdin``, ``io.StringIO``) is one source named ``<stdin>`` or by
  its ``name``.

Each file is a YAML stream (JSON is YAML) read by :mod:`..yamljson` (go-yaml v2's
scalars, duplicate keys refused); empty documents are skipped but still counted, so
"document 3" is the third document of the file as a person counts them. A document
that is a list (``kind: List``, or any ``...List`` kind with ``items``) is flattened
into its items, recursively, as kubectl's ``FlattenListVisitor`` does.

Everything is checked before any request is made: a document must be a mapping with a
string ``apiVersion`` and ``kind`` and a ``metadata.name`` (server-side apply has no
``generateName``). Problems are collected for every document and raised together as
one :class:`ManifestError`, each naming file, document, item and field.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .. import yamljson

__all__ = ["EXTENSIONS", "Manifest", "ManifestError", "Problem", "Source", "read_manifests"]

#: The extensions kubectl reads inside a folder (``resource.FileExtensions``).
EXTENSIONS = (".json", ".yaml", ".yml")

ManifestSource = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | TextIO


@dataclass(frozen=True)
class Source:
    """Where an object was read: file, 1-based document number, 1-based list item."""

    file: str
    document: int
    item: int | None = None

    def __str__(self) -> str:
        if self.document == 0:  # the file itself (unreadable)
            return self.file
        where = f"{self.file}: document {self.document}"
        return where if self.item is None else f"{where}, item {self.item}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one document; ``field`` is a dotted path (``metadata.name``)."""

    source: Source
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.field + ': ' if self.field else ''}{self.message}"


class ManifestError(ValueError):
    """Manifests that cannot be applied; ``problems`` lists each, naming file,
    document, item and field. Raised before anything is sent to the server."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems]
        super().__init__(lines[0] if len(lines) == 1 else
                         f"{len(lines)} problems in the manifests:\n  " + "\n  ".join(lines))


@dataclass
class Manifest:
    """One object to apply, as read (a JSON value), and where it was read."""

    source: Source
    object: dict[str, Any]
    #: Filled in by the planner.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def api_version(self) -> str:
        value: str = self.object["apiVersion"]
        return value

    @property
    def kind(self) -> str:
        value: str = self.object["kind"]
        return value

    @property
    def name(self) -> str:
        value: str = self.object["metadata"]["name"]
        return value

    @property
    def namespace(self) -> str | None:
        value = self.object["metadata"].get("namespace")
        return value if isinstance(value, str) and value else None


# --- finding files ----------------------------------------------------------------------


def _walk(folder: Path) -> Iterator[Path]:
    """Files under ``folder`` in ``filepath.Walk`` order, filtered by extension."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name.encode("utf-8", "surrogateescape"))
    except OSError as exc:
        raise ManifestError([Problem(Source(str(folder), 0), None,
                                     f"cannot read the folder: {exc.strerror or exc}")]) from None
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        elif path.suffix in EXTENSIONS:
            yield path


def _files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


# --- reading documents ------------------------------------------------------------------


def _documents(text: str | bytes, name: str, problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    number = 0
    try:
        for number, document in enumerate(yamljson.iter_all(text), start=1):
            yield number, document
    except yamljson.YAMLError as exc:
        problems.append(Problem(Source(name, number + 1), None, f"invalid YAML: {exc}"))


def _is_list(obj: dict[str, Any]) -> bool:
    kind = obj.get("kind")
    return isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list)


def check_object(obj: Any, source: Source) -> list[Problem]:
    """What keeps one document from being applied (an empty list when nothing does)."""
    if not isinstance(obj, dict):
        found = "a list" if isinstance(obj, list) else type(obj).__name__
        return [Problem(source, None, f"expected a mapping with apiVersion and kind, found {found}")]
    problems = []
    for member in ("apiVersion", "kind"):
        value = obj.get(member)
        if not isinstance(value, str) or not value:
            problems.append(Problem(source, member, "must be a non-empty string"
                                    if member in obj else "is missing"))
    api_version = obj.get("apiVersion")
    if isinstance(api_version, str) and api_version.count("/") > 1:
        problems.append(Problem(source, "apiVersion", "must be VERSION or GROUP/VERSION"))
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        problems.append(Problem(source, "metadata", "is missing" if metadata is None
                                else "must be a mapping"))
        return problems
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        hint = " (generateName cannot be used with apply)" if "generateName" in metadata else ""
        problems.append(Problem(source, "metadata.name",
                                ("must be a non-empty string" if "name" in metadata else "is missing") + hint))
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        problems.append(Problem(source, "metadata.namespace", "must be a string"))
    return problems


def _flatten(obj: Any, source: Source, out: list[Manifest], problems: list[Problem],
             depth: int = 0) -> None:
    if isinstance(obj, dict) and _is_list(obj) and depth < 8:
        for index, item in enumerate(obj["items"], start=1):
            # Nested lists keep the outermost item number: the one a person can find.
            _flatten(item, Source(source.file, source.document,
                                  source.item if source.item is not None else index),
                     out, problems, depth + 1)
        return
    found = check_object(obj, source)
    if found:
        problems.extend(found)
    else:
        out.append(Manifest(source, obj))


def parse(text: str | bytes, name: str) -> tuple[list[Manifest], list[Problem]]:
    """The objects of one YAML/JSON stream named ``name``, and what is wrong with it."""
    out: list[Manifest] = []
    problems: list[Problem] = []
    for number, document in _documents(text, name, problems):
        if document is None:
            continue
        _flatten(document, Source(name, number), out, problems)
    return out, problems


def read_manifests(source: ManifestSource) -> list[Manifest]:
    """Every object of ``source``, in the order kubectl reads them.

    ``source`` is a path (file or folder), an iterable of paths, or a text stream.
    Raises :class:`ManifestError` listing every problem found in every document.
    """
    out: list[Manifest] = []
    problems: list[Problem] = []
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        found, bad = parse(source.read(), name if isinstance(name, str) else "<stdin>")
        out.extend(found)
        problems.extend(bad)
    else:
        paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        for path in _files(paths):
            try:
                text = path.read_bytes()
            except OSError as exc:
                problems.append(Problem(Source(str(path), 0), None,
                                        f"cannot read the file: {exc.strerror or exc}"))
                continue
            found, bad = parse(text, str(path))
            out.extend(found)
            problems.extend(bad)
    if problems:
        raise ManifestError(problems)
    return out
