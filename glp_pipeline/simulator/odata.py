"""The OData subset GreenLake accepts in `filter`, `filter-tags`, `sort` and `select`.

A small recursive-descent parser rather than a PyPI package: the GLP docs write `in` three ways
(`in 'a', 'b'`, `in ('a','b')`, `in ['a','b']`) and no OData library found accepts all of them. Errors carry a
character position and name the offending property, so a client can show the 400 to a person as is.

The module is pure: it knows nothing about devices. `compile_filter` asks a resolver for each property
name and gets back a `FieldSpec` (how to read the value, which type to compare it as).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
KEYWORDS = COMPARISONS | {"in", "and", "or", "not", "true", "false", "null"}


class FilterError(ValueError):
    """A filter, sort or select expression the server must refuse with 400."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class Kind(enum.Enum):
    """How a property's values compare."""

    STRING = "string"
    NUMBER = "number"  # numbers, and numeric strings such as a subscription's "quantity"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # RFC 3339 strings, compared as instants


@dataclass(frozen=True)
class FieldSpec:
    """A filterable/sortable property: its name, type and how to read it from a record."""

    name: str
    kind: Kind
    get: Callable[[dict[str, Any]], Any]
    many: bool = False  # the getter returns a list; a comparison matches if any element does


# --- AST ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    kind: str  # "string" | "number" | "bool" | "null"
    value: Any
    pos: int


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    value: Literal
    pos: int


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[Literal, ...]
    pos: int


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    operand: Expr


Expr = Compare | In | And | Or | Not


# --- Tokenizer ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<string>'(?:[^']|'')*')
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w/]))
    |(?P<ident>[A-Za-z_][\w]*(?:/[A-Za-z_][\w]*)*)
    |(?P<punct>[()\[\],])""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    type: str  # string, number, ident, punct, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; an unclosed quote or a stray character is an error at its position."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] == "'":
                raise FilterError(f"unterminated string literal starting at position {pos}", pos)
            raise FilterError(f"unexpected character {text[pos]!r} at position {pos}", pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _describe(token: Token) -> str:
    return "end of input" if token.type == "end" else f"{token.text!r} at position {token.pos}"


# --- Parser -------------------------------------------------------------------------------------


class _Parser:
    """expr := and ('or' and)* ; and := unary ('and' unary)* ; unary := 'not' unary | '(' expr ')' | test."""

    def __init__(self, text: str, tags: bool) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.tags = tags

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _keyword(self, *words: str) -> bool:
        return self.tok.type == "ident" and self.tok.text.lower() in words

    def _take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Expr:
        if self.tok.type == "end":
            raise FilterError("empty expression", 0)
        expr = self._or()
        if self.tok.type != "end":
            raise FilterError(
                f"expected 'and', 'or' or end of input, found {_describe(self.tok)}", self.tok.pos
            )
        return expr

    def _or(self) -> Expr:
        left = self._and()
        while self._keyword("or"):
            self._take()
            left = Or(left, self._and())
        return left

    def _and(self) -> Expr:
        left = self._unary()
        while self._keyword("and"):
            self._take()
            left = And(left, self._unary())
        return left

    def _unary(self) -> Expr:
        if self._keyword("not"):
            self._take()
            return Not(self._unary())
        if self.tok.text == "(":
            self._take()
            expr = self._or()
            if self.tok.text != ")":
                raise FilterError(f"expected ')', found {_describe(self.tok)}", self.tok.pos)
            self._take()
            return expr
        return self._test()

    def _test(self) -> Expr:
        start = self.tok
        if self.tags and start.type == "string":
            name = start.text[1:-1].replace("''", "'")
        elif start.type == "ident" and start.text.lower() not in KEYWORDS:
            name = start.text
        else:
            wanted = "a quoted tag key" if self.tags else "a property name"
            raise FilterError(f"expected {wanted}, found {_describe(start)}", start.pos)
        self._take()
        op_token = self.tok
        op = op_token.text.lower() if op_token.type == "ident" else ""
        if op == "in":
            self._take()
            return In(name, self._list(), start.pos)
        if op in COMPARISONS:
            self._take()
            return Compare(name, op, self._literal(), start.pos)
        raise FilterError(
            f"expected an operator (eq ne gt ge lt le in) after {start.text}, found {_describe(op_token)}",
            op_token.pos,
        )

    def _list(self) -> tuple[Literal, ...]:
        closer = {"(": ")", "[": "]"}.get(self.tok.text)
        if closer:
            self._take()
        values = [self._literal()]
        while self.tok.text == ",":
            self._take()
            values.append(self._literal())
        if closer:
            if self.tok.text != closer:
                raise FilterError(f"expected ',' or {closer!r}, found {_describe(self.tok)}", self.tok.pos)
            self._take()
        return tuple(values)

    def _literal(self) -> Literal:
        token = self.tok
        if token.type == "string":
            self._take()
            return Literal("string", token.text[1:-1].replace("''", "'"), token.pos)
        if token.type == "number":
            self._take()
            number = float(token.text)
            return Literal(
                "number", int(number) if number.is_integer() and "." not in token.text else number, token.pos
            )
        if token.type == "ident" and token.text.lower() in ("true", "false"):
            self._take()
            return Literal("bool", token.text.lower() == "true", token.pos)
        if token.type == "ident" and token.text.lower() == "null":
            self._take()
            return Literal("null", None, token.pos)
        hint = " (string values need single quotes)" if token.type == "ident" else ""
        raise FilterError(f"expected a value, found {_describe(token)}{hint}", token.pos)


def parse_filter(text: str, *, tags: bool = False) -> Expr:
    """Parse a `filter` (or, with tags=True, a `filter-tags`) expression into an AST."""
    return _Parser(text, tags).parse()


# --- Compilation to a predicate -----------------------------------------------------------------


def parse_timestamp(text: str) -> datetime:
    """RFC 3339 (with Z or an offset; a bare date means midnight UTC) to an aware datetime."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _field_value(kind: Kind, raw: Any) -> Any:
    """A record's raw value in comparable form, or None when absent or unreadable."""
    if raw is None:
        return None
    try:
        if kind is Kind.NUMBER:
            return float(raw)
        if kind is Kind.TIMESTAMP:
            return parse_timestamp(raw).timestamp()
    except (TypeError, ValueError):
        return None
    return raw


def _literal_value(spec: FieldSpec, lit: Literal, *, tags: bool) -> Any:
    """Coerce a literal to the property's type, or explain why it cannot be compared."""
    if lit.kind == "null":
        return None
    what = f"tag {spec.name!r}" if tags else f"property {spec.name!r}"
    if spec.kind is Kind.STRING:
        if lit.kind != "string":
            raise FilterError(f"{what} is a string: quote the value, e.g. '{lit.value}'", lit.pos)
        return lit.value
    value: Any = None
    try:
        if spec.kind is Kind.NUMBER and lit.kind != "bool":
            value = float(lit.value)
        elif spec.kind is Kind.BOOLEAN and lit.kind == "bool":
            value = lit.value
        elif spec.kind is Kind.BOOLEAN and lit.kind == "string" and lit.value.lower() in ("true", "false"):
            value = lit.value.lower() == "true"
        elif spec.kind is Kind.TIMESTAMP and lit.kind == "string":
            value = parse_timestamp(lit.value).timestamp()
    except (TypeError, ValueError):
        value = None
    if value is None:
        raise FilterError(
            f"{what} is a {spec.kind.value}; {lit.value!r} at position {lit.pos} is not a {spec.kind.value}",
            lit.pos,
        )
    return value


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def _matcher(spec: FieldSpec, op: str, target: Any, pos: int, tags: bool) -> Callable[[Any], bool]:
    """A test of one comparable value (never None for ordering operators)."""
    if op == "eq":
        return lambda v: v == target
    if op == "ne":
        return lambda v: v != target
    if tags:
        raise FilterError(f"filter-tags supports eq, ne and in; {op!r} at position {pos} is not allowed", pos)
    if target is None:
        raise FilterError(f"{op!r} cannot compare with null (position {pos}); use eq null or ne null", pos)
    if spec.kind is Kind.BOOLEAN:
        raise FilterError(f"{op!r} is not defined for boolean property {spec.name!r} (position {pos})", pos)
    compare = _OPS[op]
    return lambda v: v is not None and compare(v, target)


def _leaf(spec: FieldSpec, test: Callable[[Any], bool], negate_any: bool) -> Callable[[dict[str, Any]], bool]:
    kind, get = spec.kind, spec.get
    if spec.many:
        if negate_any:  # 'ne' on a list property: no element equals the value
            return lambda r: not any(not test(_field_value(kind, v)) for v in (get(r) or ()))
        return lambda r: any(test(_field_value(kind, v)) for v in (get(r) or ()))
    if kind in (Kind.STRING, Kind.BOOLEAN):
        return lambda r: test(get(r))
    return lambda r: test(_field_value(kind, get(r)))


def compile_filter(
    expr: Expr, resolve: Callable[[str, int], FieldSpec], *, tags: bool = False
) -> Callable[[dict[str, Any]], bool]:
    """An AST as a predicate over records; `resolve(name, position)` raises FilterError for unknown names."""
    if isinstance(expr, And):
        left, right = (
            compile_filter(expr.left, resolve, tags=tags),
            compile_filter(expr.right, resolve, tags=tags),
        )
        return lambda r: left(r) and right(r)
    if isinstance(expr, Or):
        left, right = (
            compile_filter(expr.left, resolve, tags=tags),
            compile_filter(expr.right, resolve, tags=tags),
        )
        return lambda r: left(r) or right(r)
    if isinstance(expr, Not):
        inner = compile_filter(expr.operand, resolve, tags=tags)
        return lambda r: not inner(r)
    spec = resolve(expr.field, expr.pos)
    if isinstance(expr, In):
        allowed = frozenset(_literal_value(spec, lit, tags=tags) for lit in expr.values)
        return _leaf(spec, lambda v: v in allowed, negate_any=False)
    target = _literal_value(spec, expr.value, tags=tags)
    test = _matcher(spec, expr.op, target, expr.pos, tags)
    return _leaf(spec, test, negate_any=expr.op == "ne")


# --- sort and select ----------------------------------------------------------------------------

_SORT_TERM = re.compile(r"^\s*([A-Za-z_][\w]*(?:/[A-Za-z_][\w]*)*)(?:\s+(\w+))?\s*$")


class SortTerm(NamedTuple):
    name: str
    descending: bool
    position: int


def parse_sort(text: str) -> list[SortTerm]:
    """`serialNumber, macAddress desc` to [SortTerm(name, descending, position)]."""
    terms: list[SortTerm] = []
    for position, part in _split_commas(text):
        match = _SORT_TERM.match(part)
        if not match:
            raise FilterError(
                f"sort term {part.strip()!r} at position {position} is not 'property [asc|desc]'", position
            )
        direction = (match.group(2) or "asc").lower()
        if direction not in ("asc", "desc"):
            raise FilterError(f"sort direction {match.group(2)!r} must be asc or desc", position)
        name_at = position + len(part) - len(part.lstrip())
        terms.append(SortTerm(match.group(1), direction == "desc", name_at))
    return terms


def parse_select(values: Iterable[str]) -> list[str]:
    """`select=a,b` (or repeated `select=`) to a de-duplicated list of property names."""
    names: list[str] = []
    for value in values:
        for position, part in _split_commas(value):
            name = part.strip()
            if not re.fullmatch(r"[A-Za-z_]\w*", name):
                raise FilterError(
                    f"select entry {name!r} at position {position} is not a property name", position
                )
            if name not in names:
                names.append(name)
    return names


def _split_commas(text: str) -> list[tuple[int, str]]:
    parts, position = [], 0
    for part in text.split(","):
        parts.append((position, part))
        position += len(part) + 1
    if not any(part.strip() for _, part in parts):
        raise FilterError("empty expression", 0)
    return parts


def sort_records(
    records: Sequence[dict[str, Any]], keys: Sequence[tuple[FieldSpec, bool]]
) -> list[dict[str, Any]]:
    """Stable multi-key sort; nulls last ascending and first descending (PostgreSQL's default)."""
    result = list(records)
    for spec, descending in reversed(keys):

        def key(record: dict[str, Any], spec: FieldSpec = spec) -> tuple[bool, Any]:
            raw = spec.get(record)
            if spec.many:
                raw = raw[0] if raw else None
            value = _field_value(spec.kind, raw)
            return (value is None, 0 if value is None else value)

        result.sort(key=key, reverse=descending)
    return result
