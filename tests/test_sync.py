"""Sync runs end to end: simulator over loopback HTTP → client → dlt → a real PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime

import psycopg
import pytest
from dlt.common.normalizers.naming.snake_case import NamingConvention

from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.sources.greenlake import parse_api_time
from glp_pipeline.sync import SYNC_LOCK_KEY, SyncBusyError, SyncError, run_sync

snake = NamingConvention().normalize_identifier


def _sync(settings, url, **kwargs):
    with GreenLakeClient.from_settings(settings) as client:
        return run_sync(settings, client, url=url, **kwargs)


def _raw_rows(url: str, table: str) -> dict[str, dict]:
    with psycopg.connect(url) as conn:
        cur = conn.execute(f"select * from greenlake_raw.{table}")
        cols = [d.name for d in cur.description]
        return {row[cols.index("id")]: dict(zip(cols, row, strict=True)) for row in cur.fetchall()}


def _assert_same(api_obj: dict, raw_row: dict) -> None:
    """Every field of the API object is in the raw row with an equal value (timestamps as instants)."""
    for key, value in api_obj.items():
        column = snake(key)
        assert column in raw_row, f"field {key} has no raw column {column}"
        stored = raw_row[column]
        if isinstance(stored, datetime):
            assert stored == parse_api_time(value), key
        else:
            assert stored == value, key


def _history(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select resource, mode, status, fetched, inserted, updated, removed, total_reported,"
            " error_message from glp.sync_history order by started_at, resource"
        ).fetchall()


def test_full_sync_matches_the_simulator_field_by_field(make_simulator, settings_for, database_url):
    sim, server = make_simulator(devices=450, subscriptions=130, seed=7)
    settings = settings_for(server, sim, database_url)

    report = _sync(settings, database_url, mode="full")

    devices, subscriptions = sim.devices(), sim.subscriptions()
    assert report.counts["devices"].fetched == len(devices) == 450
    assert report.counts["devices"].inserted == 450
    assert report.counts["subscriptions"].fetched == len(subscriptions) == 130
    assert report.counts["devices"].complete and report.counts["subscriptions"].complete

    raw_devices, raw_subs = _raw_rows(database_url, "devices"), _raw_rows(database_url, "subscriptions")
    assert set(raw_devices) == {d["id"] for d in devices}
    assert set(raw_subs) == {s["id"] for s in subscriptions}
    for device in random.Random(1).sample(devices, 40):
        _assert_same(device, raw_devices[device["id"]])
    for subscription in random.Random(2).sample(subscriptions, 20):
        _assert_same(subscription, raw_subs[subscription["id"]])


def test_tags_stay_one_json_column(make_simulator, settings_for, database_url):
    sim, server = make_simulator(devices=200, subscriptions=20)
    _sync(settings_for(server, sim, database_url), database_url, mode="full")
    with psycopg.connect(database_url) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'greenlake_raw' and table_name = 'devices'"
            )
        ]
        tag_type = conn.execute(
            "select data_type from information_schema.columns where table_schema = 'greenlake_raw'"
            " and table_name = 'devices' and column_name = 'tags'"
        ).fetchone()[0]
    assert not [c for c in columns if c.startswith("tags__")]
    assert tag_type == "jsonb"


def test_incremental_run_picks_up_updates_and_additions(make_simulator, settings_for, database_url):
    sim, server = make_simulator(devices=400, subscriptions=60)
    settings = settings_for(server, sim, database_url, glp_incremental_lag_seconds=0)
    _sync(settings, database_url, mode="full")

    change = sim.mutate(update=12, add=3, resource="devices")
    report = _sync(settings, database_url, mode="auto")

    assert report.mode == "incremental"
    devices = report.counts["devices"]
    assert devices.updated == 12
    assert devices.inserted == 3
    assert devices.fetched < 400, "an incremental run must not re-read the whole inventory"
    raw = _raw_rows(database_url, "devices")
    truth = {d["id"]: d for d in sim.devices()}
    for device_id in [*change.updated, *change.added]:
        _assert_same(truth[device_id], raw[device_id])


def test_full_run_detects_removals_without_deleting_raw_rows(make_simulator, settings_for, database_url):
    sim, server = make_simulator(devices=300, subscriptions=80)
    settings = settings_for(server, sim, database_url)
    first = _sync(settings, database_url, mode="full")

    gone = sim.mutate(remove=5, resource="devices").removed
    gone_subs = sim.mutate(remove=2, resource="subscriptions").removed
    second = _sync(settings, database_url, mode="full")

    assert second.counts["devices"].removed == 5
    assert second.counts["subscriptions"].removed == 2
    raw = _raw_rows(database_url, "devices")
    assert len(raw) == 300, "raw keeps the removed devices"
    removed_marked = {i for i, r in raw.items() if r["_glp_synced_at"] < second.started_at}
    assert removed_marked == set(gone)
    assert {
        i
        for i, r in _raw_rows(database_url, "subscriptions").items()
        if r["_glp_synced_at"] < second.started_at
    } == set(gone_subs)
    assert first.started_at < second.started_at

    third = _sync(settings, database_url, mode="full")
    assert third.counts["devices"].removed == 0, "a removal is counted once"


def test_failed_run_leaves_the_previous_data_intact(make_simulator, settings_for, database_url):
    sim, server = make_simulator(devices=300, subscriptions=60)
    settings = settings_for(server, sim, database_url, glp_max_attempts=2)
    _sync(settings, database_url, mode="full")
    before = _raw_rows(database_url, "devices")

    sim.mutate(update=50, remove=10, resource="devices")
    sim.faults.error_rate = 1.0
    with pytest.raises(SyncError):
        _sync(settings, database_url, mode="full")

    assert _raw_rows(database_url, "devices") == before
    statuses = [(r[0], r[2]) for r in _history(database_url)]
    assert statuses[-2:] == [("devices", "failed"), ("subscriptions", "failed")]
    assert _history(database_url)[-1][-1], "a failed run records its error"

    # the failed run's fetched pages must not leak into the next run either
    sim.faults.error_rate = 0.0
    report = _sync(settings, database_url, mode="full")
    assert report.counts["devices"].removed == 10
    assert len(_raw_rows(database_url, "devices")) == 300


def test_inventory_changing_under_paging_never_loads_a_partial_read(
    make_simulator, settings_for, database_url
):
    sim, server = make_simulator(devices=900, subscriptions=20, devices_max_limit=2000)
    settings = settings_for(
        server, sim, database_url, glp_devices_page_size=200, glp_max_reconcile_attempts=0
    )
    _sync(settings, database_url, mode="full")
    before = _raw_rows(database_url, "devices")

    sim.schedule_mutation(after_list_requests=2, resource="devices", add=7, remove=7)
    with pytest.raises(SyncError):
        _sync(settings, database_url, mode="full", resources=("devices",))
    assert _raw_rows(database_url, "devices") == before


def test_inventory_change_under_paging_is_reconciled(make_simulator, settings_for, database_url):
    sim, server = make_simulator(devices=900, subscriptions=20)
    settings = settings_for(
        server, sim, database_url, glp_devices_page_size=200, glp_max_reconcile_attempts=3
    )
    sim.schedule_mutation(after_list_requests=2, resource="devices", add=4, remove=3)

    report = _sync(settings, database_url, mode="full", resources=("devices",))

    truth = {d["id"] for d in sim.devices()}
    assert report.counts["devices"].fetched == len(truth) == 901
    assert report.counts["devices"].reconcile_passes >= 1
    raw = _raw_rows(database_url, "devices")
    current = {i for i, r in raw.items() if r["_glp_synced_at"] >= report.started_at}
    assert current == truth


def test_every_run_writes_sync_history(make_simulator, settings_for, database_url):
    sim, server = make_simulator(devices=100, subscriptions=30)
    settings = settings_for(server, sim, database_url)
    _sync(settings, database_url, mode="full", trigger="demo")
    rows = _history(database_url)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("devices", "full", "success"),
        ("subscriptions", "full", "success"),
    ]
    assert rows[0][3] == rows[0][7] == 100
    assert rows[1][3] == rows[1][7] == 30


def test_a_second_sync_of_the_same_database_waits_then_says_another_is_running(
    make_simulator, settings_for, database_url
):
    sim, server = make_simulator(devices=40, subscriptions=10)
    settings = settings_for(server, sim, database_url, glp_sync_lock_wait_seconds=0.3)
    with psycopg.connect(database_url, autocommit=True) as running:  # another sync holds the lock
        running.execute("select pg_advisory_lock(%s)", (SYNC_LOCK_KEY,))
        with pytest.raises(SyncBusyError, match="Another sync of this database is running"):
            _sync(settings, database_url, mode="full")
        with psycopg.connect(database_url) as conn:
            loaded = conn.execute("select to_regclass('greenlake_raw.devices')").fetchone()[0]
            assert loaded is None, "the refused run loaded nothing"
    with psycopg.connect(database_url) as conn:
        failed = conn.execute(
            "select resource, status, error_message from glp.sync_history order by resource"
        ).fetchall()
    assert [(r, s) for r, s, _ in failed] == [("devices", "failed"), ("subscriptions", "failed")]
    assert "Another sync" in failed[0][2], "the refused run is in the sync history with its reason"

    report = _sync(settings, database_url, mode="full")  # the other one has finished: this one runs
    assert report.counts["devices"].fetched == 40
