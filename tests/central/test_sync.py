"""Aruba Central syncs end to end: Central simulator over loopback HTTP → client → dlt → a real PostgreSQL,
in both modes; the Classic token chain kept in the database; failures that load nothing; no Aruba, no run."""

from __future__ import annotations

import random
from datetime import datetime

import psycopg
import pytest
from dlt.common.normalizers.naming.snake_case import NamingConvention
from typer.testing import CliRunner

from glp_pipeline.central import CentralNotConfiguredError, central_client
from glp_pipeline.central.sync import CENTRAL_SYNC_LOCK_KEY, run_central_sync
from glp_pipeline.cli import app
from glp_pipeline.settings import Settings, get_settings
from glp_pipeline.sync import SYNC_LOCK_KEY, SyncBusyError, SyncError

from .conftest import aruba_settings

snake = NamingConvention().normalize_identifier
ALL_CLIENT_STATUSES = "status in ('Connected', 'Failed', 'Connecting', 'Disconnected', 'Blocked')"
MEDIUM = {"seed": 7, "glp_devices": 300, "glp_subscriptions": 60, "central_only_devices": 20, "clients": 2000}


def _sync(settings: Settings, url: str, **kwargs):
    with central_client(settings, url=url) as client:
        return run_central_sync(settings, client, url=url, **kwargs)


def _rows(url: str, table: str, key: str) -> dict[str, dict]:
    with psycopg.connect(url) as conn:
        cur = conn.execute(f"select * from aruba_raw.{table}")
        cols = [d.name for d in cur.description]
        return {row[cols.index(key)]: dict(zip(cols, row, strict=True)) for row in cur.fetchall()}


def _assert_same(api_obj: dict, raw_row: dict) -> None:
    """Every field of the API object is in the raw row, equal (numbers as numbers, lists/objects as JSON;
    an empty string is NULL, as the CSV load stores it)."""
    for field, value in api_obj.items():
        column = snake(field)
        assert column in raw_row, f"field {field} has no raw column {column}"
        stored = raw_row[column]
        if value == "":
            assert stored is None, field
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(stored, str):
            assert float(stored) == value, field  # declared text: the number's text
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and stored is not None:
            assert float(stored) == float(value), field
        else:
            assert stored == value, field


def _history(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select resource, mode, status, fetched, inserted, updated, removed, total_reported, complete,"
            " error_message from glp.sync_history order by started_at, resource"
        ).fetchall()


def test_new_central_sync_loads_every_device_and_client(central, database_url, tmp_path) -> None:
    sim, server = central(**MEDIUM)
    settings = aruba_settings(
        tmp_path / "home", server, sim, "new", database_url, aruba_clients_filter=ALL_CLIENT_STATUSES
    )
    report = _sync(settings, database_url)

    assert report.central_mode == "new"
    for table, truth in (
        ("devices", sim.devices()),
        ("aps", sim.aps()),
        ("switches", sim.switches()),
        ("gateways", sim.gateways()),
        ("clients", sim.clients()),
    ):
        raw = _rows(database_url, table, "id")
        assert set(raw) == {r["id"] for r in truth}, table
        for obj in random.Random(table).sample(truth, min(25, len(truth))):
            _assert_same(obj, raw[obj["id"]])
    assert len(sim.clients()) == 2000
    devices, clients = report.counts["central_devices"], report.counts["central_clients"]
    assert (devices.fetched, devices.inserted, devices.total_reported) == (len(sim.devices()),) * 3
    assert (clients.fetched, clients.inserted, clients.total_reported) == (2000, 2000, 2000)
    assert devices.complete and clients.complete
    assert [(r[0], r[1], r[2]) for r in _history(database_url)] == [
        ("central_clients", "full", "success"),
        ("central_devices", "full", "success"),
    ]


def test_classic_sync_loads_every_device_and_client_and_keeps_the_token_chain(
    central, database_url, tmp_path
) -> None:
    sim, server = central(**MEDIUM)
    seed = sim.config.classic_refresh_token
    settings = aruba_settings(tmp_path / "home", server, sim, "classic", database_url)
    report = _sync(settings, database_url)

    assert report.central_mode == "classic"
    for table, key, truth in (
        ("classic_aps", "serial", sim.classic_aps()),
        ("classic_switches", "serial", sim.classic_switches()),
        ("classic_gateways", "serial", sim.classic_gateways()),
        ("classic_clients", "macaddr", sim.classic_clients()),
    ):
        raw = _rows(database_url, table, key)
        assert set(raw) == {r[key] for r in truth}, table
        for obj in random.Random(table).sample(truth, min(25, len(truth))):
            _assert_same(obj, raw[obj[key]])
    devices = len(sim.classic_aps()) + len(sim.classic_switches()) + len(sim.classic_gateways())
    assert report.counts["central_devices"].fetched == devices == len(sim.devices())
    assert report.counts["central_clients"].fetched == len(sim.classic_clients())

    with psycopg.connect(database_url) as conn:
        stored, rotations = conn.execute("select refresh_token, rotations from glp.central_tokens").fetchone()
        grants = conn.execute(
            "select count(*) from information_schema.role_table_grants"
            " where table_schema = 'glp' and table_name = 'central_tokens' and grantee = 'PUBLIC'"
        ).fetchone()[0]
    assert rotations == 1 and stored != seed and grants == 0
    assert not sim.refresh_tokens.is_valid(seed), "the server refuses the token it replaced"

    # The next run (a new client, the same now-dead token in the environment) starts from the stored pair.
    sim.expire_tokens()
    again = _sync(settings, database_url)
    assert again.counts["central_devices"].fetched == devices
    assert (again.counts["central_devices"].inserted, again.counts["central_devices"].removed) == (0, 0)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select rotations from glp.central_tokens").fetchone()[0] == 2
        history_text = str(conn.execute("select * from glp.sync_history").fetchall())
    assert seed not in history_text and stored not in history_text


def test_a_failed_sync_leaves_the_last_good_data(central, database_url, tmp_path) -> None:
    sim, server = central(**MEDIUM)
    settings = aruba_settings(tmp_path / "home", server, sim, "new", database_url)
    _sync(settings, database_url)
    before = {t: _rows(database_url, t, "id") for t in ("devices", "aps", "clients")}

    # Devices read fine, then clients are refused: nothing of this run may land, devices included.
    refused_filter = "status eq 'Connected' or status eq 'Failed'"
    broken = settings.model_copy(update={"aruba_clients_filter": refused_filter})
    with pytest.raises(SyncError, match="only 'and' may combine conditions"):
        _sync(broken, database_url)
    sim.faults.error_rate = 1.0
    sim.faults.error_statuses = (500,)
    with pytest.raises(SyncError, match="answered 500"):
        _sync(settings.model_copy(update={"glp_max_attempts": 2, "glp_breaker_failures": 50}), database_url)

    assert {t: _rows(database_url, t, "id") for t in ("devices", "aps", "clients")} == before
    statuses = [(r[0], r[2]) for r in _history(database_url)]
    assert statuses[2:] == [
        ("central_clients", "failed"),
        ("central_devices", "failed"),
        ("central_clients", "failed"),
        ("central_devices", "failed"),
    ]
    assert all(r[8] is False and r[6] == 0 for r in _history(database_url)[2:]), "no removals counted"


def test_retries_429_and_5xx_during_a_sync(central, database_url, tmp_path) -> None:
    sim, server = central(**MEDIUM)
    settings = aruba_settings(tmp_path / "home", server, sim, "new", database_url)
    sim.faults.rate_limit_burst = 2
    sim.faults.error_burst = 2
    report = _sync(settings, database_url)
    assert report.counts["central_devices"].fetched == len(sim.devices())
    assert {r.status for r in sim.request_log} >= {429, 503, 200}


def test_removals_and_changes_are_counted_without_deleting_rows(central, database_url, tmp_path) -> None:
    sim, server = central(**MEDIUM)
    settings = aruba_settings(tmp_path / "home", server, sim, "new", database_url)
    first = _sync(settings, database_url)
    unchanged = _sync(settings, database_url)
    counts = unchanged.counts["central_clients"]
    assert (counts.inserted, counts.updated, counts.removed) == (0, 0, 0)

    connected_only = settings.model_copy(update={"aruba_clients_filter": "status eq 'Connected'"})
    third = _sync(connected_only, database_url)
    failed = {c["id"] for c in sim.clients() if c["status"] == "Failed"}
    assert failed and third.counts["central_clients"].removed == len(failed)
    raw = _rows(database_url, "clients", "id")
    assert len(raw) == first.counts["central_clients"].fetched, "removed clients stay in raw"
    stale = {k for k, row in raw.items() if row["_glp_synced_at"] < third.started_at}
    assert stale == failed


def test_a_running_central_sync_blocks_another_but_not_greenlake(central, database_url, tmp_path) -> None:
    sim, server = central()
    home = tmp_path / "home"
    settings = aruba_settings(home, server, sim, "new", database_url, glp_sync_lock_wait_seconds=0)
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (SYNC_LOCK_KEY,))  # a GreenLake sync is running
        assert _sync(settings, database_url).counts["central_devices"].complete
        holder.execute("select pg_advisory_lock(%s)", (CENTRAL_SYNC_LOCK_KEY,))
        with pytest.raises(SyncBusyError, match="glp sync --central"):
            _sync(settings, database_url)


def test_without_aruba_settings_nothing_runs_and_nothing_fails(tmp_path, database_url) -> None:
    from glp_pipeline.defs.aruba import build_aruba_definitions

    settings = Settings(_env_file=None, glp_home=tmp_path / "home")
    assert not settings.has_aruba and settings.aruba_effective_mode is None
    definitions = build_aruba_definitions(settings)
    assert (definitions.assets, definitions.jobs, definitions.schedules) == ([], [], [])
    with pytest.raises(CentralNotConfiguredError, match="ARUBA_CLIENT_ID"):
        central_client(settings)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select to_regnamespace('aruba_raw')").fetchone()[0] is None


def test_the_mode_is_inferred_and_incomplete_settings_are_named(tmp_path) -> None:
    base = {"_env_file": None, "glp_home": tmp_path}
    classic = Settings(
        **base, aruba_classic_client_id="a", aruba_classic_client_secret="b", aruba_classic_refresh_token="c"
    )
    assert classic.aruba_effective_mode == "classic"
    assert classic.aruba_missing_settings() == ["ARUBA_CLASSIC_BASE_URL"]
    both = Settings(**base, aruba_client_id="x", aruba_client_secret="y", aruba_classic_client_id="a")
    assert both.aruba_effective_mode == "new" and both.aruba_missing_settings() == ["ARUBA_BASE_URL"]
    chosen = Settings(**base, aruba_mode="classic", aruba_client_id="x", aruba_client_secret="y")
    assert chosen.aruba_effective_mode == "classic"
    with pytest.raises(CentralNotConfiguredError, match="ARUBA_BASE_URL"):
        central_client(both)


# --- the CLI face ------------------------------------------------------------------------------------


def _glp(*args: str, env: dict[str, str]):
    get_settings.cache_clear()
    base = {"GLP_BACKOFF_INITIAL_SECONDS": "0.01", "GLP_BACKOFF_MAX_SECONDS": "0.02", "ARUBA_PACING": "false"}
    return CliRunner().invoke(app, list(args), env=base | env)


def test_glp_sync_central_prints_counts(central, database_url, glp_home) -> None:
    sim, server = central(**MEDIUM)
    env = {
        "GLP_HOME": str(glp_home),
        "DATABASE_URL": database_url,
        "ARUBA_BASE_URL": server.base_url,
        "ARUBA_TOKEN_URL": f"{server.base_url}/as/token.oauth2",
        "ARUBA_CLIENT_ID": sim.config.client_id,
        "ARUBA_CLIENT_SECRET": sim.config.client_secret,
    }
    result = _glp("sync", "--central", "--devices", env=env)
    assert result.exit_code == 0, result.output
    assert "Aruba Central (new) sync" in result.output and "devices" in result.output
    assert str(len(sim.devices())) in result.output and "clients" not in result.output
    assert [r[0] for r in _history(database_url)] == ["central_devices"]

    refused = _glp("sync", "--central", "--incremental", env=env)
    assert refused.exit_code == 2 and "full read" in refused.output


def test_glp_sync_central_without_aruba_says_what_to_set(glp_home) -> None:
    result = _glp("sync", "--central", env={"GLP_HOME": str(glp_home)})
    assert result.exit_code == 1
    assert "Aruba Central is not configured" in result.output
    assert "ARUBA_CLASSIC_REFRESH_TOKEN" in result.output
    wrong = _glp("sync", "--clients", env={"GLP_HOME": str(glp_home)})
    assert wrong.exit_code == 2 and "--central" in wrong.output


def test_sync_times_are_utc(central, database_url, tmp_path) -> None:
    sim, server = central()
    report = _sync(aruba_settings(tmp_path / "home", server, sim, "new", database_url), database_url)
    assert isinstance(report.started_at, datetime) and report.started_at.utcoffset().total_seconds() == 0
