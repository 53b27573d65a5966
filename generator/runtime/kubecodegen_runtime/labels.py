"""Label selectors: the apimachinery grammar, validation, matching and canonical strings.

Grammar (as ``kubectl -l`` and the API server accept it)::

    selector    := "" | requirement ("," requirement)*
    requirement := KEY                          exists
                 | "!" KEY                      does not exist
                 | KEY ("=" | "==" | "!=") VALUE?     equality / inequality (VALUE may be empty)
                 | KEY ("in" | "notin") "(" VALUES ")"  set membership
                 | KEY (">" | "<") INTEGER      numeric comparison (label value parsed as integer)
    VALUES      := VALUE? ("," VALUE?)*

Whitespace between tokens is ignored. A KEY is an optional DNS-subdomain prefix and ``/``
followed by a name of at most 63 characters (alphanumeric at both ends, ``-_.`` inside); a
VALUE is empty or at most 63 such characters. ``in``/``notin`` are keywords only in operator
position: as keys and values they are ordinary words (``in in (notin)`` is the key ``in``
with the value ``notin``), exactly as apimachinery's parser reads them.

Matching follows apimachinery: ``!=`` and ``notin`` match objects that lack the label, ``>``
and ``<`` need the label present and parseable as an integer. Errors are
:class:`LabelSelectorError` with the 0-based character offset of the offending token.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LabelSelectorError",
    "Operator",
    "Requirement",
    "Selector",
    "as_selector",
    "validate_label_key",
    "validate_label_value",
]

_NAME_MAX = 63
_PREFIX_MAX = 253
# Always used with fullmatch: "$" would also accept a trailing newline.
_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_DNS1123_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_INT_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _parse_int64(text: str) -> int | None:
    """The integer Go's ``strconv.ParseInt(text, 10, 64)`` reads, or None where it fails.

    Python's ``int()`` alone is too lenient: it accepts ``_`` separators, surrounding
    whitespace, non-ASCII digits and values beyond int64, all of which Go rejects.
    """
    if not _INT_RE.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


class LabelSelectorError(ValueError):
    """A label selector (or a key/value in one) is malformed.

    ``selector`` is the text parsed, ``position`` the 0-based offset of the offending token
    (``None`` when not parsing text), ``reason`` the bare explanation.
    """

    def __init__(self, reason: str, selector: str | None = None, position: int | None = None):
        self.reason = reason
        self.selector = selector
        self.position = position
        where = f" at {position}" if position is not None else ""
        prefix = f"invalid label selector {selector!r}: " if selector is not None else ""
        # The position goes right after the first clause ("unexpected ')' at 12: ...").
        head, sep, tail = reason.partition(": ")
        super().__init__(f"{prefix}{head}{where}{sep}{tail}")


class Operator(str, enum.Enum):
    """A requirement's operator; values are apimachinery's ``selection.Operator`` strings."""

    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


def _check_key(key: str) -> str | None:
    if key.count("/") > 1:
        return (
            "a label key must be a name with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/my-name'), found more than one '/'"
        )
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            return "prefix part must be non-empty"
        if len(prefix) > _PREFIX_MAX:
            return f"prefix part must be no more than {_PREFIX_MAX} characters"
        if not _DNS1123_SUBDOMAIN_RE.fullmatch(prefix):
            return (
                "prefix part must be a lowercase RFC 1123 subdomain: lower case alphanumeric "
                "characters, '-' or '.', starting and ending with an alphanumeric character"
            )
    if not name:
        return "name part must be non-empty"
    if len(name) > _NAME_MAX:
        return f"name part must be no more than {_NAME_MAX} characters"
    if not _NAME_RE.fullmatch(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def _check_value(value: str) -> str | None:
    if len(value) > _NAME_MAX:
        return f"must be no more than {_NAME_MAX} characters"
    if not _VALUE_RE.fullmatch(value):
        return (
            "must be empty or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def validate_label_key(key: str) -> None:
    """Raise :class:`LabelSelectorError` unless ``key`` is a valid label key."""
    problem = _check_key(key)
    if problem is not None:
        raise LabelSelectorError(f"invalid label key {key!r}: {problem}")


def validate_label_value(value: str) -> None:
    """Raise :class:`LabelSelectorError` unless ``value`` is a valid label value."""
    problem = _check_value(value)
    if problem is not None:
        raise LabelSelectorError(f"invalid label value {value!r}: {problem}")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One clause of a selector: ``key``, ``operator`` and its ``values`` (sorted, unique).

    Build it with :meth:`create`, which validates; the constructor trusts its input.
    """

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    @classmethod
    def create(cls, key: str, operator: Operator | str, values: Iterable[str] = ()) -> Requirement:
        """A validated requirement; raises :class:`LabelSelectorError` naming the problem."""
        try:
            op = Operator(operator)
        except ValueError:
            known = ", ".join(repr(o.value) for o in Operator)
            raise LabelSelectorError(
                f"{key!r}: operator {operator!r} is not supported (one of {known})"
            ) from None
        vals = tuple(sorted(set(values)))
        problem = _requirement_problem(key, op, vals)
        if problem is not None:
            raise LabelSelectorError(problem)
        return cls(key, op, vals)

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op is Operator.EXISTS:
            return self.key in labels
        if op is Operator.DOES_NOT_EXIST:
            return self.key not in labels
        value = labels.get(self.key)
        if op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN):
            return value is not None and value in self.values
        if op in (Operator.NOT_EQUALS, Operator.NOT_IN):
            return value is None or value not in self.values
        # GREATER_THAN / LESS_THAN: label must be present and an int64, like the bound.
        have = None if value is None else _parse_int64(value)
        want = _parse_int64(self.values[0]) if len(self.values) == 1 else None
        if have is None or want is None:
            return False
        return have > want if op is Operator.GREATER_THAN else have < want

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.EXISTS:
            return self.key
        if op is Operator.DOES_NOT_EXIST:
            return f"!{self.key}"
        if op in (Operator.IN, Operator.NOT_IN):
            return f"{self.key} {op.value} ({','.join(self.values)})"
        symbol = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, op.value)
        return f"{self.key}{symbol}{self.values[0]}"


def _requirement_problem(key: str, op: Operator, values: tuple[str, ...]) -> str | None:
    problem = _check_key(key)
    if problem is not None:
        return f"invalid label key {key!r}: {problem}"
    if op in (Operator.IN, Operator.NOT_IN) and not values:
        return f"{key!r}: 'in' and 'notin' need at least one value"
    if op in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS) and len(values) != 1:
        return f"{key!r}: equality needs exactly one value"
    if op in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
        return f"{key!r}: exists and does-not-exist take no values"
    if op in (Operator.GREATER_THAN, Operator.LESS_THAN):
        if len(values) != 1:
            return f"{key!r}: '>' and '<' need exactly one value"
        if _parse_int64(values[0]) is None:
            return f"{key!r}: '>' and '<' need an integer value, found {values[0]!r}"
    for value in values:
        problem = _check_value(value)
        if problem is not None:
            return f"invalid label value {value!r} for key {key!r}: {problem}"
    return None


@dataclass(frozen=True, slots=True)
class Selector:
    """A conjunction of requirements; the empty selector matches everything.

    ``str(selector)`` is the canonical form sent as ``labelSelector``: requirements sorted
    by key, set values sorted; it parses back to an equal selector.
    """

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def everything(cls) -> Selector:
        return _EVERYTHING

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Parse the apimachinery selector syntax; raises :class:`LabelSelectorError`."""
        return _Parser(text).parse()

    @classmethod
    def from_dict(cls, labels: Mapping[str, str]) -> Selector:
        """Equality requirements ``key=value`` for every entry (validated)."""
        return cls._of(Requirement.create(k, Operator.EQUALS, (v,)) for k, v in labels.items())

    @classmethod
    def from_label_selector(cls, label_selector: Any) -> Selector:
        """Convert a ``meta/v1`` LabelSelector (struct or wire-form dict) to a Selector.

        An empty LabelSelector selects everything. ``None`` is rejected: what an absent
        selector means (nothing, or everything) depends on the field, so the caller decides.
        """
        if label_selector is None:
            raise LabelSelectorError("a LabelSelector is required, got None")
        if isinstance(label_selector, Mapping):
            match_labels = label_selector.get("matchLabels") or {}
            expressions = label_selector.get("matchExpressions") or []
        else:
            match_labels = getattr(label_selector, "match_labels", None) or {}
            expressions = getattr(label_selector, "match_expressions", None) or []
        reqs = [Requirement.create(k, Operator.EQUALS, (v,)) for k, v in match_labels.items()]
        for i, expr in enumerate(expressions):
            if isinstance(expr, Mapping):
                key, op, values = expr.get("key"), expr.get("operator"), expr.get("values")
            else:
                key = getattr(expr, "key", None)
                op = getattr(expr, "operator", None)
                values = getattr(expr, "values", None)
            operator = _EXPRESSION_OPERATORS.get(op) if isinstance(op, str) else None
            if operator is None:
                raise LabelSelectorError(
                    f"matchExpressions[{i}]: operator {op!r} is not one of In, NotIn, Exists, "
                    "DoesNotExist"
                )
            if not isinstance(key, str):
                raise LabelSelectorError(f"matchExpressions[{i}]: key is missing")
            try:
                reqs.append(Requirement.create(key, operator, values or ()))
            except LabelSelectorError as exc:
                raise LabelSelectorError(f"matchExpressions[{i}]: {exc.reason}") from None
        return cls._of(reqs)

    @classmethod
    def _of(cls, requirements: Iterable[Requirement]) -> Selector:
        return cls(tuple(sorted(requirements, key=lambda r: r.key)))

    def is_everything(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies every requirement."""
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


_EVERYTHING = Selector()

_EXPRESSION_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def as_selector(value: Selector | str | Mapping[str, str] | None) -> Selector:
    """Accept what users naturally pass (text, a dict of labels, a Selector, or None)."""
    if value is None:
        return _EVERYTHING
    if isinstance(value, Selector):
        return value
    if isinstance(value, str):
        return Selector.parse(value)
    return Selector.from_dict(value)


# -- lexer and parser ---------------------------------------------------------------------


class _Tok(enum.Enum):
    IDENT = "identifier"
    END = "end of string"
    OPEN = "'('"
    CLOSE = "')'"
    COMMA = "','"
    NOT = "'!'"
    EQ = "'='"
    DEQ = "'=='"
    NEQ = "'!='"
    GT = "'>'"
    LT = "'<'"
    IN = "'in'"
    NOTIN = "'notin'"


_SYMBOLS = {
    "!=": _Tok.NEQ,
    "==": _Tok.DEQ,
    "=": _Tok.EQ,
    "!": _Tok.NOT,
    "(": _Tok.OPEN,
    ")": _Tok.CLOSE,
    ",": _Tok.COMMA,
    ">": _Tok.GT,
    "<": _Tok.LT,
}
_SPECIAL = frozenset("!=(),><")
_SPACE = frozenset(" \t\r\n")

_BINARY = {
    _Tok.EQ: Operator.EQUALS,
    _Tok.DEQ: Operator.DOUBLE_EQUALS,
    _Tok.NEQ: Operator.NOT_EQUALS,
    _Tok.IN: Operator.IN,
    _Tok.NOTIN: Operator.NOT_IN,
    _Tok.GT: Operator.GREATER_THAN,
    _Tok.LT: Operator.LESS_THAN,
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Tok
    text: str
    pos: int


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
        elif ch in _SPECIAL:
            two = text[i : i + 2]
            sym = two if two in _SYMBOLS else ch
            tokens.append(_Token(_SYMBOLS[sym], sym, i))
            i += len(sym)
        else:
            start = i
            while i < n and text[i] not in _SPECIAL and text[i] not in _SPACE:
                i += 1
            word = text[start:i]
            kind = {"in": _Tok.IN, "notin": _Tok.NOTIN}.get(word, _Tok.IDENT)
            tokens.append(_Token(kind, word, start))
    tokens.append(_Token(_Tok.END, "", n))
    return tokens


def _describe(tok: _Token) -> str:
    return "end of string" if tok.kind is _Tok.END else repr(tok.text)


class _Parser:
    """Recursive-descent parser over the token list (one token of lookahead)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.i = 0

    # ``words=True`` reads ``in``/``notin`` as plain identifiers. Only the operator position
    # wants them as keywords; keys and values (apimachinery's "Values" context) do not.
    def _peek(self, words: bool = True) -> _Token:
        return self._as_word(self.tokens[self.i]) if words else self.tokens[self.i]

    def _next(self, words: bool = True) -> _Token:
        tok = self._peek(words)
        if tok.kind is not _Tok.END:
            self.i += 1
        return tok

    @staticmethod
    def _as_word(tok: _Token) -> _Token:
        if tok.kind in (_Tok.IN, _Tok.NOTIN):
            return _Token(_Tok.IDENT, tok.text, tok.pos)
        return tok

    def _fail(self, reason: str, pos: int) -> LabelSelectorError:
        return LabelSelectorError(reason, self.text, pos)

    def _unexpected(self, tok: _Token, expected: str) -> LabelSelectorError:
        return self._fail(f"unexpected {_describe(tok)}: expected {expected}", tok.pos)

    def parse(self) -> Selector:
        requirements: list[Requirement] = []
        if self._peek().kind is _Tok.END:
            return _EVERYTHING
        while True:
            requirements.append(self._requirement())
            tok = self._next()
            if tok.kind is _Tok.END:
                break
            if tok.kind is not _Tok.COMMA:
                raise self._unexpected(tok, "',' or end of string")
            if self._peek().kind not in (_Tok.IDENT, _Tok.NOT):
                raise self._unexpected(self._peek(), "a label key or '!' after ','")
        return Selector._of(requirements)

    def _requirement(self) -> Requirement:
        negated = self._peek().kind is _Tok.NOT
        if negated:
            self._next()
        key_tok = self._next()
        if key_tok.kind is not _Tok.IDENT:
            raise self._unexpected(key_tok, "a label key" if negated else "a label key or '!'")
        key = key_tok.text
        problem = _check_key(key)
        if problem is not None:
            raise self._fail(f"invalid label key {key!r}: {problem}", key_tok.pos)
        after = self._peek()
        if after.kind in (_Tok.END, _Tok.COMMA):
            return Requirement(key, Operator.DOES_NOT_EXIST if negated else Operator.EXISTS)
        if negated:
            raise self._unexpected(after, "',' or end of string after '!key'")
        op_tok = self._next(words=False)
        op = _BINARY.get(op_tok.kind)
        if op is None:
            raise self._unexpected(op_tok, "an operator (=, ==, !=, in, notin, >, <)")
        if op in (Operator.IN, Operator.NOT_IN):
            value_toks = self._set_values(op_tok)
        else:
            value_toks = [self._exact_value(op_tok)]
        return self._build(key, op, value_toks, op_tok)

    def _exact_value(self, op_tok: _Token) -> _Token:
        tok = self._peek()
        if tok.kind in (_Tok.END, _Tok.COMMA):
            return _Token(_Tok.IDENT, "", tok.pos)  # "a=" means the empty value
        self._next()
        if tok.kind is not _Tok.IDENT:
            raise self._unexpected(tok, f"a value after {op_tok.text!r}")
        return tok

    def _set_values(self, op_tok: _Token) -> list[_Token]:
        open_tok = self._next()
        if open_tok.kind is not _Tok.OPEN:
            raise self._unexpected(open_tok, f"'(' after {op_tok.text!r}")
        values: list[_Token] = []
        expect_value = True
        while True:
            tok = self._next()
            if tok.kind is _Tok.IDENT and expect_value:
                values.append(tok)
                expect_value = False
            elif tok.kind is _Tok.COMMA:
                if expect_value:  # "(,", ",," and ",)" stand for the empty value
                    values.append(_Token(_Tok.IDENT, "", tok.pos))
                expect_value = True
            elif tok.kind is _Tok.CLOSE:
                if expect_value:
                    values.append(_Token(_Tok.IDENT, "", tok.pos))
                return values
            elif tok.kind is _Tok.IDENT:
                raise self._unexpected(tok, "',' or ')'")
            else:
                raise self._unexpected(tok, "a value, ',' or ')'")

    def _build(self, key: str, op: Operator, toks: list[_Token], op_tok: _Token) -> Requirement:
        for tok in toks:
            problem = _check_value(tok.text)
            if problem is not None:
                raise self._fail(
                    f"invalid label value {tok.text!r} for key {key!r}: {problem}", tok.pos
                )
        is_comparison = op in (Operator.GREATER_THAN, Operator.LESS_THAN)
        if is_comparison and _parse_int64(toks[0].text) is None:
            raise self._fail(
                f"invalid value {toks[0].text!r} for {op_tok.text!r}: expected a 64-bit integer",
                toks[0].pos,
            )
        return Requirement(key, op, tuple(sorted({t.text for t in toks})))
