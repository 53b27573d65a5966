"""YAML manifests read as JSON values, the way kubectl reads them.

kubectl never hands YAML to the API server: sigs.k8s.io/yaml parses each document with
go-yaml v2 into plain values and re-encodes them as JSON, and only that JSON means
anything. PyYAML's own reading differs in ways that change manifests (YAML 1.1's ``=``
value tag fails, timestamps become ``date`` objects, ``1e3`` stays a string), so this
module replaces its resolver and constructor with go-yaml v2's rules, in one place:

* **plain scalars** (unquoted, not block) are resolved by go-yaml's table: ``""``, ``~``,
  ``null``/``Null``/``NULL`` are null; ``y Y yes Yes YES true True TRUE on On ON`` are
  true and ``n N no No NO false False FALSE off Off OFF`` false; a scalar starting with a
  digit or sign is an integer when Go's ``ParseInt``/``ParseUint`` (base prefix
  ``0x``/``0o``/``0b``, a leading ``0`` meaning octal, ``_`` ignored) accepts it, else
  a float when it matches go-yaml's float pattern (``1e3``, ``.5``, ``-1.``); ``.inf``,
  ``.nan`` and friends are floats; everything else -- including ``=`` and timestamps,
  which go-yaml keeps as text for untyped targets -- is a string;
* **quoted and block scalars** are strings; explicit ``!!int``/``!!float``/``!!bool``/
  ``!!null`` tags resolve like go-yaml, ``!!binary`` is decoded, other tags are ignored;
* **JSON conversion** (sigs.k8s.io/yaml, then Go's ``encoding/json``): keys become strings
  (``1`` -> ``"1"``, ``yes`` -> ``"true"``, floats in Go's 32-bit ``%g``), a null or
  collection key is an error; a float is written as Go writes it, so an integral one
  (``1e3``) is the integer ``1000``; ``.inf``/``.nan`` cannot be JSON and are an error,
  as in kubectl;
* **merge keys** (``<<``) apply where they stand, as in go-yaml v2.

Two deliberate differences: a **duplicate key** is an error (the YAML spec forbids it
and go-yaml keeps the last silently, which hides typos), and the input is **bounded**:
aliases may add at most :data:`MAX_ALIAS_VALUES` values (or as many as the document
itself has, if more), nesting is limited to :data:`MAX_DEPTH` levels and recursive
aliases are refused -- a billion-laughs document is a :class:`YAMLError` in
milliseconds, not a MemoryError. Values built from an alias are copies, so editing one
place never changes another.

The values are built straight from PyYAML's event stream, without its recursive
composer, so deep input cannot overflow the Python stack. Error messages give the
problem and position but never quote the source line (it may be a Secret).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import yaml

__all__ = ["MAX_ALIAS_VALUES", "MAX_DEPTH", "ManifestLoader", "YAMLError", "iter_all", "load_all"]

MAX_DEPTH = 200
"""Deepest nesting accepted (large CRD schemas nest a few dozen levels)."""

MAX_ALIAS_VALUES = 100_000
"""Values aliases may add on top of the document's own (more if the document is larger)."""

_TAG = "tag:yaml.org,2002:"
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
_INT64 = (-(2**63), 2**63 - 1)
_UINT64_MAX = 2**64 - 1
_DIGITS = {2: frozenset("01"), 8: frozenset("01234567"), 10: frozenset("0123456789"),
           16: frozenset("0123456789abcdefABCDEF")}

# go-yaml v2's resolve table: exact spellings only ("tRUE" is a string).
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
                     "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE",
                     "off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
}
_NUMBER_START = frozenset("+-0123456789")


class YAMLError(ValueError):
    """A YAML stream that kubectl would not read either (or that exceeds the bounds).

    ``line``/``column`` are 1-based when known. The message never quotes the input.
    """

    def __init__(self, problem: str, mark: Any = None) -> None:
        self.problem = problem
        self.line = mark.line + 1 if mark is not None else None
        self.column = mark.column + 1 if mark is not None else None
        where = f" at line {self.line}, column {self.column}" if mark is not None else ""
        super().__init__(f"{problem}{where}")


# --- go-yaml v2's scalar resolution -----------------------------------------------------


def _go_parse_int(text: str, signed: bool) -> int | None:
    """``strconv.ParseInt(text, 0, 64)`` (or ``ParseUint`` when not ``signed``)."""
    body, negative = text, False
    if signed and body[:1] in ("+", "-"):
        negative, body = body[0] == "-", body[1:]
    if len(body) > 1 and body[0] == "0" and body[1] in "xXoObB":
        base = {"x": 16, "o": 8, "b": 2}[body[1].lower()]
        digits = body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    if not digits or not _DIGITS[base].issuperset(digits):
        return None
    value = -int(digits, base) if negative else int(digits, base)
    low, high = _INT64 if signed else (0, _UINT64_MAX)
    return value if low <= value <= high else None


def _go_parse_float(text: str, pattern: re.Pattern[str]) -> float | None:
    """``strconv.ParseFloat`` for text the pattern admits; None where Go reports a range error."""
    if not pattern.fullmatch(text):
        return None
    value = float(text)
    return None if value in (float("inf"), float("-inf")) else value


def resolve_plain(text: str) -> Any:
    """The value go-yaml v2 gives an untagged plain scalar (before JSON conversion)."""
    if text in _WORDS:  # every spelling starts with a character go-yaml looks up
        return _WORDS[text]
    first = text[:1]
    if first == ".":
        value = _go_parse_float(text, _DOT_FLOAT)
        return text if value is None else value
    if first and first in _NUMBER_START:
        plain = text.replace("_", "")
        for signed in (True, False):
            number = _go_parse_int(plain, signed)
            if number is not None:
                return number
        value = _go_parse_float(plain, _FLOAT)
        if value is not None:
            return value
    return text


def _resolve_tagged(tag: str, text: str, mark: Any) -> Any:
    """A scalar with an explicit tag: go-yaml's resolve, which must agree with the tag."""
    if tag == _TAG + "str" or tag == _TAG + "timestamp":
        return text
    if tag == _TAG + "binary":
        try:
            raw = base64.b64decode(text.replace("\n", "").replace(" ", ""), validate=True)
        except (binascii.Error, ValueError):
            raise YAMLError("cannot decode !!binary value: not base64", mark) from None
        return raw.decode("utf-8", errors="replace")  # as Go's JSON encoder does
    wanted = {_TAG + "int": int, _TAG + "float": float, _TAG + "bool": bool,
              _TAG + "null": type(None)}.get(tag)
    if wanted is None:  # local or unknown tags: go-yaml keeps the text
        return text
    value = resolve_plain(text)
    if type(value) is wanted:
        return value
    if wanted is float and type(value) is int:
        return float(value)
    raise YAMLError(f"cannot decode the scalar as {tag.replace(_TAG, '!!')}", mark)


# --- JSON conversion (sigs.k8s.io/yaml, then Go's encoding/json) --------------------------


def _json_number(value: float, mark: Any) -> int | float:
    """A float as Go's JSON encoder writes it, read back: integral values are integers."""
    if value != value or value in (float("inf"), float("-inf")):
        raise YAMLError("a value of .inf or .nan cannot be converted to JSON", mark)
    if value.is_integer() and abs(value) < 1e21:
        # Go prints the shortest round-trip digits (1.2345678901234568e+20 is written
        # 123456789012345680000), which is what repr gives; int(value) would differ.
        return int(Decimal(repr(value)))
    return value


def _go_float32_g(value: float) -> str:
    """``strconv.FormatFloat(value, 'g', -1, 32)``: how sigs.k8s.io/yaml names a float key."""
    # A float64 beyond float32's range becomes an infinity on conversion, as in Go.
    single = struct.unpack("f", struct.pack("f", value))[0]
    if single != single:
        return ".nan"
    if single in (float("inf"), float("-inf")):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if str(single).startswith("-") else "0"
    for precision in range(1, 10):  # the shortest digits that read back as the same float32
        text = f"{single:.{precision - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text)
    digits = mantissa.replace(".", "").lstrip("-")
    sign = "-" if single < 0 else ""
    if exponent < -4 or exponent >= 6:  # Go: shortest %g switches to %e at these exponents
        fraction = f".{digits[1:]}" if len(digits) > 1 else ""
        return f"{sign}{digits[0]}{fraction}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    whole, rest = digits[: exponent + 1], digits[exponent + 1 :]
    return f"{sign}{whole.ljust(exponent + 1, '0')}{'.' + rest if rest else ''}"


def _json_key(value: Any, mark: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float32_g(value)
    raise YAMLError("a mapping key must be a string, number or boolean (JSON has only "
                    f"string keys), found {'null' if value is None else 'a collection'}", mark)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# --- the loader --------------------------------------------------------------------------


class _Open:
    """A collection being built: its value, anchor, expanded size and pending key."""

    __slots__ = ("anchor", "key", "key_mark", "merged", "size", "value")

    def __init__(self, value: dict[str, Any] | list[Any], anchor: str | None) -> None:
        self.value = value
        self.anchor = anchor
        self.size = 1
        self.key: Any = _NO_KEY
        self.key_mark: Any = None
        self.merged: set[str] = set()  # keys that came from a merge (may be overridden)


_NO_KEY = object()
_MERGE = object()  # the key of a merge entry


class JSONValuesFromEvents:
    """Builds JSON values from a PyYAML parser's events (mixed into a loader class).

    Only the parser's event stream is used: PyYAML's resolver and constructors never run.
    """

    if TYPE_CHECKING:  # provided by the PyYAML parser this is mixed with
        def get_event(self) -> Any: ...

        def check_event(self, *choices: Any) -> bool: ...

    def documents(self) -> Iterator[Any]:
        """Every document of the stream as a JSON value (``None`` for an empty one)."""
        self._event()  # StreamStart
        while not self.check_event(yaml.StreamEndEvent):
            self._event()  # DocumentStart
            yield self._document()
            self._event()  # DocumentEnd

    def _event(self) -> Any:
        return self.get_event()

    def _document(self) -> Any:
        anchors: dict[str, tuple[Any, int]] = {}
        stack: list[_Open] = []
        own_values = 0
        alias_values = 0
        result: Any = None
        while True:
            event = self._event()
            mark = event.start_mark
            anchor = getattr(event, "anchor", None)
            if isinstance(event, yaml.AliasEvent):
                if any(entry.anchor == event.anchor for entry in stack):
                    raise YAMLError("an alias refers to a node that contains it "
                                    "(recursive alias)", mark)
                if event.anchor not in anchors:
                    raise YAMLError("an alias refers to an undefined anchor", mark)
                value, size = anchors[event.anchor]
                alias_values += size
                if alias_values > max(MAX_ALIAS_VALUES, own_values):
                    raise YAMLError(
                        "the document expands to too many values through aliases "
                        f"(more than {max(MAX_ALIAS_VALUES, own_values)} added)", mark)
                done, size_done = _copy(value), size
            elif isinstance(event, yaml.ScalarEvent):
                own_values += 1
                if event.implicit[0] and event.tag in (None, "!"):
                    done = resolve_plain(event.value) if not event.style else event.value
                elif event.tag in (None, "!"):
                    done = event.value
                else:
                    done = _resolve_tagged(event.tag, event.value, mark)
                is_key = bool(stack) and isinstance(stack[-1].value, dict) and \
                    stack[-1].key is _NO_KEY
                if is_key and event.value == "<<" and not event.style and (
                        event.implicit[0] or event.tag == _TAG + "merge"):
                    done = _MERGE
                elif isinstance(done, float) and not is_key:  # keys: see _json_key
                    done = _json_number(done, mark)
                size_done = 1
                if anchor is not None:
                    anchors[anchor] = (done, 1)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                own_values += 1
                if len(stack) >= MAX_DEPTH:
                    raise YAMLError(f"nesting deeper than {MAX_DEPTH} levels", mark)
                container: dict[str, Any] | list[Any] = \
                    {} if isinstance(event, yaml.MappingStartEvent) else []
                stack.append(_Open(container, anchor))
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                closed = stack.pop()
                done, size_done = closed.value, closed.size
                if closed.anchor is not None:
                    anchors[closed.anchor] = (done, size_done)
            else:  # pragma: no cover - the parser emits nothing else inside a document
                raise YAMLError(f"unexpected YAML event {type(event).__name__}", mark)
            if not stack:
                result = done
                break
            self._add(stack[-1], done, size_done, mark)
        return result

    @staticmethod
    def _add(parent: _Open, value: Any, size: int, mark: Any) -> None:
        parent.size += size
        container = parent.value
        if isinstance(container, list):
            container.append(value)
            return
        if parent.key is _NO_KEY:
            parent.key = value if value is _MERGE else _json_key(value, mark)
            parent.key_mark = mark
            return
        key, parent.key = parent.key, _NO_KEY
        if key is _MERGE:
            _merge(parent, value, parent.key_mark)
            return
        if key in container and key not in parent.merged:
            raise YAMLError(f"duplicate mapping key {key!r}", parent.key_mark)
        parent.merged.discard(key)
        container[key] = value


# libyaml's parser when PyYAML has it (ten times faster on large manifests), else PyYAML's.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestLoader(JSONValuesFromEvents, _SafeLoader):  # type: ignore[misc]
    """PyYAML's safe scanner and parser with go-yaml v2's resolver and JSON values.

    Use :func:`load_all`; :meth:`documents` yields one JSON value per document.
    """


def _merge(parent: _Open, value: Any, mark: Any) -> None:
    """Apply a ``<<`` entry as go-yaml v2 does: in place, earlier maps of a list winning."""
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(source, dict) for source in sources):
        raise YAMLError("a merge key (<<) needs a mapping or a list of mappings", mark)
    assert isinstance(parent.value, dict)
    for source in reversed(sources):
        for key, item in source.items():
            parent.value[key] = item
            parent.merged.add(key)


def load_all(text: str | bytes) -> list[Any]:
    """Every document of a YAML stream as JSON values, as kubectl would send them.

    Raises :class:`YAMLError` naming the problem and its position.
    """
    return list(iter_all(text))


def iter_all(text: str | bytes) -> Iterator[Any]:
    """The documents of a YAML stream one by one, as :func:`load_all` reads them.

    A syntax error is raised when the document holding it is reached, so a caller that
    counts the documents it received knows which one is broken.
    """
    loader = ManifestLoader(text)
    try:
        yield from loader.documents()
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "syntax error"
        if exc.problem and exc.context:
            problem = f"{exc.problem} ({exc.context})"
        raise YAMLError(problem, exc.problem_mark or exc.context_mark) from None
    except yaml.YAMLError as exc:
        raise YAMLError(f"invalid YAML ({type(exc).__name__})") from None
    finally:
        loader.dispose()
