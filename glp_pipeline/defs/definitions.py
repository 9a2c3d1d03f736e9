"""The code location: `dagster dev -m glp_pipeline.defs.definitions` (or `-w workspace.yaml`).

Loading it reads the settings once for what must be fixed at load time: where the dbt manifest lives
(GLP_HOME), the schedules' cron strings (SYNC_INTERVAL_MINUTES, GLP_FULL_SYNC_TIME) and the freshness
window (GLP_FRESHNESS_HOURS); changing those needs a reload. Everything else (database, credentials,
toggles, thresholds, webhook) is read when an op, schedule or sensor runs. Aruba Central's assets, job and
schedule exist only when its settings are there at load time (`defs/aruba.py`). Loading connects to
nothing: at most it runs `dbt parse`, which needs no database.
"""

from __future__ import annotations

import dagster as dg

from glp_pipeline.defs.aruba import build_aruba_definitions
from glp_pipeline.defs.dbt import build_dbt_assets, build_dbt_project
from glp_pipeline.defs.ingest import build_ingest_assets, freshness_policy
from glp_pipeline.defs.schedules import build_jobs, build_schedules
from glp_pipeline.defs.sensors import glp_run_failure_sensor, glp_subscription_expiry_sensor
from glp_pipeline.settings import Settings, get_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    project = build_dbt_project(settings)
    assets = [build_ingest_assets(settings), build_dbt_assets(project, freshness_policy(settings))]
    jobs = build_jobs()
    aruba = build_aruba_definitions(settings)  # nothing unless Aruba Central is configured
    return dg.Definitions(
        assets=[*assets, *aruba.assets],
        jobs=[*jobs.values(), *aruba.jobs],
        schedules=[*build_schedules(settings, jobs, assets), *aruba.schedules],
        sensors=[glp_run_failure_sensor, glp_subscription_expiry_sensor],
    )


defs = build_definitions(get_settings())
