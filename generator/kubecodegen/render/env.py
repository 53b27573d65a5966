"""The Jinja2 environment: strict undefined, and the only filters that turn text into code.

Spec text reaches generated code in exactly two forms, both made here: string literals
(:func:`py_string`, via JSON escaping, which is valid Python) and docstring bodies
(:func:`docstring`, which escapes backslashes and quotes so a description can never end
the string it sits in). Identifiers come from ``naming`` and are ASCII by construction.
"""

from __future__ import annotations

import json
import re
import textwrap
import unicodedata
from importlib import resources
from pathlib import Path

import jinja2

_REPO_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def templates_dir() -> Path:
    """The installed copy (``kubecodegen/_templates``) or, in a checkout, ``templates/``."""
    installed = Path(str(resources.files("kubecodegen"))) / "_templates"
    return installed if installed.is_dir() else _REPO_TEMPLATES


def py_string(value: str) -> str:
    """A Python string literal for any text (JSON escaping with ASCII output)."""
    return json.dumps(value, ensure_ascii=True)


def _clean(text: str) -> str:
    """Drop control and format characters (other than newlines and tabs) from spec text."""
    return "".join(
        ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text
    )


def docstring(text: str, indent: int = 4, width: int = 80) -> str:
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
    body = "\n\n".join(paragraphs)
    body = body.replace("\\", "\\\\")
    # A quote that starts a run of quotes, or ends the text, could close the docstring.
    body = re.sub(r'"(?="|$)', r'\\"', body)
    if "\n" not in body:
        return body
    pad = " " * indent
    lines = [(pad + line) if line else "" for line in body.split("\n")]
    return lines[0].lstrip() + "\n" + "\n".join(lines[1:]) + "\n" + pad


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["py_string"] = py_string
    env.filters["docstring"] = docstring
    return env
