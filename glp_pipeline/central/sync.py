"""One Aruba Central sync run: Central → dlt → `aruba_raw`, with sync history, as `glp_pipeline.sync` does
for GreenLake (`glp sync --central` and the Dagster assets `aruba/devices`, `aruba/clients` call it).

The same rules as GreenLake's sync, on the same helpers:
- nothing partial lands: every listing is read completely before dlt loads a row, and any failure drops
  dlt's pending package (`_discard`), so the raw tables keep the last good data;
- every run writes `glp.sync_history`, one row per resource (`central_devices`, `central_clients`):
  `running` first, then `success` or `failed` with the error and the counts;
- one run at a time per database, under `sync_lock` (its own advisory lock: a Central sync shares no raw
  table and no dlt state with a GreenLake one, so the two may run side by side);
- every Central read is full (the monitoring lists have no "changed since" filter), so every successful run
  detects removals: an object live before the run and absent from its complete read is counted removed;
  its raw row stays, with a `_glp_synced_at` older than the run.

Counting: `fetched` is the objects of the resource (New Central: the `/devices` list, its type tables
detail the same devices; Classic: its three device lists together); `inserted` were not live before,
`updated` were live with different content (`_glp_content_hash`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from psycopg import sql

from glp_pipeline import history
from glp_pipeline.database import connect, database_url, redact_url
from glp_pipeline.sources.aruba import (
    HASH_COLUMN,
    HISTORY_RESOURCES,
    RAW_DATASET,
    RESOURCES,
    SYNCED_AT_COLUMN,
    RawTable,
    aruba_source,
    content_hash,
    tables_for,
)
from glp_pipeline.sync import (
    ProgressCallback,
    SyncError,
    SyncReport,
    _discard,
    describe_failure,
    pipeline_for,
    sync_lock,
)

if TYPE_CHECKING:
    import psycopg

    from glp_pipeline.central import CentralClient, ClassicCentralClient
    from glp_pipeline.greenlake import Page, PagingResult
    from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

PIPELINE_NAME = "aruba"
CENTRAL_SYNC_LOCK_KEY = 0x474C5041  # "GLPA": held by the running Aruba Central sync
RUNNERS = "a scheduled Dagster run of aruba/devices or aruba/clients, or `glp sync --central`"


@dataclass
class CentralSyncReport(SyncReport):
    """A `SyncReport` (counts keyed by the history resources) plus the Central mode and rows per table."""

    central_mode: str = "new"
    tables: dict[str, int] = field(default_factory=dict)


@dataclass
class _Known:
    """A resource's objects in raw before the run: content hash per key, and which keys were live."""

    hashes: dict[str, str | None] = field(default_factory=dict)
    live: set[str] = field(default_factory=set)


def _known_state(conn: psycopg.Connection, tables: list[RawTable], last_full: datetime | None) -> _Known:
    known = _Known()
    for table in tables:
        if conn.execute("select to_regclass(%s)", (f"{RAW_DATASET}.{table.name}",)).fetchone()[0] is None:
            continue
        query = sql.SQL("select {key}, {hash}, {synced} from {table}").format(
            key=sql.Identifier(table.key),
            hash=sql.Identifier(HASH_COLUMN),
            synced=sql.Identifier(SYNCED_AT_COLUMN),
            table=sql.Identifier(RAW_DATASET, table.name),
        )
        for key, digest, synced_at in conn.execute(query):
            known.hashes[key] = digest
            if last_full is None or (synced_at is not None and synced_at >= last_full):
                known.live.add(key)
    return known


class _TableTally:
    """What one table's listings delivered: key → content hash. Listings run one after the other; a re-read
    pass of the current listing (the list changed under the paging) starts its part again."""

    def __init__(self, table: RawTable) -> None:
        self.table = table
        self.finished: dict[str, str] = {}  # of the listings already complete
        self.current: dict[str, str] = {}  # of the listing being read
        self.pass_number = 0
        self.results: list[PagingResult] = []

    def on_page(self, page: Page) -> None:
        if page.reconcile_attempt != self.pass_number:
            self.current = {}
            self.pass_number = page.reconcile_attempt
        key = self.table.key
        for item in page.items:
            self.current[str(item[key])] = content_hash(item)

    def on_done(self, result: PagingResult) -> None:
        self.finished.update(self.current)
        self.current = {}
        self.pass_number = 0
        self.results.append(result)

    @property
    def count(self) -> int:
        return len(self.finished) + len(self.current)


def _counts(tallies: list[_TableTally], known: _Known, *, complete: bool) -> history.ResourceCounts:
    """A resource's counts from its member tables; `complete`: every listing finished (removals count)."""
    seen: dict[str, str] = {}
    for tally in tallies:
        seen.update(tally.finished)
        seen.update(tally.current)
    counts = history.ResourceCounts(fetched=len(seen))
    for key, digest in seen.items():
        if key not in known.live:
            counts.inserted += 1
        elif digest != known.hashes.get(key):
            counts.updated += 1
    results = [result for tally in tallies for result in tally.results]
    totals = [result.total for result in results]
    counts.total_reported = sum(t for t in totals if t is not None) if totals and None not in totals else None
    counts.reconcile_passes = sum(result.reconcile_attempts for result in results)
    counts.complete = complete and bool(results) and all(result.complete for result in results)
    if counts.complete:
        counts.removed = len(known.live - set(seen))
    return counts


def run_central_sync(
    settings: Settings,
    client: CentralClient | ClassicCentralClient,
    *,
    resources: tuple[str, ...] = RESOURCES,
    trigger: str = "cli",
    url: str | None = None,
    progress: ProgressCallback | None = None,
    dagster_run_id: str | None = None,
) -> CentralSyncReport:
    """Sync Central `resources` ("devices", "clients") into `aruba_raw` in the client's mode, and record the
    run in sync history. Raises `SyncError` (nothing loaded) or `SyncBusyError` (another Central sync)."""
    url = url or database_url(settings)
    history_resources = tuple(HISTORY_RESOURCES[r] for r in resources)
    with sync_lock(
        url,
        settings.glp_sync_lock_wait_seconds,
        "full",
        history_resources,
        trigger,
        dagster_run_id,
        key=CENTRAL_SYNC_LOCK_KEY,
        runners=RUNNERS,
    ):
        return _run(settings, client, resources, trigger, url, progress, dagster_run_id)


def _run(
    settings: Settings,
    client: CentralClient | ClassicCentralClient,
    resources: tuple[str, ...],
    trigger: str,
    url: str,
    progress: ProgressCallback | None,
    dagster_run_id: str | None,
) -> CentralSyncReport:
    mode = client.mode
    tables = tables_for(mode, resources)
    pipeline = pipeline_for(settings, url, name=PIPELINE_NAME, dataset=RAW_DATASET)
    tallies = {t.name: _TableTally(t) for t in tables}
    members = {r: [tallies[t.name] for t in tables if t.resource == r and t.members] for r in resources}
    with connect(url, autocommit=True) as conn:
        history.ensure_schema(conn)
        run = history.SyncRun(
            mode="full",
            resources=[HISTORY_RESOURCES[r] for r in resources],
            trigger=trigger,
            dagster_run_id=dagster_run_id,
        )
        known = {}
        for resource in resources:
            last_full = history.last_successful_full_start(conn, HISTORY_RESOURCES[resource])
            known[resource] = _known_state(conn, [t.table for t in members[resource]], last_full)
        history.record_start(conn, run)

    def on_page(table: str, page: Page) -> None:
        tallies[table].on_page(page)
        if progress is not None:
            progress(table, tallies[table].count, page.total)

    def on_done(table: str, result: PagingResult) -> None:
        tallies[table].on_done(result)

    source = aruba_source(
        client, mode=mode, resources=resources, synced_at=run.started_at, on_page=on_page, on_done=on_done
    )
    try:
        info = pipeline.run(source, loader_file_format="csv")
        info.raise_on_failed_jobs()
    except BaseException as exc:
        _discard(pipeline, {})
        message = describe_failure(exc)
        with connect(url, autocommit=True) as conn:
            for resource in resources:
                partial = _counts(members[resource], known[resource], complete=False)
                history.record_finish(conn, run, HISTORY_RESOURCES[resource], "failed", partial, message)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SyncError(message) from exc

    counts = {HISTORY_RESOURCES[r]: _counts(members[r], known[r], complete=True) for r in resources}
    with connect(url, autocommit=True) as conn:
        for name, resource_counts in counts.items():
            history.record_finish(conn, run, name, "success", resource_counts)
    stages = {
        step.step: (step.started_at, step.finished_at)
        for step in (pipeline.last_trace.steps if pipeline.last_trace else [])
        if step.finished_at is not None
    }
    return CentralSyncReport(
        run_id=str(run.run_id),
        mode="full",
        started_at=run.started_at,
        finished_at=datetime.now(run.started_at.tzinfo),
        counts=counts,
        database=redact_url(url),
        stages=stages,
        central_mode=mode,
        tables={name: tally.count for name, tally in tallies.items()},
    )
