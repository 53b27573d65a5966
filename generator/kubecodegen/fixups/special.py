"""Definitions that are runtime types with their own wire format, not generated structs.

Each entry names the definition (by its last segment within a namespace that must end
as listed), the shape the spec must give it, and the type it becomes. A definition
that matches by name but not by shape is an error: the special handling would be wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..model.types import ArrayOf, Primitive, StructRef, TypeRef, UnionOf
from ..spec.records import Schema
from . import FixupError

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."


@dataclass(frozen=True)
class Special:
    name_matches: Callable[[str], bool]
    shape_matches: Callable[[Schema], bool]
    type_for: Callable[[str], TypeRef]
    why: str


def _is_string(schema: Schema) -> bool:
    return schema.type == "string"


def _is_object_without_properties(schema: Schema) -> bool:
    return schema.type in (None, "object") and schema.properties is None


def _untyped(schema: Schema) -> bool:
    return schema.type is None and schema.properties is None and schema.ref is None


def _props_ref(name: str) -> StructRef:
    return StructRef(name.rsplit(".", 1)[0] + ".JSONSchemaProps")


def _apiextensions(suffix: str) -> Callable[[str], bool]:
    def matches(name: str) -> bool:
        return name.startswith("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.") and \
            name.endswith("." + suffix)

    return matches


SPECIALS: tuple[Special, ...] = (
    Special(lambda n: n == "io.k8s.apimachinery.pkg.api.resource.Quantity", _is_string,
            lambda n: Primitive.QUANTITY, "a string with a numeric meaning"),
    Special(lambda n: n == "io.k8s.apimachinery.pkg.util.intstr.IntOrString", _is_string,
            lambda n: Primitive.INT_OR_STRING, "either JSON number or string on the wire"),
    Special(lambda n: n == _META + "Time", _is_string,
            lambda n: Primitive.TIME, "RFC 3339 with second precision"),
    Special(lambda n: n == _META + "MicroTime", _is_string,
            lambda n: Primitive.MICRO_TIME, "RFC 3339 with exactly six decimals"),
    # managedFields are about a third of a typical object's JSON and are read by almost
    # nobody: kept as raw JSON (client-go keeps them as bytes too) they decode 5x faster
    # and take a fraction of the memory of nested dicts.
    Special(lambda n: n == _META + "FieldsV1", _is_object_without_properties,
            lambda n: Primitive.RAW, "a field set kept as raw JSON (managedFields)"),
    Special(lambda n: n == _META + "Patch", _is_object_without_properties,
            lambda n: Primitive.ANY, "a patch body is any JSON (json-patch is an array)"),
    Special(lambda n: n == "io.k8s.apimachinery.pkg.runtime.RawExtension",
            _is_object_without_properties,
            lambda n: Primitive.OBJECT, "an embedded object of any kind"),
    Special(_apiextensions("JSON"), _untyped, lambda n: Primitive.ANY, "any JSON value"),
    Special(_apiextensions("JSONSchemaPropsOrBool"), _untyped,
            lambda n: UnionOf((_props_ref(n), Primitive.BOOLEAN)),
            "a schema or a boolean"),
    Special(_apiextensions("JSONSchemaPropsOrArray"), _untyped,
            lambda n: UnionOf((_props_ref(n), ArrayOf(_props_ref(n)))),
            "a schema or a list of schemas"),
    Special(_apiextensions("JSONSchemaPropsOrStringArray"), _untyped,
            lambda n: UnionOf((_props_ref(n), ArrayOf(Primitive.STRING))),
            "a schema or a list of strings"),
)


def special_type(name: str, schema: Schema) -> TypeRef | None:
    """The runtime type for a special definition, or None for ordinary definitions."""
    for special in SPECIALS:
        if special.name_matches(name):
            if not special.shape_matches(schema):
                raise FixupError(
                    f"definition {name!r} is special-cased as {special.why}, but its schema "
                    f"has an unexpected shape; refusing to guess"
                )
            return special.type_for(name)
    return None


# -- inline quantities (custom resources) -----------------------------------------------

#: The pattern controller-gen writes for every ``resource.Quantity`` field (apimachinery's
#: quantity grammar as a regular expression).
QUANTITY_PATTERN = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
                    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")
#: Property names of ``corev1.ResourceList`` maps in the built-in API (container and pod
#: ``limits``/``requests``, node ``capacity``/``allocatable``, RuntimeClass ``overhead``,
#: ResourceQuota ``hard``/``used``), plus ``resources`` itself as CRDs use it for one.
RESOURCE_LIST_PROPERTIES = frozenset(
    {"limits", "requests", "resources", "capacity", "allocatable", "overhead", "hard", "used"})


def is_inline_quantity(schema: Schema, map_property: str | None) -> bool:
    """Spec quirk: a CRD schema has no ``$ref``, so a ``resource.Quantity`` field arrives as a
    plain ``x-kubernetes-int-or-string`` schema. It is typed ``Quantity`` (not
    ``IntOrString``) when it is one by the only two signs a structural schema keeps:

    * its ``pattern`` is the quantity grammar controller-gen emits (:data:`QUANTITY_PATTERN`);
    * it is the value of a map held by a property named like a ``ResourceList``
      (:data:`RESOURCE_LIST_PROPERTIES`; ``map_property`` is that property's wire name,
      None when the schema is not a map's value) -- hand-written CRDs often drop the pattern.

    Both survive kube-apiserver's conversion to ``/openapi/v2``, so a CRD gives the same type
    offline and from a cluster. Sent back, a ``Quantity`` is the exact string it was read as;
    a number on the wire (``cpu: 2``) decodes too (see the runtime's Quantity).
    """
    if not schema.int_or_string:
        return False
    return schema.pattern == QUANTITY_PATTERN or map_property in RESOURCE_LIST_PROPERTIES
