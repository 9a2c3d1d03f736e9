"""The ingest asset checks, as plain functions of a sync's counts and the database.

- `completeness`: the sync read exactly what GreenLake said it holds. The client already refuses a partial
  inventory, so a failure here means the guarantee broke somewhere; a server that sends no `total` cannot be
  verified at all, which is a warning rather than a failure.
- `row_count_drop`: the objects live in the raw table now, against what was live after the previous
  successful sync of the resource, both from `glp.sync_history` and the raw table. A full sync that suddenly
  misses a large share of the inventory is more likely an API or permission problem than a real clear-out,
  and the marts would mark all of it removed.

"Live after a sync" follows the sync's own rules: a full sync sees every live object (so its `fetched` is the
live count), and an incremental sync can only add objects (its `inserted`), never remove them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import dagster as dg
from psycopg import sql

from glp_pipeline import history
from glp_pipeline.sources.greenlake import RAW_DATASET, SYNCED_AT_COLUMN

if TYPE_CHECKING:
    import psycopg

COMPLETENESS = "completeness"
ROW_COUNT_DROP = "row_count_drop"


@dataclass(frozen=True)
class RawCounts:
    """Rows of a raw table: all of them (removed objects stay in raw), and those still live."""

    rows: int
    live: int


@dataclass(frozen=True)
class Baseline:
    """What was live after the previous successful sync of a resource, and the full sync it counts from."""

    live: int
    full_sync_run_id: str


def raw_counts(conn: psycopg.Connection, resource: str) -> RawCounts:
    """Rows in `greenlake_raw.<resource>`; live = seen since the newest successful full sync."""
    last_full = history.last_successful_full_start(conn, resource)
    query = sql.SQL(
        "select count(*), count(*) filter (where %s::timestamptz is null or {synced} >= %s) from {table}"
    ).format(synced=sql.Identifier(SYNCED_AT_COLUMN), table=sql.Identifier(RAW_DATASET, resource))
    rows, live = conn.execute(query, (last_full, last_full)).fetchone()
    return RawCounts(rows=rows, live=live)


def baseline(conn: psycopg.Connection, resource: str, run_id: str, started_at: datetime) -> Baseline | None:
    """Live objects after the previous successful sync (before `run_id`), from `glp.sync_history`.

    That is the newest earlier successful full sync's `fetched` plus what the successful incremental syncs
    after it inserted. None when there was no earlier successful full sync (nothing to compare with).
    """
    row = conn.execute(
        """
        with previous_full as (
            select run_id, started_at, fetched
            from glp.sync_history
            where resource = %(resource)s and mode = 'full' and status = 'success'
              and run_id <> %(run_id)s and started_at < %(started_at)s
            order by started_at desc
            limit 1
        )
        select f.run_id::text, f.fetched + coalesce((
            select sum(h.inserted) from glp.sync_history h
            where h.resource = %(resource)s and h.mode = 'incremental' and h.status = 'success'
              and h.run_id <> %(run_id)s and h.started_at > f.started_at and h.started_at < %(started_at)s
        ), 0)
        from previous_full f
        """,
        {"resource": resource, "run_id": run_id, "started_at": started_at},
    ).fetchone()
    if row is None:
        return None
    return Baseline(live=int(row[1]), full_sync_run_id=row[0])


def completeness_result(
    asset_key: dg.AssetKey, counts: history.ResourceCounts, service: str = "GreenLake"
) -> dg.AssetCheckResult:
    """Fetched == the API's total (`service`: who reported it) and the client finished a consistent read."""
    metadata = {
        "fetched": counts.fetched,
        "total_reported": counts.total_reported,
        "complete": counts.complete,
        "reconcile_passes": counts.reconcile_passes,
    }
    if counts.total_reported is None:
        return dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=COMPLETENESS,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{service} sent no total, so the read went on to the end of the list and its count "
                f"({counts.fetched}) could not be verified."
            ),
            metadata=metadata,
        )
    passed = bool(counts.complete) and counts.fetched == counts.total_reported
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=COMPLETENESS,
        passed=passed,
        description=(
            f"Read {counts.fetched} of the {counts.total_reported} objects {service} reported"
            + ("." if passed else "; the read was not complete.")
        ),
        metadata=metadata,
    )


def row_count_drop_result(
    asset_key: dg.AssetKey, now: RawCounts, before: Baseline | None, threshold_pct: float
) -> dg.AssetCheckResult:
    """Fail when the live rows dropped by more than `threshold_pct` percent since the previous sync."""
    metadata: dict[str, object] = {"live_rows": now.live, "threshold_pct": float(threshold_pct)}
    if before is None or before.live == 0:
        return dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=ROW_COUNT_DROP,
            passed=True,
            description="No earlier successful full sync to compare with.",
            metadata=metadata,
        )
    drop_pct = max(0.0, (before.live - now.live) * 100.0 / before.live)
    passed = drop_pct <= threshold_pct
    metadata |= {
        "previous_live_rows": before.live,
        "drop_pct": round(drop_pct, 2),
        "baseline_full_sync_run_id": before.full_sync_run_id,
    }
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=ROW_COUNT_DROP,
        passed=passed,
        description=(
            f"{now.live} live rows, {before.live} after the previous sync: "
            f"{drop_pct:.1f} % fewer (threshold {threshold_pct:g} %)."
        ),
        metadata=metadata,
    )
