"""The assignment journal: every run and every operation, in PostgreSQL (schema `glp`, next to the sync
history), written before and after each step so that a run is auditable and can be resumed after a crash.

A run is journalled with all its operations (`pending`) before anything is sent to GreenLake. An operation
becomes `submitted` with GreenLake's async-operation id as soon as the write is accepted (before waiting for
it), then `succeeded` or `failed` with GreenLake's reason, or `unknown` when the outcome could not be learnt.
Resuming a run polls the operations that were submitted and sends those still pending; because every
operation sets a value (rather than toggling one), sending one again is harmless.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from psycopg.rows import dict_row

from glp_pipeline.assign.plan import Change

if TYPE_CHECKING:
    import psycopg

DDL = """
create schema if not exists glp;
create table if not exists glp.assignment_runs (
    run_id          uuid        primary key,
    created_at      timestamptz not null default now(),
    requested_by    text        not null,
    source_name     text,
    source_sha256   text,
    status          text        not null,
    undo_of         uuid        references glp.assignment_runs (run_id),
    changes         integer     not null,
    succeeded       integer     not null default 0,
    failed          integer     not null default 0,
    started_at      timestamptz,
    finished_at     timestamptz,
    error_message   text
);
create table if not exists glp.assignment_operations (
    run_id          uuid        not null references glp.assignment_runs (run_id),
    seq             integer     not null,
    kind            text        not null,
    serial_number   text        not null,
    device_id       text,
    sheet_row       integer,
    before          jsonb,
    after           jsonb,
    status          text        not null default 'pending',
    operation_id    text,
    error_code      text,
    error_message   text,
    submitted_at    timestamptz,
    finished_at     timestamptz,
    primary key (run_id, seq)
);
comment on table glp.assignment_runs is
    'Bulk assignment runs (glp assign, the dashboard): who, when, which file, status and counts.';
comment on table glp.assignment_operations is
    'One operation of an assignment run on one device: before, after, async-operation id, outcome.';
"""

PENDING, SUBMITTED, SUCCEEDED, FAILED, UNKNOWN = "pending", "submitted", "succeeded", "failed", "unknown"
RUNNING, FINISHED, INTERRUPTED = "running", "finished", "interrupted"


@dataclass(frozen=True)
class JournalledChange:
    """A change as the journal holds it: its place in the run and what became of it."""

    seq: int
    change: Change
    status: str
    operation_id: str | None
    error_code: str | None
    error_message: str | None


def ensure_schema(conn: psycopg.Connection) -> None:
    conn.execute(DDL)  # type: ignore[arg-type]


def create_run(
    conn: psycopg.Connection,
    changes: Sequence[Change],
    *,
    requested_by: str,
    source_name: str | None = None,
    source_sha256: str | None = None,
    undo_of: UUID | None = None,
) -> UUID:
    """Journal a run and all its operations (in the order they will be applied), before any is sent."""
    ensure_schema(conn)
    run_id = uuid4()
    with conn.transaction():
        conn.execute(
            "insert into glp.assignment_runs (run_id, requested_by, source_name, source_sha256, status,"
            " undo_of, changes, started_at) values (%s, %s, %s, %s, %s, %s, %s, now())",
            (run_id, requested_by, source_name, source_sha256, RUNNING, undo_of, len(changes)),
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "insert into glp.assignment_operations (run_id, seq, kind, serial_number, device_id,"
                " sheet_row, before, after) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        run_id,
                        seq,
                        c.kind,
                        c.serial_number,
                        c.device_id,
                        c.row,
                        _json(c.before),
                        _json(c.after),
                    )
                    for seq, c in enumerate(changes)
                ],
            )
    return run_id


def mark_submitted(conn: psycopg.Connection, run_id: UUID, seqs: Iterable[int], operation_id: str) -> None:
    conn.execute(
        "update glp.assignment_operations set status = %s, operation_id = %s, submitted_at = now()"
        " where run_id = %s and seq = any(%s)",
        (SUBMITTED, operation_id, run_id, list(seqs)),
    )


def mark_outcome(
    conn: psycopg.Connection,
    run_id: UUID,
    seq: int,
    status: str,
    *,
    device_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    conn.execute(
        "update glp.assignment_operations set status = %s, device_id = coalesce(%s, device_id),"
        " error_code = %s, error_message = %s, finished_at = now() where run_id = %s and seq = %s",
        (status, device_id, error_code, error_message, run_id, seq),
    )


def set_device_ids(conn: psycopg.Connection, run_id: UUID, ids_by_serial: dict[str, str]) -> None:
    """Fill in the ids of devices the run added, for its later operations on them."""
    with conn.cursor() as cursor:
        cursor.executemany(
            "update glp.assignment_operations set device_id = %s"
            " where run_id = %s and serial_number = %s and device_id is null",
            [(device_id, run_id, serial) for serial, device_id in ids_by_serial.items()],
        )


def finish_run(
    conn: psycopg.Connection, run_id: UUID, status: str, error: str | None = None
) -> dict[str, Any]:
    """Close a run with its counts; returns the run's row."""
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "update glp.assignment_runs r set status = %s, finished_at = now(), error_message = %s,"
            " succeeded = (select count(*) from glp.assignment_operations o"
            "              where o.run_id = r.run_id and o.status = 'succeeded'),"
            " failed = (select count(*) from glp.assignment_operations o"
            "           where o.run_id = r.run_id and o.status in ('failed', 'unknown'))"
            " where run_id = %s returning *",
            (status, error, run_id),
        )
        .fetchone()
    )
    assert row is not None, f"no assignment run {run_id}"
    return row


def operations(conn: psycopg.Connection, run_id: UUID) -> list[JournalledChange]:
    rows = conn.cursor(row_factory=dict_row).execute(
        "select * from glp.assignment_operations where run_id = %s order by seq", (run_id,)
    )
    return [
        JournalledChange(
            seq=r["seq"],
            change=Change(
                r["kind"], r["serial_number"], r["device_id"], r["before"], r["after"], r["sheet_row"]
            ),
            status=r["status"],
            operation_id=r["operation_id"],
            error_code=r["error_code"],
            error_message=r["error_message"],
        )
        for r in rows
    ]


def run(conn: psycopg.Connection, run_id: UUID) -> dict[str, Any] | None:
    ensure_schema(conn)
    return (
        conn.cursor(row_factory=dict_row)
        .execute("select * from glp.assignment_runs where run_id = %s", (run_id,))
        .fetchone()
    )


def recent_runs(conn: psycopg.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs first (none before the journal exists: listing them creates nothing)."""
    if conn.execute("select to_regclass('glp.assignment_runs')").fetchone()[0] is None:  # type: ignore[index]
        return []
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            "select run_id, created_at, requested_by, source_name, status, changes, succeeded, failed,"
            " undo_of from glp.assignment_runs order by created_at desc limit %s",
            (limit,),
        )
        .fetchall()
    )


def unfinished_runs(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Runs that never finished (the process died): candidates for `resume`."""
    ensure_schema(conn)
    return (
        conn.cursor(row_factory=dict_row)
        .execute("select * from glp.assignment_runs where status = %s order by created_at", (RUNNING,))
        .fetchall()
    )


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def inverse_changes(journalled: Sequence[JournalledChange]) -> tuple[list[Change], list[str]]:
    """The changes that undo a run's succeeded operations, and notes on what cannot be undone.

    Each operation is turned back into the value it replaced (an application, region, subscription,
    tags or archived flag). GreenLake has no API to remove a device from a workspace, so devices the run
    added stay (the note says which; archive them if they are not wanted)."""
    from glp_pipeline.assign import plan as p

    undo: list[Change] = []
    added = []
    for item in journalled:
        if item.status != SUCCEEDED:
            continue
        c = item.change
        kind, before, after = c.kind, c.before, c.after
        if kind == p.ADD:
            added.append(c.serial_number)
            continue
        if kind in (p.APPLICATION, p.UNASSIGN):
            inverse = (p.APPLICATION, after, before) if before else (p.UNASSIGN, after, None)
        elif kind in (p.SUBSCRIPTION, p.REMOVE_SUBSCRIPTION):
            previous = (before or [None])[0]
            current = [after] if after else None  # a subscription change holds the previous links as a list
            inverse = (
                (p.SUBSCRIPTION, current, previous) if previous else (p.REMOVE_SUBSCRIPTION, current, None)
            )
        elif kind == p.TAGS:
            inverse = (p.TAGS, after, before)
        elif kind == p.ARCHIVE:
            inverse = (p.UNARCHIVE, True, False)
        elif kind == p.UNARCHIVE:
            inverse = (p.ARCHIVE, False, True)
        else:
            continue
        undo.append(Change(inverse[0], c.serial_number, c.device_id, inverse[1], inverse[2], c.row))
    notes = []
    if added:
        notes.append(
            f"{len(added)} device(s) added by the run stay in the workspace (GreenLake cannot remove a "
            f"device): {', '.join(added[:10])}{' ...' if len(added) > 10 else ''}. Archive them if unwanted."
        )
    return undo, notes
