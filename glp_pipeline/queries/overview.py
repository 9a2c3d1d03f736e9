"""The dashboard's first screen (KPIs), the dropdowns' choices, and the sync history.

Sync history is read from `reporting.sync_history` (a view over `glp.sync_history`) under the reader role,
like everything else: the role may not read the `glp` schema itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql

from glp_pipeline.queries.connection import (
    DEFAULT_CONFIG,
    InvalidParameter,
    QueryConfig,
    QueryError,
    read_only_connection,
)

EXPIRY_WINDOWS = (30, 60, 90)
RESOURCES = ("devices", "subscriptions")


@dataclass(frozen=True)
class DeviceKpis:
    total: int  # live: not removed from GreenLake (archived devices included)
    assigned: int
    unassigned: int
    archived: int
    removed_last_7_days: int


@dataclass(frozen=True)
class Utilization:
    """Licence seats of STARTED (live) subscriptions."""

    used: int
    total: int

    @property
    def pct(self) -> float | None:
        return round(100.0 * self.used / self.total, 1) if self.total else None


@dataclass(frozen=True)
class SyncFreshness:
    resource: str
    last_success_at: datetime | None
    stale: bool  # no successful sync, or the last one is older than the freshness window


@dataclass(frozen=True)
class Overview:
    devices: DeviceKpis
    subscriptions_by_status: dict[str, int]
    expiring: dict[int, int]  # window in days -> live subscriptions ending within it
    utilization: Utilization
    freshness: list[SyncFreshness] = field(default_factory=list)


def overview(url: str, config: QueryConfig = DEFAULT_CONFIG) -> Overview:
    """Device KPIs, subscriptions by status, expiring counts, licence utilisation and sync freshness."""
    with read_only_connection(url, config) as conn, conn.transaction():
        # Live-device counts from the per type and region table dbt builds (a few hundred rows, not every
        # device); removals of the last week through the removed_at index.
        d = conn.execute(
            "select coalesce(sum(total_devices), 0)::bigint as total,"
            " coalesce(sum(assigned_devices), 0)::bigint as assigned,"
            " coalesce(sum(unassigned_devices), 0)::bigint as unassigned,"
            " coalesce(sum(archived_devices), 0)::bigint as archived,"
            " (select count(*) from marts.devices"
            "  where removed_at >= now() - interval '7 days' and is_removed) as removed_7d"
            " from reporting.device_summary"
        ).fetchone()
        # Subscriptions by status and the licences of the live ones from the summary dbt builds (per type
        # and status); what ends soon through the ends_at index of reporting.subscription_coverage.
        by_status = conn.execute(
            "select subscription_status as status, sum(subscriptions)::bigint as n"
            " from reporting.subscription_summary group by 1 order by 1"
        ).fetchall()
        expiring = conn.execute(
            "select w as days, (select count(*) from reporting.subscription_coverage where not is_removed"
            "  and ends_at >= now() and ends_at < now() + make_interval(days => w)) as n"
            " from unnest(%s::int[]) as w",
            (list(EXPIRY_WINDOWS),),
        ).fetchall()
        util = conn.execute(
            "select coalesce(sum(used_quantity), 0) as used, coalesce(sum(total_quantity), 0) as total"
            " from reporting.subscription_summary where subscription_status = 'STARTED'"
        ).fetchone()
    assert d is not None and util is not None
    return Overview(
        devices=DeviceKpis(d["total"], d["assigned"], d["unassigned"], d["archived"], d["removed_7d"]),
        subscriptions_by_status={r["status"]: r["n"] for r in by_status},
        expiring={r["days"]: r["n"] for r in expiring},
        utilization=Utilization(used=int(util["used"]), total=int(util["total"])),
        freshness=sync_freshness(url, config),
    )


def sync_freshness(url: str, config: QueryConfig = DEFAULT_CONFIG) -> list[SyncFreshness]:
    """Last successful sync per resource; stale when older than `freshness_hours` (or unknown)."""
    try:
        with read_only_connection(url, config) as conn:
            rows = conn.execute(
                "select r as resource, (select max(coalesce(finished_at, started_at))"
                "  from reporting.sync_history h where h.resource = r and h.sync_status = 'success')"
                " as last_success_at,"
                " now() - make_interval(secs => %s) as threshold"
                " from unnest(%s::text[]) as r",
                (config.freshness_hours * 3600, list(RESOURCES)),
            ).fetchall()
    except QueryError:
        return [SyncFreshness(r, None, True) for r in RESOURCES]
    return [
        SyncFreshness(
            r["resource"],
            r["last_success_at"],
            r["last_success_at"] is None or r["last_success_at"] < r["threshold"],
        )
        for r in rows
    ]


# (list name, table, column, how a row is live): each column leads an index of its table, so its distinct
# values are read by skipping through the index (a "loose index scan"), not by reading the table.
_FILTER_COLUMNS = (
    ("device_types", "devices", "device_type", "not t.is_removed"),
    ("regions", "devices", "region", "not t.is_removed"),
    ("application_ids", "devices", "application_id", "not t.is_removed"),
    ("tiers", "subscriptions", "tier", "not t.is_removed"),
    ("subscription_types", "subscriptions", "subscription_type", "not t.is_removed"),
    ("subscription_statuses", "subscriptions", "subscription_status", "not t.is_removed"),
    (
        "tag_keys",
        "device_tags",
        "tag_key",
        # a scalar subquery with LIMIT, so PostgreSQL probes key by key instead of hash-joining the tables
        "(select true from marts.devices d where d.device_id = t.device_id and not d.is_removed limit 1)",
    ),
)
_DISTINCT = sql.SQL(
    "with recursive v as ("
    " select min({col}) as v from {table}"
    " union all"
    " select (select min({col}) from {table} where {col} > v.v) from v where v.v is not null)"
    " select v.v from v where v.v is not null"
    " and (select true from {table} t where t.{col} = v.v and {live} limit 1) order by 1"
)


def filter_options(url: str, config: QueryConfig = DEFAULT_CONFIG) -> dict[str, list[str]]:
    """Distinct values for the filter dropdowns, from live devices and subscriptions, sorted.

    Each list costs one index probe per distinct value (plus one to check a live row has it), so it stays a
    few milliseconds at any inventory size."""
    out: dict[str, list[str]] = {}
    with read_only_connection(url, config) as conn, conn.transaction():
        for name, table, column, live in _FILTER_COLUMNS:
            query = _DISTINCT.format(
                table=sql.Identifier("marts", table),
                col=sql.Identifier(column),
                live=sql.SQL(live),  # type: ignore[arg-type]  # fixed fragments above
            )
            out[name] = [r["v"] for r in conn.execute(query)]
    return out


def sync_status(url: str, limit: int = 20, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """The most recent sync runs (`reporting.sync_history`), newest first."""
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidParameter(f"limit must be between 1 and 1000, not {limit!r}.")
    with read_only_connection(url, config) as conn:
        return conn.execute(
            "select * from reporting.sync_history order by started_at desc, run_id, resource limit %s",
            (limit,),
        ).fetchall()
