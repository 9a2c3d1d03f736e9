"""One sync run: GreenLake → dlt → `greenlake_raw`, with sync history, counts and optional JSON backups.

This is what `glp sync`, `glp demo` and (later) the Dagster assets call. The rules it keeps:

- Nothing partial lands. The client raises on an incomplete inventory; any exception before dlt has loaded
  everything drops dlt's pending package, so the next run cannot load half of a failed one, and the raw
  tables keep the previous data. dlt loads a package in one transaction per table chain.
- Every run writes sync history (`glp.sync_history`): `running` first, then `success` or `failed` with the
  error, counts fetched / inserted / updated / removed.
- Removals are detected on full runs only (an incremental read cannot see what vanished): an object that was
  live before the run and absent from its complete read is counted as removed; the raw row stays, and its
  `_glp_synced_at` (older than this full run's start) is what marks it removed downstream.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import dlt
from psycopg import sql

from glp_pipeline import history
from glp_pipeline.backup import JsonArrayWriter
from glp_pipeline.database import connect, database_url, redact_url
from glp_pipeline.sources.greenlake import RAW_DATASET, SYNCED_AT_COLUMN, greenlake_source

if TYPE_CHECKING:
    from glp_pipeline.greenlake import GreenLakeClient, Page, PagingResult
    from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

PIPELINE_NAME = "greenlake"


SYNC_LOCK_KEY = 0x474C5053  # "GLPS": PostgreSQL advisory lock held by the running sync


class SyncError(RuntimeError):
    """A sync run failed; nothing it fetched was loaded. The message is meant for a person."""


class SyncBusyError(SyncError):
    """Another sync of the same database was running; nothing was read or loaded."""


@dataclass
class _Known:
    """What the raw table held before the run: updatedAt per id, and which ids were still live."""

    updated_at: dict[str, str | None] = field(default_factory=dict)
    live: set[str] = field(default_factory=set)


@dataclass
class SyncReport:
    run_id: str
    mode: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, history.ResourceCounts]
    database: str
    backups: dict[str, Path] = field(default_factory=dict)
    stages: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    """dlt's steps (extract, normalize, load) with their start and end, for benchmarks and run metadata."""


ProgressCallback = Callable[[str, int, int | None], None]


# dlt gzips its intermediate files by default: a third of the normalize time for files that live seconds.
os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def pipeline_for(
    settings: Settings, url: str, *, name: str = PIPELINE_NAME, dataset: str = RAW_DATASET
) -> dlt.Pipeline:
    """The dlt pipeline for a destination (`name`/`dataset`: GreenLake's by default, Aruba Central passes its
    own). Working state is kept per database so switching DATABASE_URL never applies one database's
    incremental cursor to another."""
    tag = hashlib.sha256(redact_url(url).encode()).hexdigest()[:12]
    pipelines_dir = settings.dlt_dir / tag
    pipelines_dir.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(pipelines_dir),
        destination=dlt.destinations.postgres(credentials=url),
        dataset_name=dataset,
    )


def _known_state(conn, resource: str, last_full: datetime | None) -> _Known:
    known = _Known()
    exists = conn.execute("select to_regclass(%s)", (f"{RAW_DATASET}.{resource}",)).fetchone()[0]
    if exists is None:
        return known
    query = sql.SQL("select id, updated_at, {synced} from {table}").format(
        synced=sql.Identifier(SYNCED_AT_COLUMN), table=sql.Identifier(RAW_DATASET, resource)
    )
    for obj_id, updated_at, synced_at in conn.execute(query):
        known.updated_at[obj_id] = updated_at
        if last_full is None or (synced_at is not None and synced_at >= last_full):
            known.live.add(obj_id)
    return known


class _Tally:
    """Counts a resource's rows as pages stream by; a reconciling re-read starts the count again."""

    def __init__(self, known: _Known, progress: ProgressCallback | None, resource: str) -> None:
        self.known = known
        self.progress = progress
        self.resource = resource
        self.counts = history.ResourceCounts()
        self.pass_number = 0
        self.seen: set[str] = set()

    def on_page(self, page: Page) -> None:
        if page.reconcile_attempt != self.pass_number:
            self.pass_number = page.reconcile_attempt
            self.counts = history.ResourceCounts(reconcile_passes=self.pass_number)
            self.seen = set()
        for item in page.items:
            obj_id = item["id"]
            if obj_id in self.seen:
                continue
            self.seen.add(obj_id)
            self.counts.fetched += 1
            if obj_id not in self.known.live:
                self.counts.inserted += 1
            elif item.get("updatedAt") != self.known.updated_at.get(obj_id):
                self.counts.updated += 1
        self.counts.total_reported = page.total
        if self.progress is not None:
            self.progress(self.resource, self.counts.fetched, page.total)

    def on_done(self, result: PagingResult, mode: str) -> None:
        self.counts.complete = bool(result.complete)
        self.counts.total_reported = result.total
        self.counts.reconcile_passes = result.reconcile_attempts
        if mode == "full":
            self.counts.removed = len(self.known.live - self.seen)


def resolve_mode(requested: str, pipeline: dlt.Pipeline, resources: tuple[str, ...], last_full: dict) -> str:
    """`auto` is incremental once every resource has a cursor and a successful full run, else full."""
    if requested != "auto":
        return requested
    try:
        state = pipeline.state.get("sources", {}).get("greenlake", {}).get("resources", {})
    except Exception:  # a pipeline that never ran has no state
        state = {}
    for resource in resources:
        if last_full.get(resource) is None or not state.get(resource, {}).get("updated_at_cursor"):
            return "full"
    return "incremental"


def run_sync(
    settings: Settings,
    client: GreenLakeClient,
    *,
    resources: tuple[str, ...] = ("devices", "subscriptions"),
    mode: str = "auto",
    trigger: str = "cli",
    url: str | None = None,
    backups: dict[str, Path] | None = None,
    progress: ProgressCallback | None = None,
    dagster_run_id: str | None = None,
) -> SyncReport:
    """Sync the chosen resources into `greenlake_raw` and record the run in sync history (with the id of the
    Dagster run that ran it, if one did). One sync at a time per database: see `sync_lock`."""
    url = url or database_url(settings)
    with sync_lock(url, settings.glp_sync_lock_wait_seconds, mode, resources, trigger, dagster_run_id):
        return _run_sync(settings, client, resources, mode, trigger, url, backups, progress, dagster_run_id)


@contextmanager
def sync_lock(
    url: str,
    wait_seconds: float,
    mode: str,
    resources: tuple[str, ...],
    trigger: str,
    dagster_run_id: str | None,
    *,
    key: int = SYNC_LOCK_KEY,
    runners: str = "a scheduled Dagster run, `glp sync` or an assignment's re-sync",
) -> Iterator[None]:
    """Hold PostgreSQL's advisory lock `key` for GLP Sync runs while one runs.

    A scheduled Dagster run, `glp sync` and an assignment's re-sync can start at the same moment; two runs
    writing `greenlake_raw` together would interleave dlt loads and pipeline state. The second waits up to
    `wait_seconds` (GLP_SYNC_LOCK_WAIT_SECONDS), then fails with a `SyncBusyError`, recorded in the sync
    history, that says so. The lock belongs to a connection of its own, so it also ends if the process dies.
    Aruba Central's sync takes its own `key` (it shares neither raw tables nor dlt state with GreenLake's);
    `runners` says in the busy message who else may hold it.
    """
    with connect(url, autocommit=True) as lock:  # closing it ends the session, and with it the lock
        deadline = time.monotonic() + wait_seconds
        while not lock.execute("select pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:  # type: ignore[index]
            if time.monotonic() >= deadline:
                message = (
                    f"Another sync of this database is running (waited {wait_seconds:g} s): {runners}. "
                    "Run this one again once it has finished (`glp history` lists runs)."
                )
                run = history.SyncRun(
                    mode=mode, resources=list(resources), trigger=trigger, dagster_run_id=dagster_run_id
                )
                history.record_start(lock, run)
                for resource in resources:
                    history.record_finish(lock, run, resource, "failed", error=message)
                raise SyncBusyError(message)
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        yield


def _run_sync(
    settings: Settings,
    client: GreenLakeClient,
    resources: tuple[str, ...],
    mode: str,
    trigger: str,
    url: str,
    backups: dict[str, Path] | None,
    progress: ProgressCallback | None,
    dagster_run_id: str | None,
) -> SyncReport:
    pipeline = pipeline_for(settings, url)

    with connect(url, autocommit=True) as conn:  # fails fast, with a clear message, if the database is down
        # Pull the last loaded state from the destination, so `auto` sees the real incremental cursor even
        # when the local dlt working directory is new.
        try:
            pipeline.sync_destination()
        except Exception:  # nothing loaded yet
            log.debug("no destination state yet", exc_info=True)
        history.ensure_schema(conn)
        last_full = {r: history.last_successful_full_start(conn, r) for r in resources}
        effective_mode = resolve_mode(mode, pipeline, resources, last_full)
        run = history.SyncRun(
            mode=effective_mode, resources=list(resources), trigger=trigger, dagster_run_id=dagster_run_id
        )
        history.record_start(conn, run)
        tallies = {r: _Tally(_known_state(conn, r, last_full[r]), progress, r) for r in resources}

    writers = {r: JsonArrayWriter(p) for r, p in (backups or {}).items() if r in resources}

    def on_page(resource: str, page: Page) -> None:
        tallies[resource].on_page(page)
        writer = writers.get(resource)
        if writer is not None:
            if page.reconcile_attempt and writer.pass_number != page.reconcile_attempt:
                writer.restart(page.reconcile_attempt)
            writer.write_many(page.items)

    def on_done(resource: str, result: PagingResult) -> None:
        tallies[resource].on_done(result, effective_mode)

    source = greenlake_source(
        client,
        resources=resources,
        mode=effective_mode,
        synced_at=run.started_at,
        incremental_lag_seconds=settings.glp_incremental_lag_seconds,
        on_page=on_page,
        on_done=on_done,
    )
    try:
        info = pipeline.run(source, loader_file_format="csv")
        info.raise_on_failed_jobs()
    except BaseException as exc:
        _discard(pipeline, writers)
        message = describe_failure(exc)
        with connect(url, autocommit=True) as conn:
            for resource in resources:
                history.record_finish(conn, run, resource, "failed", tallies[resource].counts, message)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SyncError(message) from exc

    written = {r: w.commit() for r, w in writers.items()}
    stages = {
        step.step: (step.started_at, step.finished_at)
        for step in (pipeline.last_trace.steps if pipeline.last_trace else [])
        if step.finished_at is not None
    }
    with connect(url, autocommit=True) as conn:
        for resource in resources:
            history.record_finish(conn, run, resource, "success", tallies[resource].counts)
    return SyncReport(
        run_id=str(run.run_id),
        mode=effective_mode,
        started_at=run.started_at,
        finished_at=datetime.now(run.started_at.tzinfo),
        counts={r: t.counts for r, t in tallies.items()},
        database=redact_url(url),
        backups=written,
        stages=stages,
    )


def _discard(pipeline: dlt.Pipeline, writers: dict[str, JsonArrayWriter]) -> None:
    for writer in writers.values():
        writer.abort()
    try:
        pipeline.abort_packages()
    except Exception:
        log.warning("could not drop dlt's pending packages", exc_info=True)


def describe_failure(exc: BaseException) -> str:
    """One line a person can act on. dlt wraps the real error (often twice): unwrap to it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "user_message", None) or type(current).__module__.startswith("glp_pipeline"):
            break
        nxt = current.__cause__ or current.__context__
        if nxt is None:
            break
        current = nxt
    current = current or exc
    text = str(current).strip().splitlines()[0] if str(current).strip() else type(current).__name__
    return text
