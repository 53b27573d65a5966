"""Kubernetes' own rules for the names a spec gives API groups, versions, kinds and resources.

The API server enforces these on every CRD (apiextensions validation), and kube-apiserver's
built-in APIs follow them, so a spec whose names break them was not served by a real
cluster. Checking them when a spec is loaded keeps hostile text out of everything built
from these names, whatever escaping happens later. Each function returns ``None`` for a
valid name, else a sentence saying what was expected.

* group: ``""`` (the legacy core group) or a DNS-1123 subdomain (``apps``, ``cert-manager.io``);
* version: a DNS-1035 label (``v1``, ``v2beta1``);
* kind: a DNS-1035 label once lowercased (mixed case allowed: ``ConfigMap``);
* resource (the plural in a path) and subresource: a DNS-1035 label.
"""

from __future__ import annotations

import re

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_LABEL_MAX = 63
_SUBDOMAIN_MAX = 253


def _dns1035(name: str, what: str, *, mixed_case: bool = False) -> str | None:
    text = name.lower() if mixed_case and name.isascii() else name
    if len(name) > _LABEL_MAX:
        return f"{what} must be at most {_LABEL_MAX} characters"
    if not _DNS1035_LABEL.fullmatch(text):
        case = "letters" if mixed_case else "lowercase letters"
        return (f"{what} must consist of {case}, digits and '-', start with a letter and "
                "end with a letter or digit (DNS-1035 label)")
    return None


def group_problem(group: str) -> str | None:
    if group == "":
        return None
    if len(group) > _SUBDOMAIN_MAX:
        return f"an API group must be at most {_SUBDOMAIN_MAX} characters"
    if not _DNS1123_SUBDOMAIN.fullmatch(group) or any(
            len(label) > _LABEL_MAX for label in group.split(".")):
        return ("an API group must be empty (the core group) or a DNS-1123 subdomain: "
                "lowercase letters, digits, '-' and '.', each label starting and ending "
                "with a letter or digit")
    return None


def version_problem(version: str) -> str | None:
    return _dns1035(version, "an API version")


def kind_problem(kind: str) -> str | None:
    return _dns1035(kind, "a kind", mixed_case=True)


def resource_problem(resource: str) -> str | None:
    return _dns1035(resource, "a resource name")


def subresource_problem(subresource: str) -> str | None:
    return _dns1035(subresource, "a subresource name")


def info_text_problem(text: str, max_length: int = 200) -> str | None:
    """``info.title`` / ``info.version``: one printable line (``v1.20.2``, ``Kubernetes``)."""
    if len(text) > max_length:
        return f"must be at most {max_length} characters"
    if not text.isprintable():
        return "must be printable text on one line (no control characters or line breaks)"
    return None
