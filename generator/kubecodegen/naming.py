"""Every identifier the generator writes is made here, and only here.

Spec strings (property names, definition names, group names, plurals) come from
whoever may create CRDs in a cluster, so every function below maps arbitrary text to a
plain ASCII Python identifier and never lets text through unchanged. Rules:

* attributes are snake_case with acronyms kept whole: ``podIPs`` → ``pod_ips``,
  ``hostIP`` → ``host_ip``, ``apiVersion`` → ``api_version``, and digits glued to their
  letters (``v1beta1``, ``k8s``, ``x509``, ``http2``; ``consecutive5xxErrors`` →
  ``consecutive_5xx_errors``, ``openAPIV3Schema`` → ``open_api_v3_schema``: see ``_WORD``);
* keywords, the soft keywords of Python 3.10 and names the generated modules use in
  annotations get a trailing ``_`` (``continue_``, ``from_``, ``match_``, ``list_``) --
  by the fixed lists below, never by the ``keyword`` module of whichever Python runs the
  generator, so the output is the same under every Python;
* collisions after mapping are resolved deterministically: a wire name that is already
  its own snake_case keeps it, the others are numbered in wire order;
* a CRD's inline class names longer than 80 characters are shortened by a rule that
  reads only their own path (:func:`inline_class_name`);
* group names are stable: Kubernetes' built-in groups have fixed short names, every other
  group is named after all its labels, and a hash suffix goes only to a newcomer whose
  name would otherwise coincide with one already taken -- never to a built-in group.

Every name meant for generated code leaves this module as an :class:`Identifier`, the only
kind of spec-derived text the templates insert without a filter (see ``render/env.py``);
the word-splitting helpers (``snake_case``, ``pascal_case``) return plain text for composing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

#: Python's reserved words (3.10 to 3.14 have the same list). Written out rather than read
#: from ``keyword.kwlist`` so that the generated code cannot depend on the generator's
#: Python; a test checks that the running Python has no keyword missing here.
PYTHON_KEYWORDS = frozenset(
    {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from",
        "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass",
        "raise", "return", "try", "while", "with", "yield",
    }
)
#: Soft keywords are valid identifiers. Those of Python 3.10 get the ``_`` suffix, as they
#: always have (``match_``); ``type`` (a soft keyword since 3.12) is kept as it is, because
#: 49 Kubernetes fields are called ``type`` and their names are published API.
ESCAPED_SOFT_KEYWORDS = frozenset({"_", "case", "match"})
UNESCAPED_SOFT_KEYWORDS = frozenset({"type"})
#: Names that parse as identifiers but cannot be assigned to.
_UNASSIGNABLE = frozenset({"__debug__"})


class NamingError(ValueError):
    """Text that was to be used as an identifier is not one (a generator bug, never input)."""


def is_safe_identifier(text: str) -> bool:
    """An ASCII Python identifier that is no keyword and can be bound in a class body."""
    return (text.isascii() and text.isidentifier() and text not in PYTHON_KEYWORDS
            and text not in _UNASSIGNABLE)


class Identifier(str):
    """A name checked by :func:`is_safe_identifier`: the one form in which text that came
    from a spec may be written into generated code verbatim.

    String methods return plain ``str``, so a derived name (``name.upper()``,
    ``name + "Client"``) must be wrapped (and so checked) again.
    """

    __slots__ = ()

    def __new__(cls, text: str) -> Identifier:
        if not is_safe_identifier(text):
            raise NamingError(f"not a safe Python identifier: {text!r}")
        return super().__new__(cls, text)


def _needs_suffix(name: str) -> bool:
    return name in PYTHON_KEYWORDS or name in ESCAPED_SOFT_KEYWORDS or name in _UNASSIGNABLE

# Names the generated model modules bind at module level or use in annotations; a field
# or class with one of these names would shadow it inside the class body.
RESERVED_ATTRIBUTES = frozenset(
    {
        "str", "int", "float", "bool", "bytes", "list", "dict", "object", "type_",
        "datetime", "msgspec", "typing", "Any", "ClassVar", "None", "True", "False",
    }
)
RESERVED_CLASS_NAMES = frozenset(
    {
        "Model", "Object", "GroupVersionKind", "Quantity", "MicroTime", "IntOrString",
        "Any", "ClassVar", "datetime", "msgspec", "annotations", "None", "True", "False",
    }
)
# Module names used by the generated package itself.
RESERVED_MODULES = frozenset({"meta_v1", "version", "runtime", "scheme", "models"})

#: How a run of letters and digits splits into words, tried in this order at each position.
#: The rule for digits: digits glued to letters stay in their word (``v1beta1``, ``k8s``,
#: ``x509``, ``ipv4``, ``http2``, ``s3``, ``fieldsV1`` → ``fields_v1``), except that digits
#: followed by letters after a word of two or more letters start a word of their own
#: (``consecutive5xxErrors`` → ``consecutive_5xx_errors``). A capital ``V`` with digits
#: after an acronym is a version word (``openAPIV3Schema`` → ``open_api_v3_schema``).
#: k8s-openapi (Rust) names that field ``open_api_v3_schema`` too; the official Python
#: client's ``open_apiv3_schema`` and this generator's former ``cluster_x_k8_s_io`` and
#: ``add_k8_s_uid_attributes`` are what the rule avoids. Among the built-in API's names
#: the rule changes only ``open_apiv3_schema`` (CustomResourceValidation).
_WORD = re.compile(
    "|".join((
        r"[A-Z]{2,}s(?![a-z])",  # an acronym's plural: IPs, CIDRs, WWNs, URLs
        r"[A-Z]+v[0-9]+(?![a-z])",  # an acronym with a version: IPv4, IPv6
        r"[A-Z]+(?=[A-Z][a-z])",  # an acronym before a capitalised word: UIDAttributes
        r"[A-Z]+(?=V[0-9])",  # an acronym before a version word: APIV3
        r"[A-Z]+(?=[A-Z][0-9]+[a-z])",  # an acronym before a letter-digit word: XK8s
        r"[A-Za-z](?:[0-9]+[a-z]*)+",  # one letter with digits glued on: k8s, v1beta1, x509, V3
        r"[A-Z]?[a-z]+(?:[0-9]+(?![a-z]))?",  # a word, with trailing digits: http2, ipv4, utf8
        r"[A-Z]+[0-9]*",  # an acronym, with trailing digits
        r"[0-9]+[a-z]*",  # digits starting a word: 5xx, 2nd, 123abc
    ))
)
_VERSION = re.compile(r"^v[0-9]+((alpha|beta)[0-9]*)?$")


def _ascii_words(text: str) -> list[str]:
    """Split text into words on case changes and on anything that is not a letter/digit."""
    words: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", text):
        words.extend(_WORD.findall(chunk))
    return words


def snake_case(wire_name: str) -> str:
    """``podIPs`` → ``pod_ips``; ``$ref`` → ``ref``; ``x-kubernetes-map-type`` → ``x_kubernetes_map_type``."""
    words = _ascii_words(wire_name)
    name = "_".join(word.lower() for word in words)
    return name


def attribute_name(wire_name: str) -> Identifier:
    """A safe attribute name for one property (before de-duplication within a struct)."""
    name = snake_case(wire_name) or "field"
    if name[0].isdigit():
        name = f"field_{name}"
    if _needs_suffix(name) or name in RESERVED_ATTRIBUTES:
        name = f"{name}_"
    return Identifier(name)


def attribute_names(wire_names: Iterable[str]) -> dict[str, Identifier]:
    """Map each wire name of one struct to a unique attribute name, numbering collisions.

    A property whose wire name already *is* its attribute name keeps it (Istio's
    ``mirror_percent`` stays ``mirror_percent`` next to ``mirrorPercent``, which becomes
    ``mirror_percent_2``); the others claim theirs in wire order, numbered when taken.
    The result depends only on the struct's own property names and their order.
    """
    wires = list(wire_names)
    base = {wire: attribute_name(wire) for wire in wires}
    exact = {wire for wire in wires if base[wire] == wire}
    taken: set[str] = set(base[wire] for wire in exact)
    result = {wire: base[wire] for wire in exact}
    for wire in wires:
        if wire not in exact:
            result[wire] = unique_attribute(base[wire], taken)
    return {wire: result[wire] for wire in wires}


def pascal_case(text: str) -> str:
    """``endpoints`` → ``Endpoints``; ``tls-config`` → ``TlsConfig``; keeps inner capitals."""
    return "".join(word[:1].upper() + word[1:] for word in _ascii_words(text))


def class_name(raw: str) -> Identifier:
    """A safe class name from a definition's last segment or a composed inline name."""
    name = pascal_case(raw) or "Type"
    if name[0].isdigit():
        name = f"T{name}"
    if _needs_suffix(name) or name in RESERVED_CLASS_NAMES:
        name = f"{name}_"
    return Identifier(name)


def group_version_class(py_name: str) -> Identifier:
    """The class-name stem of a group-version's clients and informers: ``storage_v1beta1``
    → ``StorageV1Beta1``. Each part of a version is capitalised (``V1Beta1``), as these
    names have always been spelled here, rather than kept as one word (``V1beta1``) as
    :func:`pascal_case` now does for digits glued to letters: the stem is published API
    (``StorageV1Beta1Client``), so the word rule must not rename it."""
    labels = []
    for label in py_name.split("_"):
        if is_version_label(label):
            labels.append(re.sub(r"(alpha|beta)", lambda m: m.group(1).capitalize(), label.capitalize()))
        else:
            labels.append(pascal_case(label))
    return class_name("".join(labels))


#: Inline (CRD) class names longer than this are shortened by :func:`inline_class_name`.
MAX_CLASS_NAME = 80
# A shortened name leaves room for the number a collision adds (``…Execution2``).
_NUMBER_ROOM = 2


def inline_class_name(owner_class: str, parts: tuple[str, ...]) -> str:
    """The name of a CRD's inline object type, before :func:`class_name` and numbering.

    ``parts`` are the definition's class and the PascalCase property path down to the type
    (``ServiceMonitor``, ``Spec``, ``Endpoints``); ``owner_class`` is the name the parent
    type got. The name is the parent's name plus the last segment
    (``ServiceMonitorSpecEndpoints``). When that is longer than :data:`MAX_CLASS_NAME`
    characters, path segments are dropped from the outside in -- the kind is kept, and
    the innermost segments, which say what the type is, are kept -- until it fits in two
    characters less (room for a collision number), or only
    the kind and the last segment are left (``Workflow…ArtifactsS3`` → ``WorkflowArtifactsS3``
    when the middle does not fit). The rule reads nothing but the type's own path, so a
    name never depends on other CRDs; two long paths of one kind that shorten alike are
    numbered in schema order.
    """
    name = owner_class + parts[-1]
    if len(name) <= MAX_CLASS_NAME or len(parts) < 3:
        return name
    kind, path = parts[0], list(parts[1:])
    while len(path) > 1 and len(kind) + sum(map(len, path)) > MAX_CLASS_NAME - _NUMBER_ROOM:
        path.pop(0)
    return kind + "".join(path)


def unique(name: str, taken: set[str], joiner: str = "") -> Identifier:
    """Return ``name`` or ``name2``, ``name3``… (with ``joiner`` between) whichever is free,
    and mark it taken."""
    candidate, counter = name, 2
    while candidate in taken:
        candidate = f"{name}{joiner}{counter}"
        counter += 1
    taken.add(candidate)
    return Identifier(candidate)


#: The API groups kube-apiserver itself serves (or served: ``settings``, ``auditregistration``),
#: with their fixed Python names (the first label). Only these get a short name, so a custom
#: or aggregated group can never take one, whichever groups a spec contains.
BUILTIN_GROUPS: Mapping[str, str] = {
    group: (group.split(".")[0] if group else "core")
    for group in (
        "", "admission.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io",
        "apiregistration.k8s.io", "apps", "auditregistration.k8s.io", "authentication.k8s.io",
        "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
        "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "extensions",
        "flowcontrol.apiserver.k8s.io", "imagepolicy.k8s.io", "internal.apiserver.k8s.io",
        "networking.k8s.io", "node.k8s.io", "policy", "rbac.authorization.k8s.io",
        "resource.k8s.io", "scheduling.k8s.io", "settings.k8s.io", "storage.k8s.io",
        "storagemigration.k8s.io",
    )
}
_CANONICAL_GROUP = re.compile(r"[a-z][a-z0-9]*(\.[a-z0-9]+)*")


def is_builtin_group(group: str) -> bool:
    return group in BUILTIN_GROUPS


def group_py_name(group: str) -> Identifier:
    """The Python name of an API group, before collision checks.

    ``""`` → ``core``; built-in groups → their first label (``rbac``, ``networking``);
    every other group → all its labels joined (``monitoring_coreos_com``,
    ``autoscaling_k8s_io``), so it can never take a built-in group's short name.
    """
    if group in BUILTIN_GROUPS:
        return Identifier(BUILTIN_GROUPS[group])
    name = re.sub(r"[^a-z0-9]+", "_", group.lower()).strip("_") or "group"
    if name[0].isdigit():
        name = f"g_{name}"
    if _needs_suffix(name):
        name = f"{name}_"
    return Identifier(name)


def _is_canonical_group(group: str) -> bool:
    """Groups whose joined name maps back to them alone: lowercase labels of letters and
    digits, the first starting with a letter (``monitoring.coreos.com``; not ``cert-manager.io``,
    whose ``cert_manager_io`` is also the name of ``cert.manager.io``)."""
    return bool(_CANONICAL_GROUP.fullmatch(group))


def with_hash_suffix(name: str, text: str) -> Identifier:
    """``name`` plus a short hash of the exact ``text`` it was derived from."""
    return Identifier(f"{name}_{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}")


def group_py_names(groups: Iterable[str], preferred: Iterable[str] = ()) -> dict[str, Identifier]:
    """Assign every group a Python name, unique within the set and as stable as possible.

    Names are claimed in this order: built-in groups (fixed names), canonical groups
    (their joined labels, which no other canonical group can produce), then the rest,
    ``preferred`` ones (the groups being generated) first, each alphabetically. A claim
    whose name is taken, is a built-in short name or a reserved module name gets a suffix
    from a hash of the exact group string. So a built-in or canonical group's name
    depends on nothing but the group; only an ambiguous newcomer's may depend on others.
    """
    wanted = set(preferred)
    ordered = sorted(set(groups), key=lambda g: (
        g not in BUILTIN_GROUPS, not _is_canonical_group(g), g not in wanted, g))
    builtin_names = set(BUILTIN_GROUPS.values())
    taken: set[str] = set()
    result: dict[str, Identifier] = {}
    for group in ordered:
        name = group_py_name(group)
        clash = name in taken or name in RESERVED_MODULES or f"{name}_v1" in RESERVED_MODULES
        if group not in BUILTIN_GROUPS and (clash or name in builtin_names):
            name = with_hash_suffix(name, group)
        if name in taken:  # pragma: no cover - needs a sha256 collision
            raise NamingError("group names collide even after hashing; rename a group")
        taken.add(name)
        result[group] = name
    return result


def module_name(group_py: str, version: str) -> Identifier:
    """``core`` + ``v1`` → ``core_v1``."""
    return Identifier(f"{group_py}_{re.sub(r'[^a-z0-9]+', '_', version.lower()).strip('_') or 'v'}")


def is_version_label(label: str) -> bool:
    return bool(_VERSION.match(label))


def accessor_name(plural: str, kind: str, taken: set[str] | None = None) -> Identifier:
    """The ClientSet attribute for a resource: the path plural split where the kind splits.

    ``configmaps`` + ``ConfigMap`` → ``config_maps``; ``networkpolicies`` +
    ``NetworkPolicy`` → ``network_policies``. The plural always comes from the path; the
    kind only tells where the word boundaries are.
    """
    kind_snake = snake_case(kind)
    out: list[str] = []
    i = 0
    for ch in kind_snake:
        if ch == "_":
            if i < len(plural):
                out.append("_")
            continue
        if i < len(plural) and plural[i].lower() == ch:
            out.append(ch)
            i += 1
        else:
            break
    matched = "".join(out).rstrip("_")
    rest = plural[i:]
    name = attribute_name(matched + rest) if i >= 3 else attribute_name(plural)
    if taken is not None:
        name = unique_attribute(name, taken)
    return name


def unique_attribute(name: str, taken: set[str]) -> Identifier:
    """``name``, else ``name_2``, ``name_3``… (``class_2`` after a trailing underscore)."""
    return unique(name, taken, "" if name.endswith("_") else "_")


def definition_short_name(definition: str) -> str:
    """The last dotted segment of a definition name: ``io.k8s.api.core.v1.Pod`` → ``Pod``."""
    return definition.rsplit(".", 1)[-1]


def definition_namespace(definition: str) -> str:
    return definition.rsplit(".", 1)[0] if "." in definition else ""


def namespace_module(namespace: str, group_versions: Mapping[str, tuple[str, str]],
                     group_names: Mapping[str, str]) -> Identifier:
    """The model module for a definition namespace (``io.k8s.api.core.v1`` → ``core_v1``).

    A namespace whose kinds all belong to one group-version takes that group's name;
    otherwise the labels of the namespace itself are used (``…meta.v1`` → ``meta_v1``,
    ``…pkg.version`` → ``version``).
    """
    if namespace in group_versions:
        group, version = group_versions[namespace]
        return module_name(group_names[group], version)
    labels = namespace.split(".")
    if len(labels) >= 2 and is_version_label(labels[-1]):
        return module_name(_module_label(labels[-2]), labels[-1])
    return Identifier(_module_label(labels[-1]))


def _module_label(label: str) -> str:
    """A namespace label as (the start of) a module name: ``version`` → ``version``."""
    name = snake_case(label) or "types"
    if name[0].isdigit():
        name = f"m_{name}"
    return f"{name}_" if _needs_suffix(name) else name
