"""Schedules: cron strings, what a tick asks for under the toggles, and that the request fits its job."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import pytest

from glp_pipeline.defs.ingest import INGEST_OP, RESOURCE_KEYS, SYNC_HISTORY_KEY
from glp_pipeline.defs.schedules import FULL_JOB, INCREMENTAL_JOB, daily_cron, interval_cron

CREDENTIALS = {"GLP_CLIENT_ID": "id", "GLP_CLIENT_SECRET": "secret"}
MORNING = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes", "cron"),
    [
        (1, "* * * * *"),
        (15, "*/15 * * * *"),
        (7, "*/6 * * * *"),
        (45, "*/30 * * * *"),
        (50, "0 * * * *"),
        (60, "0 * * * *"),
        (90, "0 * * * *"),
        (100, "0 */2 * * *"),
        (300, "0 */4 * * *"),
        (1000, "0 */12 * * *"),
        (1440, "0 0 * * *"),
    ],
)
def test_interval_cron_rounds_to_an_even_cadence(minutes, cron):
    assert interval_cron(minutes) == cron


def test_daily_cron():
    assert daily_cron("02:00") == "0 2 * * *"
    assert daily_cron("23:45") == "45 23 * * *"


def _schedule(glp_defs, name: str) -> dg.ScheduleDefinition:
    return glp_defs.defs.resolve_schedule_def(name)


def _evaluate(glp_defs, name: str, when: datetime = MORNING):
    return _schedule(glp_defs, name)(dg.build_schedule_context(scheduled_execution_time=when))


def _assert_fits_job(glp_defs, request: dg.RunRequest, job_name: str) -> None:
    """The request's selection is a subset of the job and its run config is valid for that subset."""
    job = glp_defs.defs.resolve_job_def(job_name)
    subset = job.get_subset(
        asset_selection=set(request.asset_selection), asset_check_selection=set(request.asset_check_keys)
    )
    dg.validate_run_config(subset, request.run_config)


def test_schedules_are_set_from_the_settings(glp_defs):
    incremental = _schedule(glp_defs, "sync_incremental_schedule")
    full = _schedule(glp_defs, "sync_full_schedule")
    assert (incremental.cron_schedule, incremental.job_name) == ("0 * * * *", INCREMENTAL_JOB)
    assert (full.cron_schedule, full.job_name) == ("0 2 * * *", FULL_JOB)
    assert incremental.execution_timezone == full.execution_timezone == "UTC"


def test_incremental_tick_selects_everything(glp_defs, glp_env):
    glp_env(**CREDENTIALS)
    request = _evaluate(glp_defs, "sync_incremental_schedule")
    assert isinstance(request, dg.RunRequest)
    every_asset = set(glp_defs.defs.resolve_asset_graph().get_all_asset_keys())
    assert set(request.asset_selection) == every_asset
    assert request.run_config["ops"][INGEST_OP]["config"]["mode"] == "auto"
    assert {c.asset_key for c in request.asset_check_keys} >= set(RESOURCE_KEYS.values())
    _assert_fits_job(glp_defs, request, INCREMENTAL_JOB)


def test_full_tick_runs_a_full_sync(glp_defs, glp_env):
    glp_env(**CREDENTIALS)
    request = _evaluate(glp_defs, "sync_full_schedule", MORNING.replace(hour=2))
    assert request.run_config["ops"][INGEST_OP]["config"]["mode"] == "full"
    _assert_fits_job(glp_defs, request, FULL_JOB)


@pytest.mark.parametrize("schedule", ["sync_incremental_schedule", "sync_full_schedule"])
def test_a_toggle_leaves_its_resource_out(glp_defs, glp_env, schedule):
    glp_env(SYNC_DEVICES="false", **CREDENTIALS)
    request = _evaluate(glp_defs, schedule)
    assert RESOURCE_KEYS["devices"] not in request.asset_selection
    assert RESOURCE_KEYS["subscriptions"] in request.asset_selection
    assert SYNC_HISTORY_KEY in request.asset_selection
    assert all(c.asset_key != RESOURCE_KEYS["devices"] for c in request.asset_check_keys)
    _assert_fits_job(glp_defs, request, FULL_JOB if schedule == "sync_full_schedule" else INCREMENTAL_JOB)


@pytest.mark.parametrize("schedule", ["sync_incremental_schedule", "sync_full_schedule"])
def test_both_toggles_off_skip(glp_defs, glp_env, schedule):
    glp_env(SYNC_DEVICES="false", SYNC_SUBSCRIPTIONS="false", **CREDENTIALS)
    skip = _evaluate(glp_defs, schedule)
    assert isinstance(skip, dg.SkipReason)
    assert "both false" in skip.skip_message


def test_no_credentials_skip(glp_defs, glp_env):
    glp_env()
    skip = _evaluate(glp_defs, "sync_incremental_schedule")
    assert isinstance(skip, dg.SkipReason)
    assert "GLP_CLIENT_ID" in skip.skip_message


def test_the_incremental_tick_gives_way_to_the_full_sync(glp_defs, glp_env):
    glp_env(**CREDENTIALS)
    skip = _evaluate(glp_defs, "sync_incremental_schedule", MORNING.replace(hour=2))
    assert isinstance(skip, dg.SkipReason)
    assert "full sync" in skip.skip_message
