"""Python types for the Kubernetes wire types that JSON alone does not describe.

Generated models annotate fields with these names, so each wire format is decided once:

* ``IntOrString`` -- ``int | str``; msgspec decodes a JSON number to ``int`` and a string
  to ``str`` natively, with no hook on the hot path.
* ``Time`` (meta/v1 Time) -- a plain, timezone-aware :class:`datetime.datetime`, decoded
  and encoded natively by msgspec (RFC 3339; UTC is written as ``Z``). Kubernetes keeps
  Time at second precision: sub-second digits are accepted by the server but dropped.
  A *naive* datetime has no defined instant, so the codec refuses to encode one (with
  the JSON path of the field) instead of sending a time without a zone.
* :class:`MicroTime` (meta/v1 MicroTime) -- a ``datetime`` subclass whose wire form is
  always RFC 3339 in UTC with exactly six fractional digits, as apimachinery writes it.
* :class:`~.quantity.Quantity` -- a ``str`` subclass that compares by numeric value.
* ``JSON`` -- any JSON value (``x-kubernetes-preserve-unknown-fields``, apiextensions
  ``JSON``); ``RawExtension`` -- a free-form JSON object; ``FieldsV1`` -- raw JSON kept
  undecoded (``msgspec.Raw``; decode it with ``msgspec.json.decode`` when needed).
* ``format: byte`` fields are plain ``bytes``; msgspec handles base64 natively.
* :class:`DateTimeString` -- an inline ``format: date-time`` of a custom resource: a
  ``str`` kept exactly as the server stored it (``.to_datetime()`` parses it).
* ``Nullable[X]`` -- a required list, map or bytes field that the server may send as
  ``null`` (a Go nil); type checkers see ``X`` and the struct reads ``null`` as empty.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

import msgspec

from .quantity import Quantity

__all__ = ["JSON", "DateTimeString", "FieldsV1", "IntOrString", "MicroTime", "Nullable", "Quantity",
           "RawExtension", "Time"]

_T = TypeVar("_T")

if TYPE_CHECKING:
    Nullable: TypeAlias = Annotated[_T, "the server may send null; it reads as the empty value"]
else:
    Nullable = _T | None
"""A required container field (``Nullable[list[Endpoint]]``) that may be ``null`` on the wire.

The spec marks fields ``required`` that Go writes as ``null`` when they are nil (an
EndpointSlice's ``endpoints``, a new HPA's ``status.conditions``). At run time the
annotation is ``X | None``, so the decoder accepts the ``null``, and the generated
``__post_init__`` of the struct replaces it with the empty list, dict or bytes. Type
checkers see plain ``X``: the field always reads as a container and is built as one.
"""

IntOrString: TypeAlias = int | str
"""``intstr.IntOrString``: a JSON number or string (``8080`` or ``"http"``, ``"25%"``)."""

Time: TypeAlias = datetime
"""meta/v1 ``Time``: a timezone-aware datetime, RFC 3339 on the wire, second precision."""

JSON: TypeAlias = Any
"""Any JSON value: preserved unknown fields, apiextensions ``JSON``."""

RawExtension: TypeAlias = dict[str, Any]
"""``runtime.RawExtension``: an embedded object of any kind, kept as plain JSON."""

FieldsV1: TypeAlias = msgspec.Raw
"""meta/v1 ``FieldsV1``: the field set of a managedFields entry, kept as undecoded JSON.

client-go keeps it as bytes too: almost nobody reads it, and as nested dicts it is about
a third of a pod's decode time and memory. ``msgspec.json.decode(entry.fields_v1)``
gives the dict; encoding writes the original bytes back unchanged.
"""

_AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
_M = TypeVar("_M", bound="MicroTime")


class MicroTime(datetime):
    """meta/v1 ``MicroTime``: a datetime written as ``2006-01-02T15:04:05.000000Z``.

    It is a real :class:`datetime.datetime` (arithmetic, comparison and formatting all
    work), so only its wire form differs from ``Time``: UTC with exactly six fractional
    digits, even when the microseconds are zero. Decoding accepts any RFC 3339 time with
    a zone and keeps its offset; encoding converts to UTC. Construct one from an aware
    datetime with :meth:`from_datetime`, or directly:
    ``MicroTime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)``.
    """

    __slots__ = ()

    @classmethod
    def from_datetime(cls: type[_M], value: datetime) -> _M:
        """The same instant as a ``MicroTime``; ``value`` must carry a time zone."""
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"MicroTime needs a timezone-aware datetime, got naive {value.isoformat()!r}; "
                "use value.replace(tzinfo=timezone.utc) if it is UTC"
            )
        return cls(value.year, value.month, value.day, value.hour, value.minute,
                   value.second, value.microsecond, tzinfo=value.tzinfo, fold=value.fold)

    @classmethod
    def from_wire(cls: type[_M], text: str) -> _M:
        """Parse an RFC 3339 time with a zone (any number of fractional digits)."""
        try:
            parsed = msgspec.convert(text, _AwareDatetime)
        except msgspec.ValidationError as exc:
            raise ValueError(f"invalid MicroTime {text[:64]!r}: {exc}") from None
        return cls.from_datetime(parsed)

    def to_wire(self) -> str:
        """The RFC 3339 text in UTC with six fractional digits, as apimachinery writes it."""
        if self.tzinfo is None or self.utcoffset() is None:
            raise TypeError(
                f"cannot encode a naive MicroTime ({datetime.isoformat(self)!r}): Kubernetes "
                "times need a time zone; use MicroTime.from_datetime(dt) with an aware "
                "datetime, e.g. datetime.now(timezone.utc)"
            )
        utc = self.astimezone(timezone.utc).replace(tzinfo=None)
        return datetime.isoformat(utc, timespec="microseconds") + "Z"


_DATE_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))\Z")


class DateTimeString(str):
    """An RFC 3339 date-time of a custom resource, kept as the exact text the server stored.

    The API server stores a custom resource's strings verbatim, including the many ways to
    write one instant (``…31Z``, ``…31.000Z``, ``…30.123456789+02:00``). A ``datetime``
    would re-encode it in one canonical form (and drop nanoseconds), so every typed update
    would rewrite fields the user never touched. Being a ``str``, a value decodes whatever
    the server holds and encodes back unchanged; :meth:`to_datetime` gives the instant,
    :meth:`from_datetime` the text for a new value. Like any ``str`` it compares as text:
    compare instants with ``a.to_datetime() == b.to_datetime()``.

    Built-in Time and MicroTime fields stay ``datetime``/:class:`MicroTime`: the server
    formats those itself, always canonically, so they round-trip exactly.
    """

    __slots__ = ()

    @classmethod
    def from_datetime(cls, value: datetime) -> DateTimeString:
        """The RFC 3339 text of an aware datetime in UTC, as Go's ``time.RFC3339Nano`` writes
        it: ``2024-05-01T10:20:31Z``, with a fraction only when it is not zero."""
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"DateTimeString needs a timezone-aware datetime, got naive {value.isoformat()!r}; "
                "use value.replace(tzinfo=timezone.utc) if it is UTC"
            )
        utc = value.astimezone(timezone.utc).replace(tzinfo=None)
        text = datetime.isoformat(utc, timespec="microseconds").rstrip("0").rstrip(".")
        return cls(text + "Z")

    def to_datetime(self) -> datetime:
        """The instant as an aware ``datetime``; digits beyond microseconds are truncated.

        Raises :class:`ValueError` if the text is not an RFC 3339 date-time (the server
        validates the format on write, but objects stored before it did may hold anything).
        """
        found = _DATE_TIME.match(self)
        if found is None:
            raise ValueError(f"not an RFC 3339 date-time: {str.__str__(self)[:64]!r}")
        year, month, day, hour, minute, second, fraction, utc, sign, off_h, off_m = found.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        if utc:
            zone = timezone.utc
        else:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            zone = timezone(-offset if sign == "-" else offset)
        try:
            return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                            micro, tzinfo=zone)
        except ValueError as exc:  # month 13, second 60 (Go rejects leap seconds too), ...
            raise ValueError(f"not an RFC 3339 date-time: {str.__str__(self)[:64]!r} ({exc})") from None
