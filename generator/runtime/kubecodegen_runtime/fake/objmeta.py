"""Generic object-metadata rules of kube-apiserver: names, generateName, labels, times.

These are the checks every resource gets (apimachinery's ``ValidateObjectMeta``), with
the server's own messages, as ``(cause type, field, message)`` triples that
:func:`~.actions.invalid` turns into a 422 ``Invalid`` Status. Type-specific
validation is out of the fake's scope.
"""

from __future__ import annotations

import datetime
import random
import re

from ..labels import validate_label_key, validate_label_value

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
    """The current time as the API writes it: UTC, whole seconds, ``Z``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_name(base: str, rng: random.Random) -> str:
    """``base`` (cut to 58 characters) and five random characters."""
    suffix = "".join(rng.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
    return base[:MAX_GENERATED_BASE] + suffix


def _quoted(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def name_problems(name: str, rule: str, field: str = "metadata.name") -> list[Cause]:
    """Why ``name`` is not a valid object name under ``rule`` (see
    :func:`~.quirks.name_rule`)."""
    invalid = f"Invalid value: {_quoted(name)}: "
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
    if len(name) > limit:
        causes.append(("FieldValueInvalid", field,
                       f"{invalid}must be no more than {limit} characters"))
    if not pattern.fullmatch(name):
        causes.append(("FieldValueInvalid", field, f"{invalid}{message}"))
    return causes


def label_problems(labels: object, field: str = "metadata.labels") -> list[Cause]:
    """Invalid label keys and values (messages from :mod:`..labels`)."""
    if not isinstance(labels, dict):
        return []
    causes: list[Cause] = []
    for key, value in labels.items():
        try:
            validate_label_key(str(key))
        except ValueError as exc:
            causes.append(("FieldValueInvalid", field,
                           f"Invalid value: {_quoted(str(key))}: {exc}"))
        try:
            validate_label_value(str(value))
        except ValueError as exc:
            causes.append(("FieldValueInvalid", field,
                           f"Invalid value: {_quoted(str(value))}: {exc}"))
    return causes
