"""Ad-hoc read-only SQL, for assistants (the MCP tool) and people: `run_query`.

The seed's "read-only" SQL tool was a keyword deny-list run as a superuser, without a timeout or a row cap.
This one is layers, each a function tested on its own, so that a gap in one is not a hole:

1. the parse check (`sql_guard.check`): one SELECT or EXPLAIN over `reporting` and `marts`, allow-listed
   syntax, functions and types, judged on PostgreSQL's own parse tree;
2. the caps (`Limits`, `cap_rows`): at most `max_rows` rows (default 1,000, at most 10,000) and `max_bytes`
   of JSON (default 2 MB, at most 20 MB); a result that reaches either is cut and says `truncated`;
3. the execution (`execute`): only through `read_only_connection`, as the SELECT-only reader role (refused
   when the connection could not assume it), in one READ ONLY transaction, under a statement timeout (the
   configuration's, or a lower one per call) that bounds the whole run, not each round trip. A SELECT runs
   as `DECLARE ... CURSOR FOR <query>` (PostgreSQL's grammar accepts nothing but a query there) sent as a
   prepared statement (the extended protocol refuses a second statement), and is read in batches until a cap
   is reached, so a huge result is never produced, sent or held. An EXPLAIN runs as is (also prepared).

What the layers hold on their own (tests/queries/test_run_query.py calls `execute` with SQL the parse check
refuses): the READ ONLY transaction refuses every write, even one the role were granted; the prepared
statement refuses a second statement; the role cannot read raw data, sync history, `pg_authid` or files;
the timeout cancels. One limit: the role is taken with SET ROLE, which a statement could undo
(`set_config('role', 'none', false)`) before running SQL through a function (`ts_stat`, `query_to_xml`) as
the login user. The parse check refuses both; only a login role for reading would make the role layer hold
against that on its own.

Values come back JSON-safe: timestamps with a time zone as ISO 8601 in UTC (`2026-01-31T12:00:00+00:00`),
those without one, dates and times as ISO 8601 as stored; intervals, infinite dates and other values Python
cannot hold as PostgreSQL prints them; numerics as JSON numbers when a number holds them exactly (integers,
and decimals a double represents exactly), else as strings (as are NaN and the infinities); UUIDs, network
addresses and ranges as strings; bytea as base64; json/jsonb and arrays as JSON.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.rows import tuple_row
from psycopg.types.datetime import DateLoader, TimeLoader, TimestampLoader, TimestamptzLoader, TimetzLoader
from psycopg.types.string import TextLoader

from glp_pipeline.queries.connection import (
    DEFAULT_CONFIG,
    InvalidParameter,
    QueryConfig,
    QueryError,
    QueryFault,
    read_only_connection,
)
from glp_pipeline.queries.sql_guard import READABLE_SCHEMAS, check, where

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 1_000
MAX_ROWS_LIMIT = 10_000
DEFAULT_MAX_BYTES = 2_000_000
MIN_BYTES = 1_000
MAX_BYTES_LIMIT = 20_000_000
FETCH_BATCH = 500

CURSOR_NAME = "glp_ad_hoc"
_DECLARE = f"declare {CURSOR_NAME} no scroll cursor for\n"

# SQLSTATE classes of errors that the query itself caused (a typo, a bad cast, a refused privilege, ...):
# PostgreSQL's own message says what to fix. The rest (timeouts, lost connections) go to translate_errors.
_QUERY_FAULTS = ("0A", "21", "22", "25", "2F", "3F", "42", "53", "54", "55")
_SCHEMAS = " and ".join(READABLE_SCHEMAS)


@dataclass(frozen=True)
class QueryResult:
    """The rows of an ad-hoc query, JSON-safe.

    `row_count` is `len(rows)`. `truncated` says there was more: `truncated_by` says which cap cut it
    (`"max_rows"` or `"max_bytes"`). `sql` is the statement that ran; `elapsed_ms` the wall time of the run,
    connection included.
    """

    columns: list[str]
    rows: list[dict[str, Any]]
    row_count: int
    truncated: bool
    sql: str
    elapsed_ms: float
    truncated_by: str | None = field(default=None)


@dataclass(frozen=True)
class Limits:
    """The caps of one run: rows, bytes of JSON, and the statement timeout (None: the configuration's)."""

    max_rows: int = DEFAULT_MAX_ROWS
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_seconds: float | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.max_rows) or not 1 <= self.max_rows <= MAX_ROWS_LIMIT:
            raise InvalidParameter(
                f"max_rows must be between 1 and {MAX_ROWS_LIMIT:,}, not {self.max_rows!r}."
            )
        if not _is_int(self.max_bytes) or not MIN_BYTES <= self.max_bytes <= MAX_BYTES_LIMIT:
            raise InvalidParameter(
                f"max_bytes must be between {MIN_BYTES:,} and {MAX_BYTES_LIMIT:,}, not {self.max_bytes!r}."
            )
        seconds = self.timeout_seconds
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds <= 0
        ):
            raise InvalidParameter(f"timeout_seconds must be a number of seconds above 0, not {seconds!r}.")

    def timeout(self, config: QueryConfig) -> float:
        """The run's statement timeout: the configuration's, or a lower one asked for."""
        if self.timeout_seconds is None:
            return config.statement_timeout_seconds
        if self.timeout_seconds > config.statement_timeout_seconds:
            raise InvalidParameter(
                f"timeout_seconds may be at most {config.statement_timeout_seconds:g} (the configured "
                f"statement timeout), not {self.timeout_seconds!r}."
            )
        return float(self.timeout_seconds)


def run_query(
    url: str,
    sql: str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_seconds: float | None = None,
    config: QueryConfig = DEFAULT_CONFIG,
) -> QueryResult:
    """Run one read-only SELECT (or EXPLAIN of one) over `reporting` and `marts`, capped and timed out.

    Raises `UnsafeQuery` (an `InvalidParameter`) when the parse check refuses the SQL, `InvalidParameter` for
    caps out of bounds, and `QueryError` when PostgreSQL refuses or cancels the query; every message says
    what to change.
    """
    limits = Limits(max_rows=max_rows, max_bytes=max_bytes, timeout_seconds=timeout_seconds)
    limits.timeout(config)
    guarded = check(sql)
    return execute(url, guarded.sql, stream=not guarded.explain, limits=limits, config=config)


def execute(
    url: str,
    statement: str,
    *,
    stream: bool = True,
    limits: Limits | None = None,
    config: QueryConfig = DEFAULT_CONFIG,
) -> QueryResult:
    """The execution layer: run `statement` as it is, without the parse check (`run_query` does that first).

    With `stream` (a SELECT) it is read through a server-side cursor; without (EXPLAIN) it runs as is.
    Either way it runs as the reader role, in a READ ONLY transaction, under the run's statement timeout,
    within `limits` (default: `Limits()`).
    """
    started = time.perf_counter()
    limits = limits or Limits()
    timeout = limits.timeout(config)
    run_config = replace(config, statement_timeout_seconds=timeout)
    offset = len(_DECLARE) if stream else 0
    with (
        read_only_connection(url, run_config) as conn,
        _query_faults(statement, offset, run_config),
        conn.transaction(),
    ):
        _require_guards(conn, run_config)
        deadline = time.monotonic() + timeout
        cur = conn.cursor(row_factory=tuple_row)
        _lenient_loaders(cur)
        limit = limits.max_rows + 1  # one more than shown tells whether there was more
        if not stream:
            cur.execute(statement, prepare=True)  # type: ignore[arg-type] - ad-hoc SQL, checked by the caller
            columns = column_names(cur.description or [])
            batches: Iterator[Sequence[tuple]] = (
                iter(lambda: cur.fetchmany(min(FETCH_BATCH, limit)), []) if cur.description else iter(())
            )
        else:
            cur.execute(_DECLARE + statement, prepare=True)  # type: ignore[arg-type]
            batches = _cursor_batches(cur, limit, deadline)
            first = next(batches)
            columns = column_names(cur.description or [])
            batches = _chain(first, batches)
        rows, truncated_by = cap_rows(columns, batches, max_rows=limits.max_rows, max_bytes=limits.max_bytes)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    log.debug("Ad-hoc query: %d rows (truncated by %s) in %.0f ms", len(rows), truncated_by, elapsed_ms)
    return QueryResult(
        columns=columns,
        rows=rows,
        row_count=len(rows),
        truncated=truncated_by is not None,
        sql=statement,
        elapsed_ms=elapsed_ms,
        truncated_by=truncated_by,
    )


def cap_rows(
    columns: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    *,
    max_rows: int,
    max_bytes: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """The caps layer: JSON-safe rows from `batches`, pulled lazily, until `max_rows` rows or `max_bytes` of
    JSON (the rows as a JSON array); returns the rows and the cap that cut them (None: nothing was cut)."""
    rows: list[dict[str, Any]] = []
    size = 2  # []
    for batch in batches:
        for values in batch:
            if len(rows) >= max_rows:
                return rows, "max_rows"
            row = {name: json_value(value) for name, value in zip(columns, values, strict=True)}
            size += (
                len(json.dumps(row, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()) + 1
            )
            if size > max_bytes:
                return rows, "max_bytes"
            rows.append(row)
    return rows, None


def json_value(value: Any) -> Any:
    """A value as `json.dumps(..., allow_nan=False)` takes it and any JSON reader reads it back exactly."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "NaN" if value.is_nan() else ("Infinity" if value > 0 else "-Infinity")
        if value == value.to_integral_value():
            return int(value)
        number = float(value)
        return number if Decimal(repr(number)) == value else str(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()
    if isinstance(value, date | time_of_day):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, UUID | ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    return str(value)  # intervals (loaded as text), ranges, networks, and anything else: as text


def column_names(description: Sequence[Any]) -> list[str]:
    """The result's column names, made unique (`select 1, 1` has two `?column?`): `name`, `name_2`, ..."""
    names: list[str] = []
    taken: set[str] = set()
    for column in description:
        name, n = column.name, 1
        while name in taken:
            n += 1
            name = f"{column.name}_{n}"
        taken.add(name)
        names.append(name)
    return names


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _cursor_batches(cur: psycopg.Cursor, limit: int, deadline: float) -> Iterator[list[tuple]]:
    """FETCH up to `limit` rows from the cursor in batches; each FETCH may use only the time left of the
    run's timeout, so the timeout bounds the whole read, not each batch."""
    fetched = 0
    while fetched < limit:
        size = min(FETCH_BATCH, limit - fetched)
        left_ms = max(1, int((deadline - time.monotonic()) * 1000))  # 0 would mean no timeout at all
        cur.execute("select set_config('statement_timeout', %s, true)", (str(left_ms),))
        cur.execute(f"fetch forward {size} from {CURSOR_NAME}")  # type: ignore[arg-type] - a number
        batch = cur.fetchall()
        yield batch
        fetched += len(batch)
        if len(batch) < size:
            return


def _chain(first: list[tuple], rest: Iterator[list[tuple]]) -> Iterator[list[tuple]]:
    yield first
    yield from rest


def _require_guards(conn: psycopg.Connection, config: QueryConfig) -> None:
    """Ad-hoc SQL runs only as the reader role and only in a read-only transaction; say so when either
    is missing instead of running it with more rights (the seed ran it as a superuser)."""
    row = conn.execute(
        "select current_user = %s as reader, current_setting('transaction_read_only') = 'on' as read_only",
        (config.reader_role,),
    ).fetchone()
    if not row or not row["reader"]:  # type: ignore[index]
        raise QueryError(
            f"Ad-hoc SQL runs only as the read-only role {config.reader_role}, and this connection could not "
            f"assume it. Run `glp transform` as a user who may create roles, or have an administrator run "
            f"`create role {config.reader_role} nologin; grant {config.reader_role} to <database user>` and "
            "then `glp transform`."
        )
    if not row["read_only"]:  # type: ignore[index]
        raise QueryError("Ad-hoc SQL runs only in a read-only transaction, and this one is not.")


@contextmanager
def _query_faults(statement: str, offset: int, config: QueryConfig) -> Iterator[None]:
    """PostgreSQL's refusals of the query itself, with its message, position and a hint; anything else
    (timeouts, connections) is left to `translate_errors`."""
    try:
        yield
    except psycopg.Error as exc:
        sqlstate = exc.sqlstate or ""
        if not sqlstate.startswith(_QUERY_FAULTS):
            raise
        diag = exc.diag
        message = (diag.message_primary or str(exc).splitlines()[0]).rstrip(".")
        position = int(diag.statement_position) - 1 - offset if diag.statement_position else None
        if sqlstate == "42501":
            hint = (
                f" Ad-hoc queries run as the role {config.reader_role}, which may read only the schemas "
                f"{_SCHEMAS}."
            )
        elif sqlstate == "25006":
            hint = " Ad-hoc queries run in a read-only transaction: they cannot change anything."
        elif sqlstate in ("42P01", "3F000"):
            hint = f" The readable relations are in the schemas {_SCHEMAS} (`glp transform` builds them)."
        elif diag.message_hint:
            hint = f" Hint: {diag.message_hint}"
        else:
            hint = ""
        raise QueryFault(
            f"PostgreSQL could not run the query: {message}{where(statement, position)}.{hint}"
        ) from exc


class _LenientMixin(Loader):
    """Falls back to PostgreSQL's text for values Python cannot hold (infinity, year 10,000, 24:00)."""

    def load(self, data: Buffer) -> Any:
        try:
            return super().load(data)
        except psycopg.DataError:
            return bytes(data).decode()


class _Date(_LenientMixin, DateLoader):
    pass


class _Time(_LenientMixin, TimeLoader):
    pass


class _Timetz(_LenientMixin, TimetzLoader):
    pass


class _Timestamp(_LenientMixin, TimestampLoader):
    pass


class _Timestamptz(_LenientMixin, TimestamptzLoader):
    pass


def _lenient_loaders(cur: psycopg.Cursor) -> None:
    """Text-format loaders for this cursor: datetimes with a text fallback, intervals as PostgreSQL prints
    them (a timedelta would turn months into 30 days)."""
    for name, loader in (
        ("date", _Date),
        ("time", _Time),
        ("timetz", _Timetz),
        ("timestamp", _Timestamp),
        ("timestamptz", _Timestamptz),
        ("interval", TextLoader),
    ):
        cur.adapters.register_loader(name, loader)
