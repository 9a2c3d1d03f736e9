"""Shared pieces of the query layer: the page type, parameter checks and safe SQL building blocks.

Filters are assembled from fixed SQL fragments with `%s` placeholders; user input only ever travels as a
parameter, and the one identifier a caller picks (the sort column) comes from an allow-list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from glp_pipeline.queries.connection import InvalidParameter, QueryConfig, read_only_connection

MAX_PAGE_SIZE = 500
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True)
class Page:
    """One page of results and the total count of matches, for server-side paging."""

    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass
class Where:
    """A conjunction of SQL fragments and their parameters, built one filter at a time."""

    clauses: list[sql.Composable] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, fragment: str, *params: Any) -> None:
        self.clauses.append(sql.SQL(fragment))  # type: ignore[arg-type]  # fixed fragments only
        self.params.extend(params)

    def sql(self) -> sql.Composable:
        if not self.clauses:
            return sql.SQL("true")
        return sql.SQL(" and ").join(sql.SQL("({})").format(c) for c in self.clauses)


def check_paging(page: int, page_size: int) -> None:
    if not isinstance(page, int) or page < 1:
        raise InvalidParameter(f"page must be a whole number of 1 or more, not {page!r}.")
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidParameter(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size!r}.")


def check_days(days: int | None) -> None:
    if days is not None and (not isinstance(days, int) or not 0 <= days <= MAX_EXPIRY_DAYS):
        raise InvalidParameter(f"expiring_within_days must be between 0 and {MAX_EXPIRY_DAYS}, not {days!r}.")


def order_by(sort: str, allowed: dict[str, str], tiebreak: str, *, descending: bool) -> sql.Composable:
    """`order by <allowed column> [desc] nulls last, <tiebreak>`: a stable order for paging."""
    if sort not in allowed:
        raise InvalidParameter(f"Cannot sort by {sort!r}; choose one of: {', '.join(sorted(allowed))}.")
    direction = sql.SQL("desc") if descending else sql.SQL("asc")
    return sql.SQL("order by {} {} nulls last, {}").format(
        sql.SQL(allowed[sort]),  # type: ignore[arg-type]  # from the allow-list
        direction,
        sql.SQL(tiebreak),  # type: ignore[arg-type]
    )


def search_order(
    text: str | None,
    sort: str | None,
    default: str,
    allowed: dict[str, str],
    tiebreak: str,
    *,
    descending: bool,
) -> sql.Composable:
    """The order of a search: `relevance` (best match first) is the default with a text and means nothing
    without one; any other sort comes from the allow-list, in the direction asked."""
    sort = sort or ("relevance" if text else default)
    if sort == "relevance" and not text:
        sort = default
    return order_by(sort, allowed, tiebreak, descending=descending if sort != "relevance" else True)


def fetch_page(
    url: str,
    config: QueryConfig,
    count_query: sql.Composable,
    page_query: sql.Composable,
    where: Where,
    rank_params: list[Any],
    page: int,
    page_size: int,
) -> Page:
    """Count the matches and read one page of them in one read-only transaction (one snapshot, so the
    total and the rows agree). `page_query` takes the rank's parameters, the filters', then limit/offset."""
    with read_only_connection(url, config) as conn, conn.transaction():
        total = conn.execute(count_query, where.params).fetchone()["n"]  # type: ignore[index]
        rows = conn.execute(
            page_query, [*rank_params, *where.params, page_size, (page - 1) * page_size]
        ).fetchall()
    for row in rows:
        row["rank"] = float(row["rank"])
    return Page(items=rows, total=total, page=page, page_size=page_size)


def match_text(
    where: Where, text: str | None, alias: str, exact_column: str
) -> tuple[sql.Composable, list[Any]]:
    """Add the search for `text` on `<alias>.search_vector` (see `prefix_tsquery`) to `where`, and return the
    rank to order by (the vector's rank, plus 1 when `exact_column` equals the text, ignoring case) with its
    parameters. Without a text nothing is added and the rank is 0. `alias` and `exact_column` are fixed
    names from the caller, never user input."""
    if not text:
        return sql.SQL("0.0"), []
    tsquery = prefix_tsquery(text)
    if tsquery:
        where.add(f"{alias}.search_vector @@ to_tsquery('simple', %s)", tsquery)
    else:
        where.add("false")  # no letter or digit in the text: nothing matches
    rank = sql.SQL(
        "ts_rank({vector}, to_tsquery('simple', %s)) + case when upper({exact}) = upper(%s) then 1 else 0 end"
    ).format(vector=sql.Identifier(alias, "search_vector"), exact=sql.Identifier(alias, exact_column))
    return rank, [tsquery or "", text]


def prefix_tsquery(text: str) -> str | None:
    """The `to_tsquery('simple', ...)` source that finds what a person means by a search text, answered by
    the `search_vector` GIN index alone (no table scan at any size).

    Every whitespace-separated word of the text must match the beginning of a word in the vector: its
    letter/digit runs as prefixes (`jose-gw` finds "San Jose-GW-668", `cg7r0` the serial CG7R0N6O4), or
    the word as the database's parser reads it (`10.4`, `ap.lobby.example.com`), or, when it is hex digits
    with `:`, `-` or `.` separators, the MAC address's bare hex digits (`94-60-d5` finds 94:60:D5:...).
    None when the text has no letter or digit, which matches nothing. User text only reaches the query as
    quoted lexemes of letters and digits (or a whole word without quote or backslash), never as operators.
    """
    terms = []
    for word in text.split():
        parts = _WORD_PARTS.findall(word.lower())
        if not parts:
            continue
        alternatives = [" & ".join(f"'{part}':*" for part in parts)]
        hex_digits = _MAC_SEPARATORS.sub("", word)
        if len(parts) > 1 and _HEX.fullmatch(hex_digits):
            # A MAC fragment: its parts alone ("94", "60") would match far too much.
            alternatives = [f"'{hex_digits.lower()}':*"]
        if len(parts) > 1 and not _UNQUOTABLE.search(word):
            alternatives.append(f"'{word.lower()}':*")
        terms.append("(" + " | ".join(alternatives) + ")" if len(alternatives) > 1 else alternatives[0])
    return " & ".join(terms) or None


_WORD_PARTS = re.compile(r"[^\W_]+")
_UNQUOTABLE = re.compile(r"['\\]")
_MAC_SEPARATORS = re.compile(r"[:.\-]")
_HEX = re.compile(r"[0-9A-Fa-f]{4,12}")


def clean_text(text: str | None) -> str | None:
    """Strip a search text; None when nothing is left."""
    if text is None:
        return None
    text = text.strip()
    return text or None
