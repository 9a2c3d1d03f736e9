"""Aruba Central in Dagster: defined only when configured, materialized against the Central simulator into a
real PostgreSQL, a failure recorded once, the schedule's ticks, and the GreenLake jobs leaving it out.

The code location's dbt half is not needed here: the Aruba definitions are built from settings directly,
beside the GreenLake ingest assets and jobs."""

from __future__ import annotations

import dagster as dg
import pytest

from glp_pipeline.defs.aruba import (
    ARUBA_JOB,
    ARUBA_KEYS,
    ARUBA_SCHEDULE,
    build_aruba_definitions,
    scheduled_aruba_run,
)
from glp_pipeline.defs.checks import COMPLETENESS
from glp_pipeline.defs.ingest import SYNC_FAILURE_RECORDED_TAG, build_ingest_assets
from glp_pipeline.defs.schedules import FULL_JOB, INCREMENTAL_JOB, build_jobs
from glp_pipeline.settings import Settings, get_settings

from .support import apply_env, query

SMALL = {"glp_devices": 120, "glp_subscriptions": 30, "central_only_devices": 10, "clients": 300, "seed": 7}


@pytest.fixture
def central_sim():
    from glp_pipeline.simulator.central import CentralSimulator, CentralSimulatorConfig

    sim = CentralSimulator(CentralSimulatorConfig(**SMALL))
    server = sim.start("127.0.0.1", 0)
    yield sim, server
    server.stop()


def _aruba_env(tmp_path, sim, server, url: str | None = None, **extra: str) -> dict[str, str]:
    values = {
        "GLP_HOME": str(tmp_path / "glp-home"),
        "GLP_BACKOFF_INITIAL_SECONDS": "0.01",
        "GLP_BACKOFF_MAX_SECONDS": "0.05",
        "ARUBA_PACING": "false",
        "ARUBA_BASE_URL": server.base_url,
        "ARUBA_TOKEN_URL": f"{server.base_url}/as/token.oauth2",
        "ARUBA_CLIENT_ID": sim.config.client_id,
        "ARUBA_CLIENT_SECRET": sim.config.client_secret,
    }
    if url is not None:
        values["DATABASE_URL"] = url
    return values | extra


def _materialize(assets: dg.AssetsDefinition, instance: dg.DagsterInstance, selection=None):
    return dg.materialize([assets], instance=instance, selection=selection, raise_on_error=False)


def test_nothing_aruba_without_its_settings(tmp_path):
    definitions = build_aruba_definitions(Settings(_env_file=None, glp_home=tmp_path))
    assert (definitions.assets, definitions.jobs, definitions.schedules) == ([], [], [])
    assert isinstance(scheduled_aruba_run(Settings(_env_file=None, glp_home=tmp_path)), dg.SkipReason)


def test_configured_aruba_has_two_assets_a_job_and_a_schedule(tmp_path, monkeypatch, central_sim):
    sim, server = central_sim
    apply_env(monkeypatch, _aruba_env(tmp_path, sim, server, ARUBA_SYNC_INTERVAL_MINUTES="30"))
    settings = get_settings()
    aruba = build_aruba_definitions(settings)
    greenlake_jobs = build_jobs()
    defs = dg.Definitions(
        assets=[build_ingest_assets(settings), *aruba.assets],
        jobs=[*greenlake_jobs.values(), *aruba.jobs],
        schedules=aruba.schedules,
    )
    graph = defs.resolve_asset_graph()
    assert set(ARUBA_KEYS.values()) <= set(graph.get_all_asset_keys())
    assert {graph.get(k).group_name for k in ARUBA_KEYS.values()} == {"aruba"}
    assert defs.resolve_job_def(ARUBA_JOB).asset_layer.executable_asset_keys == set(ARUBA_KEYS.values())
    for name in (INCREMENTAL_JOB, FULL_JOB):
        keys = defs.resolve_job_def(name).asset_layer.executable_asset_keys
        assert keys and not keys & set(ARUBA_KEYS.values()), "GreenLake jobs leave Central out"
    schedule = defs.resolve_schedule_def(ARUBA_SCHEDULE)
    assert (schedule.cron_schedule, schedule.job_name) == ("*/30 * * * *", ARUBA_JOB)
    request = schedule(dg.build_schedule_context())
    assert isinstance(request, dg.RunRequest)

    apply_env(monkeypatch, {"GLP_HOME": str(tmp_path)})  # the settings went away after the load
    assert isinstance(schedule(dg.build_schedule_context()), dg.SkipReason)


def test_aruba_assets_sync_into_the_database(tmp_path, monkeypatch, central_sim, database_url):
    sim, server = central_sim
    apply_env(monkeypatch, _aruba_env(tmp_path, sim, server, database_url))
    (assets,) = build_aruba_definitions(get_settings()).assets
    instance = dg.DagsterInstance.ephemeral()

    result = _materialize(assets, instance)

    assert result.success
    by_key = {e.asset_key: e.materialization.metadata for e in result.get_asset_materialization_events()}
    devices, clients = by_key[ARUBA_KEYS["devices"]], by_key[ARUBA_KEYS["clients"]]
    assert devices["fetched"].value == devices["dagster/row_count"].value == len(sim.devices())
    expected_clients = len([c for c in sim.clients() if c["status"] in ("Connected", "Failed")])
    assert clients["fetched"].value == clients["dagster/row_count"].value == expected_clients
    assert devices["central_mode"].value == "new"
    checks = {c.asset_key: c for c in result.get_asset_check_evaluations()}
    assert all(checks[k].passed and checks[k].check_name == COMPLETENESS for k in ARUBA_KEYS.values())
    rows = query(database_url, "select resource, trigger, status from glp.sync_history order by resource")
    assert rows == [("central_clients", "dagster", "success"), ("central_devices", "dagster", "success")]

    only_clients = _materialize(assets, instance, selection=[ARUBA_KEYS["clients"]])
    assert only_clients.success
    assert {e.asset_key for e in only_clients.get_asset_materialization_events()} == {ARUBA_KEYS["clients"]}


def test_a_failed_central_sync_fails_once_and_is_recorded(tmp_path, monkeypatch, central_sim, database_url):
    sim, server = central_sim
    apply_env(monkeypatch, _aruba_env(tmp_path, sim, server, database_url, ARUBA_CLIENT_SECRET="wrong"))
    (assets,) = build_aruba_definitions(get_settings()).assets
    instance = dg.DagsterInstance.ephemeral()

    result = _materialize(assets, instance)

    assert not result.success
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == [], "bad credentials will not heal: no retry"
    rows = query(
        database_url, "select resource, status, error_message from glp.sync_history order by resource"
    )
    assert [(r[0], r[1]) for r in rows] == [("central_clients", "failed"), ("central_devices", "failed")]
    assert all("ARUBA_CLIENT_ID / ARUBA_CLIENT_SECRET" in r[2] for r in rows)
    assert instance.get_run_by_id(result.run_id).tags[SYNC_FAILURE_RECORDED_TAG] == "true"
