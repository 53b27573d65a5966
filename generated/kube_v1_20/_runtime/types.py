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
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, TypeAlias, TypeVar

import msgspec

from .quantity import Quantity

__all__ = ["JSON", "FieldsV1", "IntOrString", "MicroTime", "Quantity", "RawExtension", "Time"]

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
