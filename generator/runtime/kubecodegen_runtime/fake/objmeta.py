"""Generic object-metadata rules of kube-apiserver: names, generateName, labels, times.

These are the checks every resource gets (apimachinery's ``ValidateObjectMeta``), with
the server's own messages, as ``(cause type, field, message)`` triples that
:func:`~.actions.invalid` turns into a 422 ``Invalid`` Status. Type-specific
validation is out of the fake's scope.
"""

from __future__ import annotations

import functools
import random
import re
import time

from .gofmt import go_quote

Cause = tuple[str, str, str]

_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")

SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    r"regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*"
    r"[a-z0-9])?)*')"
)
LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
    "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
    "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)

#: The alphabet of generated name suffixes (apimachinery's ``utilrand.String``: no
#: vowels, no confusable characters).
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX_LENGTH = 5
#: A generateName is cut to this length before the suffix is added.
MAX_GENERATED_BASE = 63 - SUFFIX_LENGTH


def now() -> str:
    """The current time as the API writes it: UTC, whole seconds, ``Z`` (formatted once
    per second: every write asks for it, some several times)."""
    global _now
    second = int(time.time())
    cached = _now
    if cached[0] != second:
        cached = _now = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return cached[1]


_now: tuple[int, str] = (-1, "")


#: Where uids come from: not a cryptographic source (a fake cluster's uids only need to
#: be unique), so that a create does not wait on ``os.urandom``.
_UIDS = random.Random()


#: The version (4) and variant (RFC 4122) bits of a UUID: cleared by the mask, set by
#: the bits (one ``&`` and one ``|`` on the 128-bit number; the two fields do not overlap).
_UUID_MASK = ~(0xF000 << 64) & ~(0xC000 << 48)
_UUID_BITS = (0x4000 << 64) | (0x8000 << 48)


def new_uid() -> str:
    """A random (version 4) UUID in its text form, as the server gives every object."""
    text = f"{_UIDS.getrandbits(128) & _UUID_MASK | _UUID_BITS:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def generate_name(base: str, rng: random.Random) -> str:
    """``base`` (cut to 58 characters) and five random characters."""
    suffix = "".join(rng.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
    return base[:MAX_GENERATED_BASE] + suffix


def name_problems(name: str, rule: str, field: str = "metadata.name", *,
                  prefix: bool = False) -> list[Cause]:
    """Why ``name`` is not a valid object name under ``rule`` (see
    :func:`~.quirks.name_rule`). ``prefix``: ``name`` is a generateName, whose trailing
    ``-`` is allowed (apimachinery's ``maskTrailingDash``). (The answers are cached:
    every write checks its object's name again.)"""
    if not prefix and rule == "subdomain" and len(name) <= 253 and _SUBDOMAIN.fullmatch(name):
        # The usual answer, checked as _find_name_problems checks it (a subdomain name
        # within its length has no problems), without the cache: most names a test
        # writes are new, so looking them up and keeping them costs more than the regex.
        return []
    return list(_name_problems(name, rule, field, prefix))


@functools.lru_cache(maxsize=4096)
def _name_problems(name: str, rule: str, field: str, prefix: bool) -> tuple[Cause, ...]:
    return tuple(_find_name_problems(name, rule, field, prefix))


def _find_name_problems(name: str, rule: str, field: str, prefix: bool) -> list[Cause]:
    checked = name[:-1] + "a" if prefix and len(name) > 1 and name.endswith("-") else name
    invalid = f"Invalid value: {go_quote(name)}: "
    causes: list[Cause] = []
    if rule == "path":
        for bad in (".", ".."):
            if name == bad:
                causes.append(("FieldValueInvalid", field, f"{invalid}may not be '{bad}'"))
        for bad in ("/", "%"):
            if bad in name:
                causes.append(("FieldValueInvalid", field, f"{invalid}may not contain '{bad}'"))
        return causes
    limit, pattern, message = (
        (63, _LABEL, LABEL_MESSAGE) if rule == "label" else (253, _SUBDOMAIN, SUBDOMAIN_MESSAGE)
    )
    if len(checked) > limit:
        causes.append(("FieldValueInvalid", field,
                       f"{invalid}must be no more than {limit} characters"))
    if not pattern.fullmatch(checked):
        causes.append(("FieldValueInvalid", field, f"{invalid}{message}"))
    return causes


_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
QUALIFIED_MESSAGE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def qualified_name_problems(key: str) -> list[str]:
    """apimachinery's ``IsQualifiedName``: ``[prefix/]name`` as label and annotation keys."""
    parts = key.split("/")
    if len(parts) > 2:
        return ["a qualified name " + QUALIFIED_MESSAGE + " with an optional DNS subdomain "
                "prefix and '/' (e.g. 'example.com/MyName')"]
    problems: list[str] = []
    if len(parts) == 2:
        prefix, name = parts
        if not prefix:
            problems.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                problems.append("prefix part must be no more than 253 characters")
            if not _SUBDOMAIN.fullmatch(prefix):
                problems.append("prefix part " + SUBDOMAIN_MESSAGE)
    else:
        name = parts[0]
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    if name and not _QUALIFIED.fullmatch(name):
        problems.append("name part " + QUALIFIED_MESSAGE)
    return problems


def label_value_problems(value: str) -> list[str]:
    problems: list[str] = []
    if len(value) > 63:
        problems.append("must be no more than 63 characters")
    if not _LABEL_VALUE.fullmatch(value):
        problems.append(LABEL_VALUE_MESSAGE)
    return problems


def label_problems(labels: object, field: str = "metadata.labels") -> list[Cause]:
    """Invalid label keys and values, with the server's messages."""
    if not isinstance(labels, dict):
        return []
    causes: list[Cause] = []
    for key, value in labels.items():
        found = _label_problems(str(key), str(value), field)
        if found:
            causes += found
    return causes


@functools.lru_cache(maxsize=4096)
def _label_problems(key: str, value: str, field: str) -> tuple[Cause, ...]:
    """One label's problems (cached: a test's labels are few, and checked on every write)."""
    return (*(("FieldValueInvalid", field, f"Invalid value: {go_quote(key)}: {p}")
              for p in qualified_name_problems(key)),
            *(("FieldValueInvalid", field, f"Invalid value: {go_quote(value)}: {p}")
              for p in label_value_problems(value)))
