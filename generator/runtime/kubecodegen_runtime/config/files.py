"""Reading the small local files a kubeconfig points at, with a size bound.

Why bounded: a kubeconfig decides which files we read (``certificate-authority``,
``tokenFile``, client keys, the kubeconfig itself via ``$KUBECONFIG``). Naming
``/dev/zero`` or a multi-gigabyte file must give a clear error, not a MemoryError after
the process has eaten the machine. Real files of these kinds are a few kilobytes
(kubeconfigs with hundreds of contexts stay far below a megabyte).
"""

from __future__ import annotations

MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024
"""Largest kubeconfig file read."""

MAX_CREDENTIAL_FILE_BYTES = 4 * 1024 * 1024
"""Largest CA bundle, client certificate, key or token file read."""


class FileTooLarge(Exception):
    """A file is larger than the bound it is read with (``limit`` bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit // (1024 * 1024)} MiB")
        self.limit = limit


def read_bounded(path: str, limit: int) -> bytes:
    """The content of ``path``; :class:`FileTooLarge` beyond ``limit`` bytes.

    Reads at most ``limit + 1`` bytes, so endless devices and huge files cost nothing.
    ``OSError`` (including a path with a NUL byte, reported by Python as ``ValueError``
    and converted here) propagates for the caller to word.
    """
    if "\0" in path:
        raise OSError(0, "the path contains a NUL character")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(limit)
    return data


def describe_read_error(exc: OSError | FileTooLarge) -> str:
    """A short reason for a failed :func:`read_bounded`, without the file's content."""
    if isinstance(exc, FileTooLarge):
        return str(exc)
    return exc.strerror or type(exc).__name__
