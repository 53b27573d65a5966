"""Rules for kubeconfig text that leaves the process: to a terminal, or into an HTTP header.

A kubeconfig is often written by someone else (a cloud console, a colleague, a CRD-driven
operator), so its strings are untrusted twice over:

* printed raw, an ``installHint`` or a context name can carry terminal escape sequences
  that rewrite the screen or the window title. :func:`terminal_safe` replaces every
  character that is not a letter, mark, number, punctuation, symbol, separator or one of
  the whitespace controls tab..carriage return with its ``U+XXXX`` name -- the rule
  client-go applies to ``installHint`` (``cleanANSIEscapeCodes``), used here for every
  message we build from kubeconfig text;
* sent in a header, a token or an impersonated user name with a CR/LF would split the
  request (h11 then refuses it and its error -- value included -- lands in DEBUG logs).
  :func:`header_value_problem` names what is wrong *without* quoting the value, so the
  loader can refuse the field up front with a ConfigError that is safe to print.
"""

from __future__ import annotations

import unicodedata

_ALLOWED_CATEGORIES = frozenset("LMNPSZ")
_SPACE_CONTROLS = range(0x09, 0x0E)  # tab, newline, vertical tab, form feed, carriage return


def terminal_safe(text: str) -> str:
    """``text`` with every non-printable character shown as ``U+XXXX`` (never removed,
    so nothing hides what the file really says)."""
    if text.isprintable():  # fast path: no control, format or odd separator characters
        return text
    return "".join(
        char
        if ord(char) in _SPACE_CONTROLS or unicodedata.category(char)[0] in _ALLOWED_CATEGORIES
        else f"U+{ord(char):04X}"
        for char in text
    )


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an HTTP header value, or None if it can.

    Go's net/http rejects control characters other than tab; httpx in addition can only
    send ASCII from a ``str``. Both are checked so the failure happens at load time, in
    our words, instead of deep in the HTTP stack with the value in the message.
    """
    for char in value:
        code = ord(char)
        if char in "\r\n":
            return "contains a line break (CR or LF)"
        if (code < 0x20 and char != "\t") or code == 0x7F:
            return "contains a control character"
        if code > 0x7E:
            return "contains a non-ASCII character"
    return None
