"""Errors raised while loading or validating a spec document.

Every problem is reported as *where* (the source and an RFC 6901 JSON pointer into the
document) plus *what* (a sentence saying what was expected), because a user facing a
4 MB swagger file needs to jump straight to the offending node.  The CLI maps these
exceptions to exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: How many problems a :class:`SpecErrors` shows; the rest are only counted, since a
#: broken generator or a wrong document type can produce thousands of identical findings.
MAX_REPORTED_ERRORS = 50


def escape_pointer_token(token: str) -> str:
    """Escape one reference token as RFC 6901 requires (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    """Undo :func:`escape_pointer_token` (order matters: ``~1`` first, then ``~0``)."""
    return token.replace("~1", "/").replace("~0", "~")


def make_pointer(tokens: Iterable[str | int]) -> str:
    """Build a JSON pointer from path tokens; ``[]`` gives ``""`` (the whole document)."""
    return "".join("/" + escape_pointer_token(str(token)) for token in tokens)


def printable(text: str) -> str:
    """Render control characters visibly so a hostile name cannot forge extra output lines."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


class SpecError(Exception):
    """One problem in a spec document, located by source and JSON pointer."""

    source: str
    pointer: str
    message: str

    def __init__(self, source: str, pointer: str, message: str) -> None:
        super().__init__(source, pointer, message)
        self.source = source
        self.pointer = pointer
        self.message = message

    @property
    def location(self) -> str:
        """The pointer as a URI fragment (``#/definitions/...``), the form people paste."""
        return "#" + printable(self.pointer)

    def __str__(self) -> str:
        return f"{printable(self.source)}: {self.location}: {printable(self.message)}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r}, {self.pointer!r}, {self.message!r})"


def _sort_key(error: SpecError) -> tuple[str, str]:
    return (error.pointer, error.message)


class SpecErrors(SpecError):
    """Several problems found in one pass, so the user can fix them all in one go.

    ``errors`` is sorted by pointer and capped at :data:`MAX_REPORTED_ERRORS`;
    ``total`` is the number found before capping.
    """

    errors: list[SpecError]
    total: int

    def __init__(self, source: str, errors: Sequence[SpecError], total: int | None = None) -> None:
        ordered = sorted(errors, key=_sort_key)
        shown = ordered[:MAX_REPORTED_ERRORS]
        count = len(ordered) if total is None else max(total, len(ordered))
        summary = f"{count} problems found"
        if count > len(shown):
            summary += f" (showing the first {len(shown)})"
        super().__init__(source, "", summary)
        self.errors = shown
        self.total = count

    def __str__(self) -> str:
        lines = [super().__str__()]
        lines.extend(f"  {error}" for error in self.errors)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"SpecErrors({self.source!r}, total={self.total}, errors={self.errors!r})"


def raise_collected(source: str, errors: Sequence[SpecError], total: int | None = None) -> None:
    """Raise nothing, the single error, or a :class:`SpecErrors` holding all of them."""
    if not errors:
        return
    if len(errors) == 1 and (total is None or total <= 1):
        raise errors[0]
    raise SpecErrors(source, errors, total)
