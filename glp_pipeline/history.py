"""Sync history: one row per resource per sync run, written by every run (CLI, demo, scheduler).

The table lives in the app's own schema `glp` (not in the raw schema, which only dlt writes). A run's rows
are inserted as `running` before any data moves and finished as `success` or `failed`, so a crash leaves a
visible `running` row rather than nothing. The removal logic downstream reads the start time of the last
successful full run from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

if TYPE_CHECKING:
    import psycopg

APP_SCHEMA = "glp"

DDL = f"""
create schema if not exists {APP_SCHEMA};
create table if not exists {APP_SCHEMA}.sync_history (
    id              bigint generated always as identity primary key,
    run_id          uuid        not null,
    resource        text        not null,
    mode            text        not null,
    trigger         text        not null default 'cli',
    status          text        not null,
    started_at      timestamptz not null,
    finished_at     timestamptz,
    fetched         integer     not null default 0,
    inserted        integer     not null default 0,
    updated         integer     not null default 0,
    removed         integer     not null default 0,
    total_reported  integer,
    complete        boolean,
    reconcile_passes integer    not null default 0,
    error_message   text,
    dagster_run_id  text,
    unique (run_id, resource)
);
-- Added after the first release: tables created before it get the column here.
alter table {APP_SCHEMA}.sync_history add column if not exists dagster_run_id text;
create index if not exists sync_history_resource_started_idx
    on {APP_SCHEMA}.sync_history (resource, started_at desc);
comment on table {APP_SCHEMA}.sync_history is
    'One row per resource per GLP Sync run: status, counts and the error of failed runs.';
"""


@dataclass
class ResourceCounts:
    """What one run did to one resource."""

    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    removed: int = 0
    total_reported: int | None = None
    complete: bool | None = None
    reconcile_passes: int = 0


@dataclass
class SyncRun:
    """A sync run in progress."""

    mode: str
    resources: list[str]
    trigger: str = "cli"
    run_id: UUID = field(default_factory=uuid4)
    dagster_run_id: str | None = None  # the Dagster run that ran this sync, for links to its logs
    started_at: datetime = field(default_factory=lambda: now_ms())


def now_ms() -> datetime:
    """Now, in UTC, at the millisecond precision GreenLake timestamps (and our raw `_glp_synced_at`) have,
    so that comparing a row's sync stamp with a run's start is exact."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def ensure_schema(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def record_start(conn: psycopg.Connection, run: SyncRun) -> None:
    ensure_schema(conn)
    for resource in run.resources:
        conn.execute(
            "insert into glp.sync_history"
            " (run_id, resource, mode, trigger, status, started_at, dagster_run_id)"
            " values (%s, %s, %s, %s, 'running', %s, %s)",
            (run.run_id, resource, run.mode, run.trigger, run.started_at, run.dagster_run_id),
        )


def record_finish(
    conn: psycopg.Connection,
    run: SyncRun,
    resource: str,
    status: str,
    counts: ResourceCounts | None = None,
    error: str | None = None,
) -> None:
    c = counts or ResourceCounts()
    conn.execute(
        "update glp.sync_history set status = %s, finished_at = %s, fetched = %s, inserted = %s,"
        " updated = %s, removed = %s, total_reported = %s, complete = %s, reconcile_passes = %s,"
        " error_message = %s where run_id = %s and resource = %s",
        (
            status,
            datetime.now(UTC),
            c.fetched,
            c.inserted,
            c.updated,
            c.removed,
            c.total_reported,
            c.complete,
            c.reconcile_passes,
            error,
            run.run_id,
            resource,
        ),
    )


def last_successful_full_start(conn: psycopg.Connection, resource: str) -> datetime | None:
    """Start of the newest successful full run of a resource: rows not seen since then are removed."""
    ensure_schema(conn)
    row = conn.execute(
        "select max(started_at) from glp.sync_history"
        " where resource = %s and mode = 'full' and status = 'success'",
        (resource,),
    ).fetchone()
    return row[0] if row else None


def recent_runs(conn: psycopg.Connection, limit: int = 20) -> list[dict]:
    ensure_schema(conn)
    cur = conn.execute(
        "select run_id, resource, mode, trigger, status, started_at, finished_at, fetched, inserted, updated,"
        " removed, total_reported, complete, error_message from glp.sync_history"
        " order by started_at desc, resource limit %s",
        (limit,),
    )
    cols = [d.name for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
