"""Every asset materialized in process: the simulator over loopback → sync → dbt build on a real PostgreSQL.

One materialization serves the module (it is the slow part); the expiry sensor then reads what it built.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType, SimpleNamespace

import dagster as dg
import pytest

from glp_pipeline.defs.checks import COMPLETENESS, ROW_COUNT_DROP
from glp_pipeline.defs.ingest import INGEST_OP, RESOURCE_KEYS, SYNC_HISTORY_KEY
from glp_pipeline.defs.sensors import glp_subscription_expiry_sensor
from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig

from .support import apply_env, env_values, query

DEVICES, SUBSCRIPTIONS = 300, 120


@pytest.fixture(scope="module")
def built(
    glp_defs: ModuleType, module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimpleNamespace]:
    sim = GreenLakeSimulator(
        SimulatorConfig(devices=DEVICES, subscriptions=SUBSCRIPTIONS, seed=11, rate_limits=False)
    )
    server = sim.start("127.0.0.1", 0)
    home = tmp_path_factory.mktemp("pipeline")
    try:
        with pytest.MonkeyPatch.context() as mp:
            apply_env(mp, env_values(home / "glp-home", server, sim, module_database))
            mp.chdir(home)
            defs = glp_defs.defs
            result = dg.materialize(
                defs.assets,
                resources=defs.resources,
                instance=dg.DagsterInstance.ephemeral(),
                run_config={"ops": {INGEST_OP: {"config": {"mode": "full"}}}},
                raise_on_error=False,
            )
        yield SimpleNamespace(result=result, sim=sim, server=server, url=module_database)
    finally:
        server.stop()


def _events(result: dg.ExecuteInProcessResult) -> list[dg.AssetMaterialization]:
    return [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]


def _checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(c.asset_key.to_user_string(), c.check_name): c for c in result.get_asset_check_evaluations()}


def test_every_asset_materializes(built, glp_defs):
    assert built.result.success
    materialized = {m.asset_key for m in _events(built.result)}
    graph = glp_defs.defs.resolve_asset_graph()
    assert materialized == set(graph.get_all_asset_keys())


def test_marts_hold_the_simulator_inventory(built):
    devices = {d["id"] for d in built.sim.devices()}
    subscriptions = {s["id"] for s in built.sim.subscriptions()}
    assert {r[0] for r in query(built.url, "select device_id from marts.devices")} == devices
    synced = query(built.url, "select subscription_id from marts.subscriptions")
    assert {r[0] for r in synced} == subscriptions
    assert query(built.url, "select count(*) from marts.devices where is_removed") == [(0,)]


def test_ingest_metadata_counts_the_raw_rows(built):
    by_key = {m.asset_key: m.metadata for m in _events(built.result)}
    for resource, expected in (("devices", DEVICES), ("subscriptions", SUBSCRIPTIONS)):
        metadata = by_key[RESOURCE_KEYS[resource]]
        assert metadata["dagster/row_count"].value == expected
        assert metadata["fetched"].value == metadata["inserted"].value == expected
        assert metadata["total_reported"].value == expected
        assert metadata["removed"].value == 0
        assert metadata["mode"].value == "full"
    history_rows = query(built.url, "select count(*) from glp.sync_history")[0][0]
    assert by_key[SYNC_HISTORY_KEY]["dagster/row_count"].value == history_rows == 2


def test_ingest_checks_pass(built):
    checks = _checks(built.result)
    for resource in ("devices", "subscriptions"):
        assert checks[(f"greenlake/{resource}", COMPLETENESS)].passed
        assert checks[(f"greenlake/{resource}", ROW_COUNT_DROP)].passed


def test_dbt_tests_are_asset_checks(built):
    dbt_checks = {k: c for k, c in _checks(built.result).items() if not k[0].startswith("greenlake/")}
    assert len(dbt_checks) > 30
    assert ("marts/devices", "unique_devices_device_id") in dbt_checks
    failed = [k for k, c in dbt_checks.items() if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    assert failed == []


def test_expiry_sensor_alerts_each_subscription_once(built, glp_env, webhook):
    glp_env(url=built.url, GLP_ALERT_WEBHOOK_URL=webhook.url)
    soon = "select subscription_id from reporting.subscriptions_expiring_soon where days_remaining < 30"
    expected = {r[0] for r in query(built.url, soon)}
    assert expected, "the simulator's data should hold subscriptions ending within 30 days"

    first = glp_subscription_expiry_sensor(dg.build_sensor_context())
    assert f"Alerted {len(expected)} subscription(s)" in first.skip_message
    assert {r[0] for r in query(built.url, "select subscription_id from glp.expiry_alerts")} == expected
    assert len(webhook.received) == 1
    assert f"{len(expected)} subscription(s) end within 30 days" in webhook.received[0]["text"]

    second = glp_subscription_expiry_sensor(dg.build_sensor_context())
    assert second.skip_message.startswith("No subscription newly within 30 days")
    assert len(webhook.received) == 1


def test_a_subset_of_the_dbt_assets_builds_only_that_subset(built, glp_defs, tmp_path):
    """dbt runs in process: a run that materializes one model (e.g. from the UI) builds and tests that one."""
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, env_values(tmp_path / "glp-home", built.server, built.sim, built.url))
        mp.chdir(tmp_path)
        defs = glp_defs.defs
        summary = dg.AssetKey(["reporting", "device_summary"])
        result = dg.materialize(
            defs.assets, selection=[summary], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
    assert result.success
    assert {m.asset_key for m in _events(result)} == {summary}
    assert {c.asset_key for c in result.get_asset_check_evaluations()} <= {summary}
