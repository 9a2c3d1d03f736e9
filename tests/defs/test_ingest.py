"""The ingest op alone: its failures in sync history and the failure sensor, and its checks going red."""

from __future__ import annotations

import logging
import socket
from types import ModuleType

import dagster as dg
import pytest

from glp_pipeline.defs.alerts import post_alert
from glp_pipeline.defs.checks import COMPLETENESS, ROW_COUNT_DROP, completeness_result
from glp_pipeline.defs.ingest import INGEST_OP, RESOURCE_KEYS, SYNC_FAILURE_RECORDED_TAG, SYNC_HISTORY_KEY
from glp_pipeline.defs.sensors import FAILURE_SENSOR, glp_run_failure_sensor
from glp_pipeline.history import ResourceCounts
from glp_pipeline.settings import get_settings

from .support import query


def _ingest(glp_defs: ModuleType) -> dg.AssetsDefinition:
    return glp_defs.defs.resolve_assets_def(RESOURCE_KEYS["devices"])


def _materialize(assets: dg.AssetsDefinition, instance: dg.DagsterInstance, selection=None, **config):
    return dg.materialize(
        [assets],
        instance=instance,
        selection=selection,
        run_config={"ops": {INGEST_OP: {"config": config}}},
        raise_on_error=False,
    )


def _checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(c.asset_key.path[-1], c.check_name): c for c in result.get_asset_check_evaluations()}


def _failure_context(result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance):
    return dg.build_run_status_sensor_context(
        sensor_name=FAILURE_SENSOR,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
    ).for_run_failure()


def _history(url: str) -> list[tuple]:
    return query(
        url,
        "select run_id::text, resource, trigger, status, error_message from glp.sync_history"
        " order by started_at, resource",
    )


def test_bad_credentials_fail_once_and_the_sync_records_it(
    glp_defs, make_simulator, glp_env, database_url, webhook
):
    sim, server = make_simulator(devices=20, subscriptions=5, rate_limits=False)
    glp_env(server, sim, database_url, GLP_CLIENT_SECRET="wrong", GLP_ALERT_WEBHOOK_URL=webhook.url)
    instance = dg.DagsterInstance.ephemeral()

    result = _materialize(_ingest(glp_defs), instance, mode="full")

    assert not result.success
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == [], "bad credentials will not heal: no retry"
    rows = _history(database_url)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("devices", "dagster", "failed"),
        ("subscriptions", "dagster", "failed"),
    ]
    assert all("rejected the client credentials" in r[4] for r in rows), rows
    assert instance.get_run_by_id(result.run_id).tags[SYNC_FAILURE_RECORDED_TAG] == "true"

    assert glp_run_failure_sensor(_failure_context(result, instance)) is None
    assert len(_history(database_url)) == 2, "the sync recorded the failure: no extra row"
    assert len(webhook.received) == 1
    assert result.run_id in webhook.received[0]["text"]


def test_failure_sensor_records_a_run_that_failed_before_syncing(
    glp_defs, make_simulator, glp_env, database_url, webhook
):
    _sim, server = make_simulator(devices=20, subscriptions=5, rate_limits=False)
    glp_env(server, None, database_url, GLP_ALERT_WEBHOOK_URL=webhook.url)  # no credentials at all
    instance = dg.DagsterInstance.ephemeral()
    result = _materialize(_ingest(glp_defs), instance, mode="incremental")
    assert not result.success
    assert query(database_url, "select to_regclass('glp.sync_history')") == [(None,)]

    context = _failure_context(result, instance)
    assert glp_run_failure_sensor(context) is None
    assert glp_run_failure_sensor(context) is None  # a second evaluation adds nothing

    rows = query(
        database_url,
        "select run_id::text, resource, mode, trigger, status, error_message from glp.sync_history",
    )
    assert len(rows) == 1
    run_id, resource, mode, trigger, status, error = rows[0]
    assert run_id == result.run_id
    assert (resource, mode, trigger, status) == ("run", "incremental", "dagster", "failed")
    assert "GLP_CLIENT_ID" in error
    assert len(webhook.received) == 2
    assert all(result.run_id in body["text"] and "GLP_CLIENT_ID" in body["text"] for body in webhook.received)


def test_failure_sensor_skips_when_the_database_is_down(glp_defs, glp_env, tmp_path, webhook):
    glp_env(url="postgresql://nobody:pw@127.0.0.1:1/none", GLP_ALERT_WEBHOOK_URL=webhook.url)
    instance = dg.DagsterInstance.ephemeral()
    result = _materialize(_ingest(glp_defs), instance, mode="full")
    assert not result.success

    outcome = glp_run_failure_sensor(_failure_context(result, instance))

    assert isinstance(outcome, dg.SkipReason)
    assert "not recorded in glp.sync_history" in outcome.skip_message
    assert len(webhook.received) == 1, "the alert still goes out"


def test_row_count_drop_fails_when_a_full_sync_misses_many_objects(
    glp_defs, make_simulator, glp_env, database_url
):
    sim, server = make_simulator(devices=100, subscriptions=20, rate_limits=False)
    glp_env(server, sim, database_url)
    instance = dg.DagsterInstance.ephemeral()
    assets = _ingest(glp_defs)
    first = _materialize(assets, instance, mode="full")
    assert first.success
    assert all(c.passed for c in first.get_asset_check_evaluations())

    sim.mutate(remove=30, resource="devices")
    second = _materialize(assets, instance, mode="full", row_drop_threshold_pct=10.0)

    assert second.success, "a failed check does not fail the sync"
    checks = _checks(second)
    drop = checks[("devices", ROW_COUNT_DROP)]
    assert not drop.passed
    assert drop.metadata["live_rows"].value == 70
    assert drop.metadata["previous_live_rows"].value == 100
    assert checks[("subscriptions", ROW_COUNT_DROP)].passed
    assert checks[("devices", COMPLETENESS)].passed

    sim.mutate(remove=2, resource="devices")  # 3 % of 70: within the default 20 %
    third = _materialize(assets, instance, mode="full")
    assert _checks(third)[("devices", ROW_COUNT_DROP)].passed


def test_a_server_without_totals_warns_on_completeness(glp_defs, make_simulator, glp_env, database_url):
    sim, server = make_simulator(devices=10, subscriptions=12, rate_limits=False)
    sim.faults.omit_total = True
    glp_env(server, sim, database_url)
    result = _materialize(
        _ingest(glp_defs),
        dg.DagsterInstance.ephemeral(),
        selection=[RESOURCE_KEYS["subscriptions"], SYNC_HISTORY_KEY],
        mode="full",
    )
    assert result.success
    checks = _checks(result)
    assert set(checks) == {("subscriptions", COMPLETENESS), ("subscriptions", ROW_COUNT_DROP)}
    completeness = checks[("subscriptions", COMPLETENESS)]
    assert not completeness.passed
    assert completeness.severity == dg.AssetCheckSeverity.WARN
    assert "no total" in completeness.description


def test_completeness_fails_on_a_short_read():
    key = RESOURCE_KEYS["devices"]
    short = completeness_result(key, ResourceCounts(fetched=9, total_reported=10, complete=False))
    assert not short.passed
    assert short.severity == dg.AssetCheckSeverity.ERROR
    assert completeness_result(key, ResourceCounts(fetched=10, total_reported=10, complete=True)).passed


def test_a_webhook_failure_is_quiet_and_never_logs_the_url(glp_env, caplog: pytest.LogCaptureFixture):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/T0000/B0000/very-secret"
    glp_env(GLP_ALERT_WEBHOOK_URL=url)
    with caplog.at_level(logging.DEBUG):
        assert post_alert(get_settings(), "hello") is False
    assert "very-secret" not in caplog.text
    assert "not reached" in caplog.text
