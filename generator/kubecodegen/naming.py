"""Every identifier the generator writes is made here, and only here.

Spec strings (property names, definition names, group names, plurals) come from
whoever may create CRDs in a cluster, so every function below maps arbitrary text to a
plain ASCII Python identifier and never lets text through unchanged. Rules:

* attributes are snake_case with acronyms kept whole: ``podIPs`` → ``pod_ips``,
  ``hostIP`` → ``host_ip``, ``apiVersion`` → ``api_version``;
* keywords, soft keywords and names the generated modules use in annotations get a
  trailing ``_`` (``continue_``, ``from_``, ``list_``);
* collisions after mapping are resolved deterministically by numbering in wire order;
* group names are stable: they depend only on the group itself, never on which other
  groups a spec happens to contain, with a hash suffix as the provable last resort.
"""

from __future__ import annotations

import hashlib
import keyword
import re
from collections.abc import Iterable, Mapping

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

_ACRONYM_PLURAL = r"[A-Z]{2,}s(?![a-z])"  # IPs, CIDRs, WWNs, URLs
_WORD = re.compile(
    rf"{_ACRONYM_PLURAL}|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+[a-z]*"
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


def attribute_name(wire_name: str) -> str:
    """A safe attribute name for one property (before de-duplication within a struct)."""
    name = snake_case(wire_name) or "field"
    if name[0].isdigit():
        name = f"field_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in RESERVED_ATTRIBUTES:
        name = f"{name}_"
    return name


def attribute_names(wire_names: Iterable[str]) -> dict[str, str]:
    """Map each wire name of one struct to a unique attribute name, numbering collisions."""
    taken: set[str] = set()
    return {wire: unique_attribute(attribute_name(wire), taken) for wire in wire_names}


def pascal_case(text: str) -> str:
    """``endpoints`` → ``Endpoints``; ``tls-config`` → ``TlsConfig``; keeps inner capitals."""
    return "".join(word[:1].upper() + word[1:] for word in _ascii_words(text))


def class_name(raw: str) -> str:
    """A safe class name from a definition's last segment or a composed inline name."""
    name = pascal_case(raw) or "Type"
    if name[0].isdigit():
        name = f"T{name}"
    if keyword.iskeyword(name) or name in RESERVED_CLASS_NAMES:
        name = f"{name}_"
    return name


def unique(name: str, taken: set[str], joiner: str = "") -> str:
    """Return ``name`` or ``name2``, ``name3``… (with ``joiner`` between) whichever is free,
    and mark it taken."""
    candidate, counter = name, 2
    while candidate in taken:
        candidate = f"{name}{joiner}{counter}"
        counter += 1
    taken.add(candidate)
    return candidate


def is_kubernetes_group(group: str) -> bool:
    """Groups owned by Kubernetes itself: the legacy groups without a dot, and ``*.k8s.io``."""
    return "." not in group or group.endswith(".k8s.io")


def group_py_name(group: str) -> str:
    """The stable Python name of an API group, before collision checks.

    ``""`` → ``core``; Kubernetes' own groups → their first label (``rbac``,
    ``networking``); every other group → all labels joined (``monitoring_coreos_com``),
    so a CRD group can never take a built-in group's short name.
    """
    if group == "":
        return "core"
    if is_kubernetes_group(group):
        name = snake_case(group.split(".")[0])
    else:
        name = "_".join(filter(None, (snake_case(label) for label in group.split("."))))
    name = name or "group"
    if name[0].isdigit():
        name = f"g_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name = f"{name}_"
    return name


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def group_py_names(groups: Iterable[str]) -> dict[str, str]:
    """Assign every group a Python name, provably unique within the set.

    Each group gets :func:`group_py_name`. Groups whose names still coincide (``a-b.io``
    and ``a.b.io`` both give ``a_b_io``), or that would take a reserved module name, get
    a suffix from a hash of the exact group string; distinct strings are checked to get
    distinct suffixes, and the function raises rather than return a collision.
    """
    groups = sorted(set(groups))
    base = {group: group_py_name(group) for group in groups}
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    result: dict[str, str] = {}
    for group in groups:
        name = base[group]
        if counts[name] > 1 or f"{name}_v1" in RESERVED_MODULES or name in RESERVED_MODULES:
            name = f"{name}_{_short_hash(group)}"
        result[group] = name
    if len(set(result.values())) != len(result):  # pragma: no cover - needs a sha256 collision
        raise ValueError("group names collide even after hashing; rename a group")
    return result


def module_name(group_py: str, version: str) -> str:
    """``core`` + ``v1`` → ``core_v1``."""
    return f"{group_py}_{re.sub(r'[^a-z0-9]+', '_', version.lower()).strip('_') or 'v'}"


def is_version_label(label: str) -> bool:
    return bool(_VERSION.match(label))


def version_priority(version: str) -> tuple[int, int, int]:
    """Sort key of Kubernetes' version priority: GA > beta > alpha, higher numbers first.

    Smaller keys sort first, so ``sorted(versions, key=version_priority)`` puts the
    preferred version first. Non-Kubernetes version strings sort last, alphabetically
    among themselves by the caller.
    """
    match = re.match(r"^v([0-9]+)(?:(alpha|beta)([0-9]+))?$", version)
    if not match:
        return (3, 0, 0)
    major = int(match.group(1))
    stability = {None: 0, "beta": 1, "alpha": 2}[match.group(2)]
    minor = int(match.group(3) or 0)
    return (stability, -major, -minor)


def accessor_name(plural: str, kind: str, taken: set[str] | None = None) -> str:
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


def unique_attribute(name: str, taken: set[str]) -> str:
    """``name``, else ``name_2``, ``name_3``… (``class_2`` after a trailing underscore)."""
    return unique(name, taken, "" if name.endswith("_") else "_")


def definition_short_name(definition: str) -> str:
    """The last dotted segment of a definition name: ``io.k8s.api.core.v1.Pod`` → ``Pod``."""
    return definition.rsplit(".", 1)[-1]


def definition_namespace(definition: str) -> str:
    return definition.rsplit(".", 1)[0] if "." in definition else ""


def namespace_module(namespace: str, group_versions: Mapping[str, tuple[str, str]],
                     group_names: Mapping[str, str]) -> str:
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
        return module_name(snake_case(labels[-2]) or "types", labels[-1])
    return snake_case(labels[-1]) or "types"
