"""Errors raised while turning kubeconfig / in-cluster settings into a ClientConfig.

A kubeconfig problem is only fixable if the user learns *which file* and *which field*
is wrong, so every error carries both as attributes and in its text. The text never
contains credential values (tokens, passwords, key material, plugin stdout): errors end up
in logs and bug reports, and a leaked token there is a leaked cluster.
"""

from __future__ import annotations

import os

from .text import terminal_safe


class ConfigError(Exception):
    """A kubeconfig, in-cluster or credential setting is missing, malformed or unusable.

    ``file`` is the kubeconfig (or token/CA file) the problem was found in, ``field`` the
    path of the offending field inside it (``users[0].user.client-key-data``), and
    ``message`` the human explanation without the location prefix. All three are made
    terminal-safe here (see :mod:`.text`), once for every message: they quote kubeconfig
    text such as names, paths and install hints.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike[str] | None = None,
        field: str | None = None,
    ) -> None:
        self.message = terminal_safe(message)
        self.file: str | None = terminal_safe(os.fspath(file)) if file is not None else None
        self.field = terminal_safe(field) if field is not None else None
        super().__init__(self._render())

    def _render(self) -> str:
        location = [part for part in (self.file, self.field) if part]
        if not location:
            return self.message
        return f"{': '.join(location)}: {self.message}"


class ExecPluginError(ConfigError):
    """An exec credential plugin could not be run or returned an unusable credential.

    Raised at request time (plugins run lazily, like kubectl), so callers of the HTTP
    client see it instead of an opaque 401.
    """
