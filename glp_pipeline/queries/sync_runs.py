"""The sync runs and how well they go, from `reporting.sync_history` (the reader role may not read `glp`).

The history is small (one row per resource per run), so its statistics over a window of days are computed
when asked, with PostgreSQL's own percentiles.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from glp_pipeline.queries.common import MAX_EXPIRY_DAYS, Where
from glp_pipeline.queries.connection import (
    DEFAULT_CONFIG,
    InvalidParameter,
    QueryConfig,
    read_only_connection,
)
from glp_pipeline.queries.overview import RESOURCES

MAX_RUNS = 1000
MAX_METRICS_DAYS = MAX_EXPIRY_DAYS

_RUN_COLUMNS = (
    "run_id, resource, sync_mode, sync_trigger, sync_status, started_at, finished_at,"
    " duration_seconds::float8 as duration_seconds, fetched_count, inserted_count, updated_count,"
    " removed_count, total_reported, is_complete, error_message, dagster_run_id"
)


def sync_history(
    url: str,
    *,
    resource: str | None = None,
    status: str | None = None,
    limit: int = 50,
    config: QueryConfig = DEFAULT_CONFIG,
) -> list[dict[str, Any]]:
    """Sync runs, newest first, one row per resource per run: mode, trigger, status, times, duration,
    counts and the error of a failed run. `resource` (devices, subscriptions, run) and `status` (running,
    success, failed) narrow it; other values match nothing."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RUNS:
        raise InvalidParameter(f"limit must be between 1 and {MAX_RUNS}, not {limit!r}.")
    where = Where()
    if resource is not None:
        where.add("resource = %s", resource)
    if status is not None:
        where.add("sync_status = %s", status)
    query = sql.SQL(
        "select {columns} from reporting.sync_history where {where}"
        " order by started_at desc, run_id, resource limit %s"
    ).format(columns=sql.SQL(_RUN_COLUMNS), where=where.sql())
    with read_only_connection(url, config) as conn:
        return conn.execute(query, [*where.params, limit]).fetchall()


def sync_metrics(url: str, days: int = 30, *, config: QueryConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """Per resource, the sync runs started in the last `days` days: runs, successes, failures, still running,
    success rate (% of finished runs), median / p95 / max duration of successful runs (s), records loaded
    (objects read by successful runs; a failed run loads nothing) and what they inserted, updated, removed;
    with the last success and the last failure (time and error) of any age. Devices and subscriptions are
    always listed; another resource (`run`: a failed Dagster run) when it has runs in the window."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_METRICS_DAYS:
        raise InvalidParameter(f"days must be between 1 and {MAX_METRICS_DAYS}, not {days!r}.")
    query = """
        with runs as (
            select * from reporting.sync_history where started_at >= now() - make_interval(days => %(days)s)
        ),
        resources as (
            select unnest(%(resources)s::text[]) as resource union select resource from runs
        )
        select
            r.resource,
            count(h.resource) as runs,
            count(*) filter (where h.sync_status = 'success') as successes,
            count(*) filter (where h.sync_status = 'failed') as failures,
            count(*) filter (where h.sync_status = 'running') as running,
            round(100.0 * count(*) filter (where h.sync_status = 'success')
                / nullif(count(*) filter (where h.sync_status in ('success', 'failed')), 0), 1)::float8
                as success_rate_pct,
            (percentile_cont(0.5) within group (order by h.duration_seconds)
                filter (where h.sync_status = 'success'))::float8 as median_duration_seconds,
            (percentile_cont(0.95) within group (order by h.duration_seconds)
                filter (where h.sync_status = 'success'))::float8 as p95_duration_seconds,
            (max(h.duration_seconds) filter (where h.sync_status = 'success'))::float8
                as max_duration_seconds,
            coalesce(sum(h.fetched_count) filter (where h.sync_status = 'success'), 0)::bigint
                as records_loaded,
            coalesce(sum(h.inserted_count) filter (where h.sync_status = 'success'), 0)::bigint as inserted,
            coalesce(sum(h.updated_count) filter (where h.sync_status = 'success'), 0)::bigint as updated,
            coalesce(sum(h.removed_count) filter (where h.sync_status = 'success'), 0)::bigint as removed,
            (select max(coalesce(s.finished_at, s.started_at)) from reporting.sync_history s
              where s.resource = r.resource and s.sync_status = 'success') as last_success_at,
            f.started_at as last_failure_at,
            f.error_message as last_error_message
        from resources r
        left join runs h on h.resource = r.resource
        left join lateral (
            select s.started_at, s.error_message from reporting.sync_history s
            where s.resource = r.resource and s.sync_status = 'failed'
            order by s.started_at desc limit 1
        ) f on true
        group by r.resource, f.started_at, f.error_message
        order by r.resource
    """
    with read_only_connection(url, config) as conn:
        return conn.execute(query, {"days": days, "resources": list(RESOURCES)}).fetchall()
