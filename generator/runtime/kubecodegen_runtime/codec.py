"""The one place where Python objects meet JSON: msgspec hooks, decoders and encoders.

What msgspec 0.22 does natively and what needs a hook (measured, not assumed):

* Decoding calls ``dec_hook`` only for types msgspec does not know -- here
  :class:`Quantity`, :class:`MicroTime` and :class:`DateTimeString`. Everything else (structs, ``int | str``,
  ``datetime``, base64 ``bytes``) stays in C, which keeps large list decodes fast.
  ``Quantity`` values are wrapped without validation on the way in (see
  :meth:`Quantity.from_wire`); a malformed one raises when it is used as a number.
* Encoding checks exact types: a ``str`` or ``datetime`` *subclass* is handed to
  ``enc_hook`` (so ``MicroTime`` gets its six-digit form), but a plain ``datetime`` is
  written natively -- and a *naive* one without any zone. No hook sees it, so
  :func:`to_builtins` first walks the fields that can hold a datetime (found once per
  struct type from its annotations) and refuses a naive value with its JSON path;
  :func:`encode` walks only when its output holds a zone-less time string (which a
  naive value leaves), so the common encoding pays one regex search, not a walk.
* A union of a custom type with anything but ``None`` (``Quantity | int``) is rejected
  by msgspec when a decoder is built; generated models never need one.
"""

from __future__ import annotations

import gc
import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

import msgspec

from .quantity import Quantity, WireNumberQuantity
from .types import DateTimeString, MicroTime

__all__ = [
    "DecodeError", "convert", "dec_hook", "decode", "decoder", "enc_hook", "encode",
    "to_builtins", "unknown_fields",
]

T = TypeVar("T")


class DecodeError(msgspec.DecodeError):
    """JSON (or a dict) that does not fit the expected type.

    ``path`` is the JSON path msgspec reports (``$.items[3].spec``), or ``None`` when
    the input is not even well-formed JSON. Subclasses :class:`msgspec.DecodeError`,
    so existing ``except msgspec.DecodeError`` handlers keep working.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


_PATH = re.compile(r" - at `(\$[^`]*)`$")


def _type_name(tp: Any) -> str:
    name = getattr(tp, "__name__", None)
    return name if isinstance(name, str) and typing.get_origin(tp) is None else repr(tp)


def _wrap(exc: msgspec.DecodeError, tp: Any, verb: str) -> DecodeError:
    message = str(exc)
    found = _PATH.search(message)
    return DecodeError(f"cannot {verb} {_type_name(tp)}: {message}",
                       path=found.group(1) if found else None)


# --- hooks ----------------------------------------------------------------------------

_new_str = str.__new__  # Quantity.from_wire without the method lookup


def dec_hook(tp: Any, obj: Any) -> Any:
    """Build the custom runtime types from decoded JSON values.

    ``Quantity`` accepts a string or, as some custom resources send, a JSON number;
    ``MicroTime`` accepts RFC 3339 text or (from YAML/dict input) a datetime.
    """
    if tp is Quantity:
        kind = type(obj)
        if kind is str:  # the hot path: one per resource request/limit in a list
            return _new_str(Quantity, obj)
        if kind is Quantity:
            return obj
        return _quantity_from_other(tp, obj)
    if tp is MicroTime:
        if type(obj) is str:
            return MicroTime.from_wire(obj)
        return _micro_time_from_other(tp, obj)
    if tp is DateTimeString:  # custom resources' date-times: the text as stored, unparsed
        if isinstance(obj, str):
            return _new_str(DateTimeString, obj)
        if isinstance(obj, datetime):
            return DateTimeString.from_datetime(obj)
        raise TypeError(f"Expected an RFC 3339 date-time string, got `{type(obj).__name__}`")
    if isinstance(tp, type):
        if issubclass(tp, Quantity):
            return _quantity_from_other(tp, obj)
        if issubclass(tp, MicroTime):
            return _micro_time_from_other(tp, obj)
    raise TypeError(f"no decoder for type {tp!r}: only Quantity, MicroTime and DateTimeString need one")


def _quantity_from_other(tp: type[Quantity], obj: Any) -> Quantity:
    if isinstance(obj, tp):
        return obj
    if isinstance(obj, str):
        return tp.from_wire(str.__str__(obj))
    if isinstance(obj, (int, float)) and not isinstance(obj, bool) and math.isfinite(obj):
        if tp is Quantity:  # remember the number, so it is encoded back as one
            return WireNumberQuantity.from_number(obj)
        return tp.from_wire(str(obj) if isinstance(obj, int) else repr(obj))
    raise TypeError(f"Expected a quantity (a string such as '500m' or a number), "
                    f"got `{type(obj).__name__}`")


def _micro_time_from_other(tp: type[MicroTime], obj: Any) -> MicroTime:
    if isinstance(obj, tp):
        return obj
    if isinstance(obj, str):
        return tp.from_wire(str(obj))
    if isinstance(obj, datetime):
        return tp.from_datetime(obj)
    raise TypeError(f"Expected an RFC 3339 time, got `{type(obj).__name__}`")


def enc_hook(obj: Any) -> Any:
    """Give msgspec a natively encodable value for a runtime type.

    Called only for types msgspec does not encode itself, which includes every ``str``
    and ``datetime`` subclass.
    """
    if isinstance(obj, Quantity):
        if type(obj) is WireNumberQuantity:
            return obj.number
        return str.__str__(obj)
    if isinstance(obj, msgspec.Raw):  # to_builtins: raw JSON (FieldsV1) becomes plain values
        return msgspec.json.decode(obj)
    if isinstance(obj, MicroTime):
        return obj.to_wire()
    if isinstance(obj, datetime):  # some other datetime subclass: encode as a plain Time
        if obj.utcoffset() is None:
            raise TypeError(_naive_message(obj, "$"))
        return datetime(obj.year, obj.month, obj.day, obj.hour, obj.minute, obj.second,
                        obj.microsecond, tzinfo=obj.tzinfo)
    if isinstance(obj, str):
        return str.__str__(obj)
    raise TypeError(f"cannot encode objects of type {type(obj).__name__} as JSON")


# --- the naive-datetime guard ---------------------------------------------------------
#
# msgspec writes a naive datetime natively as text without a zone, which the API server
# rejects (RFC 3339 requires one) or, worse, a proxy or webhook misreads. The guard
# walks only the struct fields whose annotation can reach a datetime, so a Pod's spec
# (no times) is skipped, and hands free-form JSON (managedFields, CRD payloads) to the
# C json encoder as a probe rather than walking it in Python.

_LEAVES: frozenset[type] = frozenset((str, int, float, bool, bytes, type(None), Quantity,
                                     DateTimeString))
_FIELDS: dict[type, list[tuple[str, str, Any]]] = {}  # struct -> (attr, wire name, type)
_HOLDS: dict[type, bool] = {}  # struct -> can it (transitively) hold a datetime?
_PLANS: dict[type, tuple[tuple[str, str], ...]] = {}  # struct -> fields worth walking


def _fields(cls: type) -> list[tuple[str, str, Any]]:
    found = _FIELDS.get(cls)
    if found is None:
        try:
            found = [(f.name, f.encode_name, f.type) for f in msgspec.structs.fields(cls)]
        except Exception:  # unresolvable annotations: check every field, whatever it holds
            found = [(name, name, Any) for name in getattr(cls, "__struct_fields__", ())]
        _FIELDS[cls] = found
    return found


def _scan(tp: Any, structs: list[type]) -> bool:
    """Whether annotation ``tp`` can hold a datetime by itself (``True`` when unsure).

    Struct types it mentions are appended to ``structs``; whether *they* hold one is
    settled for the whole graph at once by :func:`_settle`.
    """
    if tp is Any or tp is object:
        return True
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _scan(typing.get_args(tp)[0], structs)
    if origin is Literal:
        return False
    if origin is not None:  # unions, list[...], dict[...], tuple[...], ...
        args = [arg for arg in typing.get_args(tp) if arg is not ...]
        direct = not args
        for arg in args:  # no short cut: every struct mentioned must be collected
            direct = _scan(arg, structs) or direct
        return direct
    if not isinstance(tp, type):
        return True  # TypeVar, NewType, forward reference: cannot tell, so check
    if issubclass(tp, datetime):
        return True
    if issubclass(tp, msgspec.Struct):
        structs.append(tp)
        return False
    # Bare containers (and their subclasses, such as Unstructured) may hold anything.
    return issubclass(tp, (list, dict, tuple, set, frozenset))


def _settle(root: type) -> None:
    """Decide :data:`_HOLDS` for every struct reachable from ``root`` (cycles included)."""
    direct: dict[type, bool] = {}
    children: dict[type, list[type]] = {}
    pending = [root]
    while pending:
        cls = pending.pop()
        if cls in _HOLDS or cls in direct:
            continue
        mentioned: list[type] = []
        holds = False
        for _, _, field_type in _fields(cls):
            holds = _scan(field_type, mentioned) or holds
        direct[cls], children[cls] = holds, mentioned
        pending.extend(mentioned)
    holds_now = dict(direct)
    changed = True
    while changed:  # propagate "holds a datetime" backwards until nothing changes
        changed = False
        for cls, mentioned in children.items():
            if not holds_now[cls] and any(
                holds_now.get(child, _HOLDS.get(child, False)) for child in mentioned
            ):
                holds_now[cls] = changed = True
    _HOLDS.update(holds_now)


def _plan(cls: type) -> tuple[tuple[str, str], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        _settle(cls)
        walk: list[tuple[str, str]] = []
        for attr, wire, field_type in _fields(cls):
            mentioned: list[type] = []
            if _scan(field_type, mentioned) or any(_HOLDS[child] for child in mentioned):
                walk.append((attr, wire))
        plan = _PLANS[cls] = tuple(walk)
    return plan


class _NaiveFound(Exception):
    """Raised out of a ``json.dumps`` probe: the tree holds a naive datetime."""


class _NeedsWalk(Exception):
    """Raised out of a ``json.dumps`` probe: the tree holds something it cannot judge."""


def _probe(value: Any) -> None:
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise _NaiveFound
        return None
    if isinstance(value, (bytes, bytearray)):
        return None
    raise _NeedsWalk  # structs, sets, custom objects: walk them in Python


def _free_form_verdict(obj: Any) -> bool | None:
    """Free-form JSON is checked by the C ``json`` encoder, 5x faster than a Python walk.

    ``False`` when ``obj`` surely holds no naive datetime, ``True`` when it surely does,
    ``None`` when it holds something only the walk can judge.
    """
    try:
        json.dumps(obj, default=_probe, check_circular=False)
    except _NaiveFound:
        return True
    except Exception:
        return None
    return False


def _find_naive(obj: Any, probe: bool = True) -> tuple[list[str], datetime] | None:
    """The first naive datetime in ``obj`` and its path segments, innermost first."""
    if isinstance(obj, datetime):
        return ([], obj) if obj.utcoffset() is None else None
    items: Any
    if isinstance(obj, msgspec.Struct):
        items = ((f".{wire}", getattr(obj, attr, None)) for attr, wire in _plan(type(obj)))
    else:
        if not isinstance(obj, (Mapping, list, tuple)):
            return None
        verdict = _free_form_verdict(obj) if probe else True
        if verdict is False:
            return None
        probe = verdict is None  # once a naive value is known to be below, just find it
        if isinstance(obj, Mapping):
            items = ((f".{key}", value) for key, value in obj.items())
        else:
            items = ((f"[{index}]", value) for index, value in enumerate(obj))
    for segment, value in items:
        if type(value) in _LEAVES or value is msgspec.UNSET:
            continue
        found = _find_naive(value, probe)
        if found is not None:
            found[0].append(segment)
            return found
    return None


def _naive_message(value: datetime, path: str) -> str:
    return (
        f"cannot encode the naive datetime {value.isoformat()!r} at `{path}`: Kubernetes "
        "times need a time zone; use an aware datetime such as datetime.now(timezone.utc) "
        "or value.replace(tzinfo=timezone.utc)"
    )


def _refuse_naive_datetimes(obj: Any) -> None:
    if type(obj) in _LEAVES:
        return
    found = _find_naive(obj)
    if found is not None:
        segments, value = found
        raise TypeError(_naive_message(value, "$" + "".join(reversed(segments))))


# --- public API -----------------------------------------------------------------------

_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)
_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder(tp: type[T]) -> msgspec.json.Decoder[T]:
    """A JSON decoder for ``tp`` with the runtime's hooks, built once per type."""
    try:
        cached = _DECODERS.get(tp)
    except TypeError:  # an unhashable type expression: build without caching
        return msgspec.json.Decoder(tp, dec_hook=dec_hook)
    if cached is None:
        cached = msgspec.json.Decoder(tp, dec_hook=dec_hook)
        _DECODERS[tp] = cached
    return cached


#: Documents at least this large are decoded with the cyclic garbage collector paused.
GC_PAUSE_THRESHOLD = 1 << 20


def decode_paused(dec: msgspec.json.Decoder[T], data: bytes | str) -> T:
    """``dec.decode(data)``, with the cyclic garbage collector paused for large documents.

    Why: decoding a large list (3000 pods) allocates hundreds of thousands of containers
    (the free-form ``managedFields`` dicts above all), and every few hundred allocations
    trigger a collection that walks the growing set of young objects. The decoded tree has
    no reference cycles, so those collections find nothing: measured on the 3000-pod
    sample, they are about three quarters of the decode time. The pause lasts one decode,
    and a collector the program itself disabled is never re-enabled.
    """
    if len(data) < GC_PAUSE_THRESHOLD or not gc.isenabled():
        return dec.decode(data)
    gc.disable()
    try:
        return dec.decode(data)
    finally:
        gc.enable()


def decode(data: bytes | str, tp: type[T]) -> T:
    """Decode JSON into ``tp``; errors are :class:`DecodeError` naming the JSON path."""
    try:
        return decode_paused(decoder(tp), data)
    except msgspec.DecodeError as exc:
        raise _wrap(exc, tp, "decode") from None


_DECODE_FUNCTIONS: dict[Any, Callable[[bytes | str], Any]] = {}


def decode_function(tp: type[T]) -> Callable[[bytes | str], T]:
    """``lambda data: decode(data, tp)``, built once per type.

    Why: the typed clients decode every answer with the function of their type; this
    one holds its decoder, so a request skips the per-call decoder lookup. It is
    :func:`decode` itself (same decoder, same GC pause, same wrapped errors).
    """
    try:
        cached = _DECODE_FUNCTIONS.get(tp)
    except TypeError:  # an unhashable type expression: build without caching
        return lambda data: decode(data, tp)
    if cached is None:
        dec = decoder(tp)

        def decode_one(data: bytes | str) -> Any:
            try:
                return decode_paused(dec, data)
            except msgspec.DecodeError as exc:
                raise _wrap(exc, tp, "decode") from None

        cached = _DECODE_FUNCTIONS[tp] = decode_one
    return cached


def encode(obj: Any) -> bytes:
    """Encode to JSON bytes; unset optional fields are absent, never ``null``.

    Raises :class:`TypeError` for a naive datetime, naming its JSON path.
    """
    if type(obj) in _LEAVES:
        return _ENCODER.encode(obj)
    try:
        data = _ENCODER.encode(obj)
    except Exception:
        _refuse_naive_datetimes(obj)  # a naive datetime is the error to report first
        raise
    if _NAIVE_TEXT.search(data) is not None:
        _refuse_naive_datetimes(obj)
    return data


#: How msgspec writes a naive datetime: a JSON string of an RFC 3339 time with no zone. A
#: naive datetime anywhere in an object puts this in its encoding (or fails the encoding:
#: datetime subclasses go through :func:`enc_hook`), so an encoding without it needs no
#: walk; one with it may just hold such a string, and the walk decides.
_NAIVE_TEXT = re.compile(rb'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?"')


def to_builtins(obj: Any) -> Any:
    """The JSON-compatible ``dict``/``list``/scalar form (for YAML output and patches)."""
    _refuse_naive_datetimes(obj)
    return msgspec.to_builtins(obj, enc_hook=enc_hook)


def convert(obj: Any, tp: type[T]) -> T:
    """Build ``tp`` from builtins (parsed YAML, dicts); errors name the JSON path.

    Goes through JSON rather than ``msgspec.convert``: fields kept as raw JSON
    (``msgspec.Raw``, e.g. managedFields' ``fieldsV1``) can only be filled from JSON, and
    this way a dict converts exactly as the same document would decode from the server.
    """
    try:
        data = _ENCODER.encode(obj)
    except TypeError as exc:
        raise TypeError(f"cannot convert to {getattr(tp, '__name__', tp)}: {exc}") from None
    try:
        return decoder(tp).decode(data)
    except msgspec.DecodeError as exc:
        raise _wrap(exc, tp, "convert to") from None


# --- unknown fields ---------------------------------------------------------------------
#
# msgspec drops members a struct does not declare, which is what reading server responses
# needs (a newer server adds fields). For a manifest it silently loses what the user wrote
# (a 1.21 Job field read by a 1.20 package), so callers that decode manifests compare the
# JSON value with the types and report the members no field takes, like kubectl's strict
# decoding ("unknown field \"spec.foo\"").


def unknown_fields(value: Any, tp: Any) -> list[str]:
    """Paths (``spec.containers[0].foo``) of members in ``value`` that ``tp`` has no field for.

    ``value`` is the JSON value (dicts, lists, scalars) that is decoded as ``tp``.
    Free-form parts (``Any``, ``dict[str, Any]``, raw JSON) have no unknown members.
    """
    found: list[str] = []
    _collect_unknown(value, tp, "", found)
    return found


def _known_fields(cls: type) -> dict[str, Any]:
    return {wire: field_type for _, wire, field_type in _fields(cls)}


def _collect_unknown(value: Any, tp: Any, path: str, found: list[str]) -> None:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        _collect_unknown(value, typing.get_args(tp)[0], path, found)
        return
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if not isinstance(value, dict):
            return  # a type mismatch is the decoder's to report
        known = _known_fields(tp)
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in known:
                found.append(where)
            else:
                _collect_unknown(item, known[key], where, found)
        return
    if origin is None:
        return  # scalars, Any, Quantity, raw JSON: nothing below can be unknown
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    if origin in (list, tuple, set, frozenset) and isinstance(value, list) and args:
        for index, item in enumerate(value):
            _collect_unknown(item, args[0], f"{path}[{index}]", found)
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            _collect_unknown(item, args[1], f"{path}.{key}" if path else str(key), found)
    elif origin is typing.Union or type(tp).__name__ == "UnionType":
        # The member the value would decode as: the struct for an object, the list type
        # for an array (JSONSchemaPropsOrArray and friends have at most one of each).
        for member in args:
            member_origin = typing.get_origin(member)
            if isinstance(value, dict) and isinstance(member, type) and \
                    issubclass(member, msgspec.Struct):
                _collect_unknown(value, member, path, found)
                return
            if isinstance(value, dict) and member_origin is dict:
                _collect_unknown(value, member, path, found)
                return
            if isinstance(value, list) and member_origin in (list, tuple):
                _collect_unknown(value, member, path, found)
                return
