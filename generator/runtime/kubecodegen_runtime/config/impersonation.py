"""User impersonation: act as another user, as ``kubectl --as``/``--as-group``/``--as-uid``.

The API server authenticates the real credential, checks that its owner may
``impersonate`` the named user, groups, uid and extra values (RBAC verbs on ``users``,
``groups``, ``uids`` and ``userextras/<key>``), and then authorizes the request as the
impersonated identity. The client's only job is the headers, built here the way
client-go's impersonating round tripper builds them:

* ``Impersonate-User`` always (even empty, which the server rejects) once anything is set;
* ``Impersonate-Uid`` when a uid is set;
* one ``Impersonate-Group`` header per group;
* one ``Impersonate-Extra-<key>`` header per value, the key percent-encoded byte-wise
  wherever it is not an HTTP token character (and ``%`` itself), because extra keys are
  free-form (``example.com/scopes``) but header names are not; the server decodes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

USER_HEADER = "Impersonate-User"
UID_HEADER = "Impersonate-Uid"
GROUP_HEADER = "Impersonate-Group"
EXTRA_HEADER_PREFIX = "Impersonate-Extra-"

# RFC 7230 tchar, minus "%", which must be escaped so the server's unescaping is lossless.
_TOKEN_BYTES = frozenset(
    b"!#$&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def escape_extra_key(key: str) -> str:
    """``key`` as a header-name suffix: UTF-8 bytes outside the token set become ``%XX``."""
    return "".join(
        chr(byte) if byte in _TOKEN_BYTES else f"%{byte:02X}" for byte in key.encode("utf-8")
    )


@dataclass(frozen=True)
class Impersonation:
    """Who to act as (client-go's ``rest.ImpersonationConfig``).

    ``groups`` and ``extra`` values are ordered as given (headers repeat in that order).
    """

    user: str = ""
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        user: str = "",
        *,
        uid: str = "",
        groups: Sequence[str] = (),
        extra: Mapping[str, Sequence[str]] | None = None,
    ) -> Impersonation:
        """Build from any sequences (lists from YAML or flags)."""
        return cls(
            user=user,
            uid=uid,
            groups=tuple(groups),
            extra={key: tuple(values) for key, values in (extra or {}).items()},
        )

    def __hash__(self) -> int:  # ``extra`` is a dict; ClientConfig must stay hashable
        return hash((self.user, self.uid, self.groups, tuple(sorted(self.extra.items()))))

    @property
    def is_set(self) -> bool:
        return bool(self.user or self.uid or self.groups or self.extra)

    def headers(self) -> list[tuple[str, str]]:
        """The request headers that ask the server to impersonate (none if unset)."""
        if not self.is_set:
            return []
        headers = [(USER_HEADER, self.user)]
        if self.uid:
            headers.append((UID_HEADER, self.uid))
        headers.extend((GROUP_HEADER, group) for group in self.groups)
        for key, values in self.extra.items():
            name = EXTRA_HEADER_PREFIX + escape_extra_key(key)
            headers.extend((name, value) for value in values)
        return headers
