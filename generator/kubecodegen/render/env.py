"""The Jinja2 environment: strict undefined, and an escape-by-default policy for Python source.

Spec text comes from whoever may create CRDs in a cluster, so no template may insert it as
it is. Every ``{{ … }}`` goes through :func:`finalize`, which accepts only

* an :class:`~kubecodegen.naming.Identifier` (made, and checked, by ``naming``; re-checked
  here),
* :class:`Code`: text the generator built itself (a type annotation of identifiers, an
  import line, the output of a filter below) -- constructing one is the explicit,
  greppable raw insertion,
* ``int`` and ``bool``,

and raises for anything else, a plain ``str`` above all. Spec text reaches code only
through the filters, which return :class:`Code`:

* ``py_string`` -- a string literal (JSON escaping, which is valid Python);
* ``docstring`` -- the body of a triple-quoted docstring (backslashes and closing quotes
  escaped, so a description can never end the string it sits in);
* ``doc_text`` -- one line of text inside a docstring;
* ``comment`` -- text on a ``#`` line (no line breaks);
* ``idents`` -- a comma-separated list of identifiers;
* ``py_str_set`` -- a ``frozenset`` of string literals;
* ``py_literal`` -- a JSON value (a CRD's schema) as a Python literal of dicts, lists,
  strings, finite numbers, booleans and ``None``.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
import unicodedata
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import jinja2

from ..naming import Identifier, is_safe_identifier

_REPO_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


class Code(str):
    """Python source text the generator built from identifiers, literals and fixed text.

    Inserted verbatim; never construct one from spec text (use the filters).
    """

    __slots__ = ()


_LITERAL_VALUE = r'(?:"(?:[ !#-\[\]-~]|\\[ -~])*"|-?[0-9]+)'
_TYPE_EXPRESSION = re.compile(
    rf"(?:(?<![A-Za-z0-9_.])Literal\[{_LITERAL_VALUE}(?:, {_LITERAL_VALUE})*\]"
    r"|[A-Za-z0-9_.\[\], |])+")  # one character at a time: no nested repetition to backtrack


def type_expression(text: str) -> Code:
    """An annotation built from identifiers (``list[core_v1.Pod] | None``) as :class:`Code`,
    checked to hold nothing but names, dots, brackets, commas and ``|``, and values only as
    the items of a ``Literal[...]``: integers and complete double-quoted printable-ASCII
    string literals (made with :func:`py_string`): no call or statement can hide in one."""
    if not re.match(r"[A-Za-z_]", text) or not _TYPE_EXPRESSION.fullmatch(text):
        raise UnsafeInsertion(f"not a type expression: {text!r}")
    return Code(text)


class UnsafeInsertion(TypeError):
    """A template tried to insert a value that is neither an identifier nor escaped code."""


#: The two spellings of every sync/async pair of generated classes.
SYNC_ASYNC = (Code(""), Code("Async"))


def templates_dir() -> Path:
    """The installed copy (``kubecodegen/_templates``) or, in a checkout, ``templates/``."""
    installed = Path(str(resources.files("kubecodegen"))) / "_templates"
    return installed if installed.is_dir() else _REPO_TEMPLATES


def finalize(value: object) -> object:
    """Jinja2's ``finalize`` hook: the escape-by-default policy described above."""
    if isinstance(value, Identifier):
        if not is_safe_identifier(value):  # pragma: no cover - Identifier checks on creation
            raise UnsafeInsertion(f"not a safe identifier: {value!r}")
        return value
    if isinstance(value, Code) or type(value) in (bool, int):
        return value
    raise UnsafeInsertion(
        f"refusing to insert {type(value).__name__} {_preview(value)} into generated code: "
        "use a filter (py_string, docstring, doc_text, comment, idents) or an identifier "
        "from kubecodegen.naming")


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")


def _python_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def py_string(value: str) -> Code:
    """A Python string literal of exactly ``value``, in printable ASCII.

    JSON escaping covers quotes, backslashes and control characters; what is left outside
    printable ASCII gets Python's ``\\u``/``\\U`` escapes. (JSON's own ASCII mode would write
    a character beyond U+FFFF as a surrogate pair, which Python reads as two characters.)
    """
    if not isinstance(value, str):
        raise UnsafeInsertion(f"py_string expects text, got {type(value).__name__}")
    return Code(_NOT_PRINTABLE_ASCII.sub(_python_escape, json.dumps(value, ensure_ascii=False)))


def py_str_set(values: Iterable[str]) -> Code:
    """``frozenset({"a", "b", })`` (the trailing comma keeps one item per line after black)."""
    items = [py_string(value) for value in values]
    if not items:
        return Code("frozenset()")
    return Code("frozenset({" + "".join(f"{item}, " for item in items) + "})")


def py_literal(value: object, where: str = "value") -> Code:
    """A Python literal equal to the JSON value ``value`` (what ``ast.literal_eval`` reads back).

    Strings and dict keys go through :func:`py_string`; ``True``/``False``/``None``, ints and
    finite floats are written by Python's own ``repr`` of the exact built-in types; lists and
    dicts recurse. Anything else -- a NaN or an infinity (no literal spells them), a str or int
    subclass, a tuple, an object -- is refused with :class:`UnsafeInsertion` naming its place
    (``where`` plus a JSON pointer), so spec text can only ever become data.
    """
    return Code(_literal(value, where, ""))


def _literal(value: object, where: str, pointer: str) -> str:
    if value is None or value is True or value is False:
        return repr(value)
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise UnsafeInsertion(f"{where} at {pointer or '/'}: {value!r} has no Python literal")
        return float.__repr__(value)
    if type(value) is str:
        return py_string(value)
    if type(value) is list:
        return "[" + ", ".join(_literal(item, where, f"{pointer}/{i}") for i, item in enumerate(value)) + "]"
    if type(value) is dict:
        items = []
        for key, item in value.items():
            if type(key) is not str:
                raise UnsafeInsertion(f"{where} at {pointer or '/'}: a key must be text, got {_preview(key)}")
            token = key.replace("~", "~0").replace("/", "~1")
            items.append(f"{py_string(key)}: {_literal(item, where, f'{pointer}/{token}')}")
        return "{" + ", ".join(items) + "}"
    raise UnsafeInsertion(f"{where} at {pointer or '/'}: refusing {type(value).__name__} {_preview(value)} "
                          "(only JSON values become literals)")


def idents(values: Iterable[object]) -> Code:
    """Identifiers joined by ``", "`` (an import list); anything else is refused."""
    names = []
    for value in values:
        if not isinstance(value, Identifier):
            raise UnsafeInsertion(f"idents expects identifiers, got {_preview(value)}")
        names.append(str(value))
    return Code(", ".join(names))


def _clean(text: str) -> str:
    """Drop control and format characters (other than newlines and tabs) from spec text."""
    return "".join(
        ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text
    )


def _escape_docstring(body: str) -> str:
    body = body.replace("\\", "\\\\")
    # A quote that starts a run of quotes, or ends the text, could close the docstring.
    return re.sub(r'"(?="|$)', r'\\"', body)


def docstring(text: str, indent: int = 4, width: int = 80) -> Code:
    """The body of a triple-quoted docstring: wrapped paragraphs, safely escaped.

    Continuation lines are indented by ``indent`` spaces and a multi-line body ends
    with a newline, so the closing quotes stand on their own line (PEP 257).
    """
    text = _clean(text).replace("\r", "").strip()
    paragraphs = [
        textwrap.fill(" ".join(p.split()), width=width, break_long_words=False,
                      break_on_hyphens=False)
        for p in text.split("\n\n") if p.strip()
    ]
    body = _escape_docstring("\n\n".join(paragraphs))
    if "\n" not in body:
        return Code(body)
    pad = " " * indent
    lines = [(pad + line) if line else "" for line in body.split("\n")]
    return Code(lines[0].lstrip() + "\n" + "\n".join(lines[1:]) + "\n" + pad)


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def doc_text(text: str) -> Code:
    """Text inside one line of a docstring: whitespace collapsed, every quote escaped."""
    return Code(_one_line(text).replace("\\", "\\\\").replace('"', '\\"'))


def comment(text: str) -> Code:
    """Text for the rest of a ``#`` comment line: no line break can end the comment."""
    return Code(_one_line(text))


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update({
        "py_string": py_string, "py_str_set": py_str_set, "py_literal": py_literal, "idents": idents,
        "docstring": docstring, "doc_text": doc_text, "comment": comment,
    })
    env.globals["sync_async"] = SYNC_ASYNC
    return env
