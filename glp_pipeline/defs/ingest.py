"""Ingest: GreenLake devices and subscriptions into `greenlake_raw`, as Dagster assets.

The assets are described by dagster-dlt (`build_dlt_asset_specs` over our dlt source, with a translator) so
they carry dlt's kinds and table metadata, and their keys are exactly the keys dagster-dbt gives the dbt
sources (`[source, table]`): `greenlake/devices` and `greenlake/subscriptions`. The dbt graph therefore hangs
off them with no stub assets in between. `glp/sync_history`, the third dbt source, is a real asset of the same
op, because every sync writes it.

The op does not use `DagsterDltResource.run`: it calls `run_sync`, the one sync every entry point shares,
which owns the sync history, counting, completeness and dropping partial loads. The op turns its report into
one `MaterializeResult` per selected resource and the `completeness` and `row_count_drop` checks. Settings
are read when the op runs, not when the code location loads, except the freshness window.
"""

# No `from __future__ import annotations` here: Dagster reads the op's config and resource annotations
# at definition time and cannot resolve them as strings.
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Literal

import dagster as dg
import dlt
from dagster_dlt import DagsterDltTranslator, build_dlt_asset_specs
from dagster_dlt.translator import DltResourceTranslatorData
from pydantic import Field

from glp_pipeline.database import DatabaseError, connect, database_url
from glp_pipeline.defs import checks
from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.greenlake.errors import GreenLakeError
from glp_pipeline.settings import Settings, get_settings
from glp_pipeline.sources.greenlake import RAW_DATASET, RESOURCES, greenlake_source
from glp_pipeline.sync import PIPELINE_NAME, SyncError, SyncReport, run_sync

INGEST_OP = "greenlake_ingest"
INGEST_GROUP = "ingest"
SOURCE_NAME = "greenlake"  # the dbt source of the raw tables: its keys are `[source, table]`
RESOURCE_KEYS = {resource: dg.AssetKey([SOURCE_NAME, resource]) for resource in RESOURCES}
SYNC_HISTORY_KEY = dg.AssetKey(["glp", "sync_history"])
TABLE_NAME = "dagster/table_name"  # the table an asset is, in Dagster's standard metadata
SYNC_FAILURE_RECORDED_TAG = "glp/sync_failure_recorded"
"""Set on a Dagster run whose sync failed inside `run_sync`, which has then recorded the failure itself."""

INGEST_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
INGEST_POOL = "glp_sync"
"""Concurrency pool of the sync: limit it to 1 (`dagster instance concurrency set glp_sync 1`) so that two
syncs never share the dlt pipeline and the raw tables."""

PROGRESS_LOG_SECONDS = 15.0


class IngestConfig(dg.Config):
    """Run configuration of the sync op."""

    mode: Literal["full", "incremental", "auto"] = Field(
        default="auto",
        description="full reads everything and detects removals; incremental reads what changed since the "
        "last cursor; auto is incremental once a full sync has succeeded for every resource, else full.",
    )
    row_drop_threshold_pct: float | None = Field(
        default=None,
        description="Fail row_count_drop when the live rows drop by more than this percentage "
        "(default: GLP_ROW_DROP_THRESHOLD_PCT).",
    )


class GreenLakeDltTranslator(DagsterDltTranslator):
    """dlt resource → asset spec: the dbt source key, group `ingest`, no phantom upstream."""

    def __init__(self, freshness_policy: dg.FreshnessPolicy | None = None) -> None:
        self.freshness_policy = freshness_policy

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        return spec.replace_attributes(
            key=RESOURCE_KEYS[name],
            deps=[],  # dlt's default is a `greenlake_<resource>` asset that does not exist
            group_name=INGEST_GROUP,
            description=f"GreenLake {name}, raw: `{RAW_DATASET}.{name}`, one row per object id, loaded by "
            "the GLP Sync sync (dlt merge on id). Removed objects stay, with an older `_glp_synced_at`.",
            metadata={**spec.metadata, TABLE_NAME: f"{RAW_DATASET}.{name}"},
            freshness_policy=self.freshness_policy,
        )


def freshness_policy(settings: Settings) -> dg.FreshnessPolicy:
    """Raw tables and marts should be no older than GLP_FRESHNESS_HOURS (a full sync runs daily)."""
    return dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=settings.glp_freshness_hours))


def ingest_specs(settings: Settings) -> list[dg.AssetSpec]:
    """The raw table specs (from dagster-dlt) plus `glp/sync_history`.

    The dlt source is built without a client: its generators are lazy and never run here. The pipeline is
    only described (destination postgres, dataset `greenlake_raw`); nothing connects.
    """
    policy = freshness_policy(settings)
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(settings.dlt_dir / "dagster-specs"),
        destination=dlt.destinations.postgres(),
        dataset_name=RAW_DATASET,
    )
    raw = build_dlt_asset_specs(
        dlt_source=greenlake_source(client=None),
        dlt_pipeline=pipeline,
        dagster_dlt_translator=GreenLakeDltTranslator(policy),
    )
    history_spec = dg.AssetSpec(
        SYNC_HISTORY_KEY,
        group_name=INGEST_GROUP,
        description="`glp.sync_history`: one row per resource per sync run (status, counts, error), written "
        "by every sync; the marts read the last successful full sync from it to detect removals.",
        kinds={"postgres"},
        metadata={TABLE_NAME: "glp.sync_history"},
        freshness_policy=policy,
    )
    return [*raw, history_spec]


def ingest_check_specs() -> list[dg.AssetCheckSpec]:
    specs = []
    for key in RESOURCE_KEYS.values():
        specs.append(
            dg.AssetCheckSpec(
                checks.COMPLETENESS,
                asset=key,
                description="The sync read exactly as many objects as GreenLake reported, in one consistent "
                "read (WARN when GreenLake sent no total).",
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                checks.ROW_COUNT_DROP,
                asset=key,
                description="Live rows did not drop by more than GLP_ROW_DROP_THRESHOLD_PCT since the "
                "previous successful sync.",
            )
        )
    return specs


def build_ingest_assets(settings: Settings) -> dg.AssetsDefinition:
    """The sync as one subsettable multi-asset; `settings` only gives the freshness window."""

    @dg.multi_asset(
        name=INGEST_OP,
        specs=ingest_specs(settings),
        check_specs=ingest_check_specs(),
        can_subset=True,
        retry_policy=INGEST_RETRY_POLICY,
        pool=INGEST_POOL,
        description="Sync GreenLake into greenlake_raw with run_sync (mode from the run config).",
    )
    def greenlake_ingest(
        context: dg.AssetExecutionContext, config: IngestConfig
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        yield from _ingest(context, config)

    return greenlake_ingest


def _ingest(
    context: dg.AssetExecutionContext, config: IngestConfig
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    settings = get_settings()
    selected = tuple(r for r in RESOURCES if RESOURCE_KEYS[r] in context.selected_asset_keys)
    if not selected:
        raise dg.Failure(
            "glp/sync_history is written by every device or subscription sync: select "
            "greenlake/devices or greenlake/subscriptions.",
            allow_retries=False,
        )
    report, url = _run_sync(context, settings, selected, config.mode)
    threshold = (
        config.row_drop_threshold_pct
        if config.row_drop_threshold_pct is not None
        else settings.glp_row_drop_threshold_pct
    )
    check_keys = context.selected_asset_check_keys
    with connect(url, autocommit=True) as conn:
        for resource in selected:
            key = RESOURCE_KEYS[resource]
            counts = report.counts[resource]
            raw = checks.raw_counts(conn, resource)
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "mode": report.mode,
                    "sync_run_id": report.run_id,
                    "fetched": counts.fetched,
                    "inserted": counts.inserted,
                    "updated": counts.updated,
                    "removed": counts.removed,
                    "total_reported": counts.total_reported,
                    "live_rows": raw.live,
                    "dagster/row_count": raw.rows,
                },
            )
            if dg.AssetCheckKey(key, checks.COMPLETENESS) in check_keys:
                yield checks.completeness_result(key, counts)
            if dg.AssetCheckKey(key, checks.ROW_COUNT_DROP) in check_keys:
                before = checks.baseline(conn, resource, report.run_id, report.started_at)
                yield checks.row_count_drop_result(key, raw, before, threshold)
        if SYNC_HISTORY_KEY in context.selected_asset_keys:
            rows = conn.execute("select count(*) from glp.sync_history").fetchone()[0]
            yield dg.MaterializeResult(
                asset_key=SYNC_HISTORY_KEY,
                metadata={"sync_run_id": report.run_id, "dagster/row_count": rows},
            )


def _run_sync(
    context: dg.AssetExecutionContext, settings: Settings, resources: tuple[str, ...], mode: str
) -> tuple[SyncReport, str]:
    """`run_sync`, with its failures turned into a Dagster `Failure` that says whether a retry may help."""
    try:
        url = database_url(settings)
        with GreenLakeClient.from_settings(settings) as client:
            report = run_sync(
                settings,
                client,
                resources=resources,
                mode=mode,
                trigger="dagster",
                url=url,
                progress=_progress_logger(context),
                dagster_run_id=context.run.run_id,
            )
    except SyncError as exc:  # run_sync has recorded the failure in glp.sync_history
        context.instance.add_run_tags(context.run.run_id, {SYNC_FAILURE_RECORDED_TAG: "true"})
        raise dg.Failure(f"GreenLake sync failed: {exc}", allow_retries=retryable(exc)) from exc
    except (GreenLakeError, DatabaseError) as exc:  # before run_sync could record anything
        raise dg.Failure(f"GreenLake sync could not start: {exc}", allow_retries=retryable(exc)) from exc
    context.log.info(
        "sync %s (%s): %s",
        report.run_id,
        report.mode,
        ", ".join(f"{r} {c.fetched} fetched" for r, c in report.counts.items()),
    )
    return report, url


def retryable(exc: BaseException) -> bool:
    """Whether another attempt may help: the GreenLake client's verdict when it caused the failure (bad
    credentials, a forbidden API or a bad request will not heal), else yes (database, network, load)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, GreenLakeError):
            return bool(current.retryable)
        current = current.__cause__ or current.__context__
    return True


def _progress_logger(context: dg.AssetExecutionContext):
    """A `run_sync` progress callback that logs each resource's progress now and then, not per page."""
    last: dict[str, float] = {}

    def progress(resource: str, fetched: int, total: int | None) -> None:
        now = time.monotonic()
        done = total is not None and fetched >= total
        if done or now - last.get(resource, 0.0) >= PROGRESS_LOG_SECONDS:
            last[resource] = now
            context.log.info("%s: %d of %s fetched", resource, fetched, total if total is not None else "?")

    return progress
