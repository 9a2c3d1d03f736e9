"""Read-only connections for the query layer, and the one error type its callers need to handle.

Every read-only face (dashboard, MCP server, chat agent) reads through here, so the guards live here once:

- the session's transactions are READ ONLY (a write fails even if a role grant is too generous);
- the session reads as the SELECT-only reader role (`GLP_READER_ROLE`): a second, independent layer (no
  access to raw, staging or `glp`). The faces connect with `database.reader_database_url`, which logs in as
  the role where it can (embedded server, `GLP_READER_DATABASE_URL`): then nothing a statement does can
  leave it. Otherwise the session switches to it with SET ROLE when the login user may;
- a statement timeout, so one heavy query cannot hold the database (or a dashboard) hostage;
- `search_path` is `reporting, marts`, although the layer itself always qualifies its relations.

Connections are per call (no pool: psycopg_pool is not a dependency, and a unix-socket or LAN connect costs
a few milliseconds, far below a dashboard's render time).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row

from glp_pipeline.database import DatabaseError, connect
from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

BUILD_HINT = "Run `glp demo` (or `glp sync` then `glp transform`) first."


class QueryError(RuntimeError):
    """A query could not run; the message says what a person can do about it."""


class QueryFault(QueryError):
    """The statement itself failed (PostgreSQL refused it, or it ran past the timeout): a corrected or
    narrower query may work, unlike when the database cannot be reached."""


class InvalidParameter(QueryError, ValueError):
    """A caller passed a value the query layer refuses (bad page, unknown sort column, ...)."""


@dataclass(frozen=True)
class QueryConfig:
    """The knobs of the query layer. `from_settings` is what the faces use; the defaults match Settings'."""

    reader_role: str = "glp_reader"
    statement_timeout_seconds: float = 15.0
    freshness_hours: float = 26.0

    @classmethod
    def from_settings(cls, settings: Settings, *, statement_timeout_seconds: float = 15.0) -> QueryConfig:
        return cls(
            reader_role=settings.glp_reader_role,
            statement_timeout_seconds=statement_timeout_seconds,
            freshness_hours=settings.glp_freshness_hours,
        )


DEFAULT_CONFIG = QueryConfig()

# Log "running without the reader role" once per process and role, not on every call.
_role_notice_logged: set[str] = set()


@contextmanager
def read_only_connection(
    url: str, config: QueryConfig = DEFAULT_CONFIG, *, use_role: bool = True
) -> Iterator[psycopg.Connection]:
    """A connection (dict rows, autocommit: every statement or `conn.transaction()` is read-only).

    `use_role=False` skips the reader role (the read-only transaction and timeout still apply): only for
    relations the role is not granted.
    Errors inside the block become a `QueryError` with an actionable message.
    """
    with translate_errors(config), _connect(url, config) as conn:
        conn.row_factory = dict_row  # type: ignore[assignment]
        conn.execute("set session characteristics as transaction read only")
        timeout_ms = max(1, int(config.statement_timeout_seconds * 1000))
        # One round trip: the timeout, the search path, and UTC for every time that comes back.
        conn.execute(
            "select set_config('statement_timeout', %s, false), set_config('search_path', 'reporting, marts',"
            " false), set_config('timezone', 'UTC', false)",
            (str(timeout_ms),),
        )
        if use_role:
            _assume_reader_role(conn, config.reader_role)
        yield conn


@contextmanager
def _connect(url: str, config: QueryConfig) -> Iterator[psycopg.Connection]:
    """`connect`, saying what to do when the URL logs in as the reader role and the role may not yet."""
    try:
        with connect(url, autocommit=True) as conn:
            yield conn
    except DatabaseError as exc:
        role = config.reader_role
        # libpq reports the refusal as text: 'role "x" is not permitted to log in' / '... does not exist'
        refused = exc.sqlstate == "28000" or f'role "{role}"' in str(exc)
        if refused and urlsplit(url).username == role:
            raise QueryError(
                f"The read-only role {role} cannot log in yet: `glp transform` (or `glp demo`) "
                "creates it and lets it log in to the embedded PostgreSQL; with your own PostgreSQL, "
                "check GLP_READER_DATABASE_URL."
            ) from None
        raise


def _assume_reader_role(conn: psycopg.Connection, role: str) -> None:
    """`set role` when possible; otherwise carry on, still read-only, and say so once (INFO)."""
    row = conn.execute(
        "select exists (select 1 from pg_roles where rolname = %s) as present,"
        " exists (select 1 from pg_roles where rolname = %s and pg_has_role(current_user, oid, 'MEMBER'))"
        " as member",
        (role, role),
    ).fetchone()
    reason = None
    if not row or not row["present"]:
        reason = f"the role {role} does not exist (`glp transform` creates it when it may)"
    elif not row["member"]:
        reason = f"the database user may not use the role {role} (`grant {role} to <user>`)"
    else:
        try:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        except psycopg.Error as exc:
            reason = f"`set role {role}` failed ({type(exc).__name__})"
    if reason and role not in _role_notice_logged:
        _role_notice_logged.add(role)
        log.info("Reading without the reader role: %s; the connection is still read-only.", reason)


@contextmanager
def translate_errors(config: QueryConfig = DEFAULT_CONFIG) -> Iterator[None]:
    """Turn database failures into `QueryError`s that say what to do."""
    try:
        yield
    except QueryError:
        raise
    except DatabaseError as exc:
        raise QueryError(str(exc)) from exc
    except (errors.UndefinedTable, errors.InvalidSchemaName) as exc:
        raise QueryError(f"The GLP Sync tables are not built yet ({_first_line(exc)}). {BUILD_HINT}") from exc
    except errors.UndefinedColumn as exc:
        raise QueryError(
            f"The GLP Sync tables are older than this version ({_first_line(exc)}). Run `glp transform`."
        ) from exc
    except errors.QueryCanceled as exc:
        raise QueryFault(
            f"The query took longer than {config.statement_timeout_seconds:g} s and was cancelled. "
            "Narrow the filters, or raise the statement timeout."
        ) from exc
    except errors.InsufficientPrivilege as exc:
        raise QueryError(
            f"The reader role {config.reader_role} may not read this ({_first_line(exc)}). "
            "Run `glp transform` to renew its grants."
        ) from exc
    except errors.ReadOnlySqlTransaction as exc:
        raise QueryError(f"The query layer is read-only ({_first_line(exc)}).") from exc
    except psycopg.OperationalError as exc:
        raise QueryError(
            f"The database connection failed: {_first_line(exc)}. Is PostgreSQL running?"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
