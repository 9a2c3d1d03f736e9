"""The steps every face of bulk assignment (CLI, dashboard) goes through, in one place.

prepare(file)  → sheet, plan          reads and checks; writes nothing (this is the dry run)
start(plan)    → run id               journals the run and its operations, still writes nothing
apply_run(...)                        writes to GreenLake (see apply.py)
resync(...)                           an incremental sync and dbt build, so the marts show the result
undo(run id)   → a new run            the inverse of a finished run's succeeded operations
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from glp_pipeline.assign import journal as j
from glp_pipeline.assign import plan as p
from glp_pipeline.assign import workbook as wb
from glp_pipeline.database import connect
from glp_pipeline.queries.connection import QueryConfig

if TYPE_CHECKING:
    from glp_pipeline.greenlake import GreenLakeClient
    from glp_pipeline.settings import Settings


@dataclass(frozen=True)
class Prepared:
    """A checked file and its plan."""

    source_name: str
    source_sha256: str
    sheet: wb.Sheet
    plan: p.Plan


def applications(client: GreenLakeClient) -> tuple[p.Application, ...]:
    """The applications (service managers) GreenLake offers, with their regions."""
    return tuple(p.Application(m.id, m.name, tuple(m.regions)) for m in client.service_managers())


def prepare(data: bytes, filename: str, url: str, settings: Settings, client: GreenLakeClient) -> Prepared:
    """Read and check a file and plan it against the inventory (the dry run). Raises `WorkbookError` for a
    file that cannot be used at all; row problems are in `plan.issues`."""
    sheet = wb.read_sheet(data, filename)
    inventory = p.load_inventory(url, sheet, applications(client), QueryConfig.from_settings(settings))
    plan = p.build_plan(sheet, inventory)
    return Prepared(filename, hashlib.sha256(data).hexdigest(), sheet, plan)


def start(url: str, prepared: Prepared, requested_by: str) -> UUID:
    """Journal the run (every operation pending) and return its id; nothing is sent yet."""
    if not prepared.plan.can_apply:
        raise ValueError("this plan cannot be applied: fix its errors first (or there is nothing to change)")
    with connect(url, autocommit=True) as conn:
        return j.create_run(
            conn,
            prepared.plan.ordered(),
            requested_by=requested_by,
            source_name=prepared.source_name,
            source_sha256=prepared.source_sha256,
        )


def undo(url: str, run_id: UUID, requested_by: str) -> tuple[UUID | None, list[str]]:
    """Journal a run that undoes `run_id` (which must have finished); returns its id (None when there is
    nothing to undo) and notes on what cannot be undone."""
    with connect(url, autocommit=True) as conn:
        original = j.run(conn, run_id)
        if original is None:
            raise ValueError(f"There is no assignment run {run_id}.")
        if original["status"] == j.RUNNING:
            raise ValueError(f"Run {run_id} has not finished: resume it first (glp assign-resume {run_id}).")
        changes, notes = j.inverse_changes(j.operations(conn, run_id))
        if not changes:
            return None, notes
        rank = {kind: i for i, kind in enumerate(p.ORDER)}
        changes.sort(key=lambda c: rank[c.kind])
        new_run = j.create_run(
            conn, changes, requested_by=requested_by, source_name=f"undo of {run_id}", undo_of=run_id
        )
    return new_run, notes


def resync(settings: Settings, client: GreenLakeClient, url: str) -> str:
    """An incremental sync (it sees every device the run changed: their updatedAt moved) and a dbt build.
    Returns a one-line summary; a failure is reported in it, not raised (the run itself is done)."""
    from glp_pipeline.sync import SyncError, run_sync
    from glp_pipeline.transform import TransformError, build

    try:
        report = run_sync(settings, client, mode="incremental", trigger="assign", url=url)
        build(settings, url=url)
    except (SyncError, TransformError) as exc:
        return f"Re-sync failed ({exc}); run `glp sync` and `glp transform` to see the result."
    counts = report.counts.get("devices")
    return f"Re-synced: {counts.updated if counts else 0} device(s) updated in the database."
