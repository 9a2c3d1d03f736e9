"""Aruba Central in Dagster: assets `aruba/devices` and `aruba/clients`, their job and schedule.

Defined only when Aruba Central is configured when the code location loads (`Settings.has_aruba`): without
its settings nothing Aruba appears in the UI, no schedule ticks, and nothing fails. Configuring it needs a
reload, like the schedules' cron strings. Should the settings disappear afterwards, a tick skips and a run
fails with a message that says what is missing, without retries.

Why two assets over nine tables: an asset is what a person asks for ("sync Central's devices"); the raw
tables are the API's shapes (New Central's `devices`/`aps`/`switches`/`gateways`, Classic's `classic_*`),
listed in each asset's metadata. One subsettable op runs `run_central_sync`, the one Central sync every
entry point shares (sync history, completeness, nothing partial loaded), in its own concurrency pool: it
shares no raw table and no dlt state with the GreenLake sync, so the two may run side by side.

The assets are in group `aruba` (`schedules.ARUBA_GROUP`); the GreenLake jobs leave that group out, and the
`aruba_sync` job selects it and whatever is built downstream of it.
"""

# No `from __future__ import annotations` here: Dagster reads the op's config and resource annotations
# at definition time and cannot resolve them as strings.
from collections.abc import Iterator
from dataclasses import dataclass, field

import dagster as dg
from psycopg import sql

from glp_pipeline.database import DatabaseError, connect, database_url
from glp_pipeline.defs import checks
from glp_pipeline.defs.ingest import (
    INGEST_RETRY_POLICY,
    SYNC_FAILURE_RECORDED_TAG,
    TABLE_NAME,
    _progress_logger,
    freshness_policy,
    retryable,
)
from glp_pipeline.defs.schedules import ARUBA_GROUP, RUN_RETRY_TAGS, interval_cron
from glp_pipeline.greenlake.errors import GreenLakeError
from glp_pipeline.settings import Settings, get_settings
from glp_pipeline.sources.aruba import HISTORY_RESOURCES, RAW_DATASET, RESOURCES, TABLES
from glp_pipeline.sync import SyncError

ARUBA_OP = "aruba_ingest"
ARUBA_JOB = "aruba_sync"
ARUBA_SCHEDULE = "aruba_sync_schedule"
ARUBA_POOL = "aruba_sync"
"""Concurrency pool of the Central sync: limit it to 1 so two Central syncs never share the dlt pipeline."""
ARUBA_KEYS = {resource: dg.AssetKey(["aruba", resource]) for resource in RESOURCES}
SERVICE = "Aruba Central"


@dataclass
class ArubaDefinitions:
    """What Aruba adds to the code location (all empty when Aruba Central is not configured)."""

    assets: "list[dg.AssetsDefinition]" = field(default_factory=list)
    jobs: "list[dg.UnresolvedAssetJobDefinition]" = field(default_factory=list)  # a typing-only name
    schedules: "list[dg.ScheduleDefinition]" = field(default_factory=list)


def _tables(resource: str) -> list[str]:
    return [f"{RAW_DATASET}.{t.name}" for mode in TABLES.values() for t in mode if t.resource == resource]


def aruba_specs(settings: Settings) -> list[dg.AssetSpec]:
    policy = freshness_policy(settings)
    descriptions = {
        "devices": "Aruba Central devices, raw: New Central's `devices` (every device) and its per-type "
        "`aps`, `switches`, `gateways`, or Classic's `classic_aps`, `classic_switches`, `classic_gateways`, "
        "one row per serial. Devices gone from Central stay, with an older `_glp_synced_at`.",
        "clients": "Aruba Central clients, raw: New Central's `clients` or Classic's `classic_clients`, one "
        "row per MAC address (connected and failed clients). Clients gone stay, with an older "
        "`_glp_synced_at`.",
    }
    return [
        dg.AssetSpec(
            key,
            group_name=ARUBA_GROUP,
            description=descriptions[resource],
            kinds={"dlt", "postgres"},
            metadata={
                TABLE_NAME: ", ".join(_tables(resource)),
                "sync_history_resource": HISTORY_RESOURCES[resource],
            },
            freshness_policy=policy,
        )
        for resource, key in ARUBA_KEYS.items()
    ]


def aruba_check_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            checks.COMPLETENESS,
            asset=key,
            description="The sync read exactly as many objects as Aruba Central reported, in complete reads.",
        )
        for key in ARUBA_KEYS.values()
    ]


def build_aruba_assets(settings: Settings) -> dg.AssetsDefinition:
    """The Central sync as one subsettable multi-asset; `settings` only gives the freshness window."""

    @dg.multi_asset(
        name=ARUBA_OP,
        specs=aruba_specs(settings),
        check_specs=aruba_check_specs(),
        can_subset=True,
        retry_policy=INGEST_RETRY_POLICY,
        pool=ARUBA_POOL,
        description="Sync Aruba Central (the configured mode, New or Classic) into aruba_raw with "
        "run_central_sync.",
    )
    def aruba_ingest(
        context: dg.AssetExecutionContext,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        yield from _ingest(context)

    return aruba_ingest


def _ingest(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    from glp_pipeline.central import central_client
    from glp_pipeline.central.sync import run_central_sync

    settings = get_settings()
    if not settings.has_aruba or settings.aruba_missing_settings():
        missing = ", ".join(settings.aruba_missing_settings()) or "its ARUBA_* settings"
        raise dg.Failure(
            f"Aruba Central is not configured (set {missing}); nothing synced.", allow_retries=False
        )
    selected = tuple(r for r in RESOURCES if ARUBA_KEYS[r] in context.selected_asset_keys)
    try:
        url = database_url(settings)
        with central_client(settings, url=url) as client:
            report = run_central_sync(
                settings,
                client,
                resources=selected,
                trigger="dagster",
                url=url,
                progress=_progress_logger(context),
                dagster_run_id=context.run.run_id,
            )
    except SyncError as exc:  # run_central_sync has recorded the failure in glp.sync_history
        context.instance.add_run_tags(context.run.run_id, {SYNC_FAILURE_RECORDED_TAG: "true"})
        raise dg.Failure(f"Aruba Central sync failed: {exc}", allow_retries=retryable(exc)) from exc
    except (GreenLakeError, DatabaseError) as exc:  # before the sync could record anything
        raise dg.Failure(f"Aruba Central sync could not start: {exc}", allow_retries=retryable(exc)) from exc
    context.log.info(
        "Central sync %s (%s mode): %s",
        report.run_id,
        report.central_mode,
        ", ".join(f"{name} {count} rows" for name, count in report.tables.items()),
    )
    check_keys = context.selected_asset_check_keys
    mode_tables = TABLES[report.central_mode]
    with connect(url, autocommit=True) as conn:
        for resource in selected:
            key = ARUBA_KEYS[resource]
            counts = report.counts[HISTORY_RESOURCES[resource]]
            tables = [t for t in mode_tables if t.resource == resource]
            rows = sum(
                conn.execute(
                    sql.SQL("select count(*) from {}").format(sql.Identifier(RAW_DATASET, t.name))
                ).fetchone()[0]
                for t in tables
                if t.members
            )
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "central_mode": report.central_mode,
                    "sync_run_id": report.run_id,
                    "fetched": counts.fetched,
                    "inserted": counts.inserted,
                    "updated": counts.updated,
                    "removed": counts.removed,
                    "total_reported": counts.total_reported,
                    "rows_read_per_table": dg.MetadataValue.json(
                        {t.name: report.tables[t.name] for t in tables}
                    ),
                    "dagster/row_count": rows,
                },
            )
            if dg.AssetCheckKey(key, checks.COMPLETENESS) in check_keys:
                yield checks.completeness_result(key, counts, service=SERVICE)


def scheduled_aruba_run(settings: Settings) -> dg.RunRequest | dg.SkipReason:
    """What an `aruba_sync_schedule` tick asks for: the whole job, unless Aruba is no longer configured."""
    if not settings.has_aruba:
        return dg.SkipReason("Aruba Central is not configured (no ARUBA_* credentials): nothing to sync.")
    missing = settings.aruba_missing_settings()
    if missing:
        return dg.SkipReason(f"Aruba Central is not completely configured: set {', '.join(missing)}.")
    return dg.RunRequest(tags={"glp/schedule": ARUBA_SCHEDULE})


def build_aruba_definitions(settings: Settings) -> ArubaDefinitions:
    """The assets, job and schedule of Aruba Central, or nothing when it is not configured."""
    if not settings.has_aruba:
        return ArubaDefinitions()
    job = dg.define_asset_job(
        ARUBA_JOB,
        selection=dg.AssetSelection.groups(ARUBA_GROUP).downstream(),
        tags=RUN_RETRY_TAGS,
        description="Aruba Central sync (devices and clients; always a full read), then what is built on it.",
    )

    @dg.schedule(
        name=ARUBA_SCHEDULE,
        job=job,
        cron_schedule=interval_cron(settings.aruba_sync_interval_minutes),
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Aruba Central sync every ARUBA_SYNC_INTERVAL_MINUTES (rounded to a cron cadence).",
    )
    def aruba_sync_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        return scheduled_aruba_run(get_settings())

    return ArubaDefinitions(
        assets=[build_aruba_assets(settings)], jobs=[job], schedules=[aruba_sync_schedule]
    )
