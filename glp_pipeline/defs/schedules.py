"""Jobs and schedules: an incremental sync every SYNC_INTERVAL_MINUTES and a full sync daily.

Both jobs cover every asset (sync, then `dbt build`); the sync mode comes from the run config (`auto` for
the incremental job, which is incremental once a full sync has succeeded, so a fresh install starts with a
full one). The schedules decide at each tick, from SYNC_DEVICES / SYNC_SUBSCRIPTIONS, which ingest assets a
run selects, and skip with a reason when both are off or no credentials are set.

The cron strings are fixed when the code location loads. A cadence that cron cannot express evenly is
rounded to the nearest one it can (see `interval_cron`).

Retries: the sync op retries with backoff itself (`INGEST_RETRY_POLICY`); the jobs also carry Dagster's
run-retry tags so that a run whose process died is retried from the failure, when the instance has
`run_retries: enabled: true`. Op failures are not retried a second time at the run level.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from glp_pipeline.defs.ingest import INGEST_OP, RESOURCE_KEYS, IngestConfig
from glp_pipeline.settings import Settings, get_settings

INCREMENTAL_JOB = "sync_incremental"
FULL_JOB = "sync_full"
RUN_RETRY_TAGS = {
    "dagster/max_retries": "2",
    "dagster/retry_strategy": "FROM_FAILURE",
    "dagster/retry_on_asset_or_op_failure": "false",
}
MINUTE_CADENCES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)  # divisors of 60
HOUR_CADENCES = (1, 2, 3, 4, 6, 8, 12, 24)  # divisors of 24


def interval_cron(minutes: int) -> str:
    """A cron string for "every `minutes` minutes".

    Cron steps restart every hour (minutes) and every day (hours), so only divisors of 60 minutes and of 24
    hours repeat evenly. Any other cadence is rounded to the nearest of those, the shorter on a tie (7 → 6,
    45 → 30, 50 → 60, 90 → 60, 100 → 120, 300 → 240, 1000 → 720).
    """
    candidates = [*MINUTE_CADENCES, *(60 * h for h in HOUR_CADENCES)]
    chosen = min(candidates, key=lambda c: (abs(c - minutes), c))
    if chosen < 60:
        return "* * * * *" if chosen == 1 else f"*/{chosen} * * * *"
    hours = chosen // 60
    if hours == 24:
        return "0 0 * * *"
    return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"


def daily_cron(hhmm: str) -> str:
    """`HH:MM` → the cron string of that time every day."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return f"{minutes} {hours} * * *"


ARUBA_GROUP = "aruba"
"""The group of Aruba Central's assets (defs/aruba.py): they have their own job and schedule, so the GreenLake
jobs leave them out."""


def _job(name: str, mode: str, description: str) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name,
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups(ARUBA_GROUP),
        config=dg.RunConfig(ops={INGEST_OP: IngestConfig(mode=mode)}),
        tags=RUN_RETRY_TAGS,
        description=description,
    )


def build_jobs() -> dict[str, dg.UnresolvedAssetJobDefinition]:
    return {
        INCREMENTAL_JOB: _job(
            INCREMENTAL_JOB, "auto", "Incremental sync (full until a baseline exists), then dbt build."
        ),
        FULL_JOB: _job(FULL_JOB, "full", "Full sync (detects removals), then dbt build."),
    }


def scheduled_run(
    settings: Settings,
    mode: str,
    assets: Sequence[dg.AssetsDefinition],
    schedule_name: str,
) -> dg.RunRequest | dg.SkipReason:
    """The run a schedule tick asks for: every asset, less the ingest assets the toggles switch off."""
    off = {key for resource, key in RESOURCE_KEYS.items() if not getattr(settings, f"sync_{resource}")}
    if len(off) == len(RESOURCE_KEYS):
        return dg.SkipReason("SYNC_DEVICES and SYNC_SUBSCRIPTIONS are both false: nothing to sync.")
    if not settings.has_greenlake_credentials:
        return dg.SkipReason("GLP_CLIENT_ID and GLP_CLIENT_SECRET are not set: no GreenLake to sync from.")
    asset_keys = sorted({key for a in assets for key in a.keys} - off)
    check_keys = sorted(
        {check for a in assets for check in a.check_keys if check.asset_key not in off},
        key=lambda c: (c.asset_key, c.name),
    )
    return dg.RunRequest(
        run_config=dg.RunConfig(ops={INGEST_OP: IngestConfig(mode=mode)}),
        asset_selection=asset_keys,
        asset_check_keys=check_keys,
        tags={"glp/schedule": schedule_name},
    )


def build_schedules(
    settings: Settings,
    jobs: dict[str, dg.UnresolvedAssetJobDefinition],
    assets: Sequence[dg.AssetsDefinition],
) -> list[dg.ScheduleDefinition]:
    """The two schedules; `settings` gives their cron strings, everything else is read at each tick."""
    full_cron = daily_cron(settings.glp_full_sync_time)

    @dg.schedule(
        name="sync_incremental_schedule",
        job=jobs[INCREMENTAL_JOB],
        cron_schedule=interval_cron(settings.sync_interval_minutes),
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Incremental sync every SYNC_INTERVAL_MINUTES (rounded to a cron cadence).",
    )
    def sync_incremental_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        current = get_settings()
        tick = context.scheduled_execution_time
        if tick is not None and tick.strftime("%H:%M") == current.glp_full_sync_time:
            return dg.SkipReason("The daily full sync runs at this time.")
        return scheduled_run(current, "auto", assets, "sync_incremental_schedule")

    @dg.schedule(
        name="sync_full_schedule",
        job=jobs[FULL_JOB],
        cron_schedule=full_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Full sync daily at GLP_FULL_SYNC_TIME (UTC).",
    )
    def sync_full_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        return scheduled_run(get_settings(), "full", assets, "sync_full_schedule")

    return [sync_incremental_schedule, sync_full_schedule]
