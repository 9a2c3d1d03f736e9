"""The `glp` command line, run as a user would, against the simulator and a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from glp_pipeline.cli import app
from glp_pipeline.database import reader_database_url
from glp_pipeline.settings import Settings, get_settings
from glp_pipeline.sources.greenlake import parse_api_time


@pytest.fixture
def glp(glp_home: Path):
    """Run `glp ...` with an environment like a user's shell (plus what the test adds)."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        get_settings.cache_clear()
        base = {
            "GLP_HOME": str(glp_home),
            "GLP_BACKOFF_INITIAL_SECONDS": "0.01",
            "GLP_BACKOFF_MAX_SECONDS": "0.02",
            "GLP_MAX_ATTEMPTS": "2",
        }
        return runner.invoke(app, list(args), env=base | (env or {}))

    return invoke


def _greenlake_env(sim, server, **extra) -> dict[str, str]:
    return {
        "GLP_BASE_URL": server.base_url,
        "GLP_TOKEN_URL": server.token_url,
        "GLP_CLIENT_ID": sim.config.client_id,
        "GLP_CLIENT_SECRET": sim.config.client_secret,
        **extra,
    }


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("select nspname from pg_namespace")}


def test_sync_loads_the_database_and_prints_counts(glp, make_simulator, database_url):
    sim, server = make_simulator(devices=250, subscriptions=60)
    result = glp("sync", "--full", env=_greenlake_env(sim, server, DATABASE_URL=database_url))
    assert result.exit_code == 0, result.output
    assert "250" in result.output and "60" in result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select count(*) from greenlake_raw.devices").fetchone()[0] == 250
        assert conn.execute("select count(*) from greenlake_raw.subscriptions").fetchone()[0] == 60


def test_sync_one_resource(glp, make_simulator, database_url):
    sim, server = make_simulator(devices=50, subscriptions=40)
    result = glp("sync", "--subscriptions", env=_greenlake_env(sim, server, DATABASE_URL=database_url))
    assert result.exit_code == 0, result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select to_regclass('greenlake_raw.devices')").fetchone()[0] is None
        assert conn.execute("select count(*) from greenlake_raw.subscriptions").fetchone()[0] == 40


def test_bad_credentials_one_line_nonzero_exit_nothing_written(glp, make_simulator, database_url):
    sim, server = make_simulator(devices=50, subscriptions=10)
    env = _greenlake_env(sim, server, DATABASE_URL=database_url, GLP_CLIENT_SECRET="wrong-secret-value")
    result = glp("sync", "--full", env=env)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "GLP_CLIENT_SECRET" in lines[0], result.output
    assert "wrong-secret-value" not in result.output
    assert "greenlake_raw" not in _schemas(database_url)


def test_missing_credentials_points_to_demo(glp):
    result = glp("sync")
    assert result.exit_code == 1
    assert "GLP_CLIENT_ID" in result.output and "glp demo" in result.output


def test_unreachable_api_is_one_clear_line(glp, make_simulator, database_url):
    sim, server = make_simulator(devices=5, subscriptions=5)
    env = _greenlake_env(sim, server, DATABASE_URL=database_url, GLP_BASE_URL="http://127.0.0.1:9")
    result = glp("sync", "--full", env=env)
    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
    assert "greenlake_raw" not in _schemas(database_url)


def test_unreachable_database_is_one_clear_line(glp, make_simulator):
    sim, server = make_simulator(devices=5, subscriptions=5)
    env = _greenlake_env(sim, server, DATABASE_URL="postgresql://glp:hunter2-secret@127.0.0.1:9/glp")
    result = glp("sync", env=env)
    assert result.exit_code == 1
    assert "DATABASE_URL" in result.output
    assert "hunter2-secret" not in result.output


def test_json_only_writes_files_and_no_database(glp, make_simulator, tmp_path, glp_home):
    sim, server = make_simulator(devices=120, subscriptions=35)
    out = tmp_path / "export"
    result = glp("sync", "--json-only", "--output-dir", str(out), env=_greenlake_env(sim, server))
    assert result.exit_code == 0, result.output
    devices = json.loads((out / "devices.json").read_text())
    subscriptions = json.loads((out / "subscriptions.json").read_text())
    assert devices == sim.devices()
    assert sorted(s["id"] for s in subscriptions) == sorted(s["id"] for s in sim.subscriptions())
    assert not (glp_home / "pgdata").exists(), "--json-only must not start a database"


def test_json_only_with_a_bad_filter_writes_nothing(glp, make_simulator, tmp_path):
    sim, server = make_simulator(devices=20, subscriptions=5)
    out = tmp_path / "export"
    result = glp(
        "sync",
        "--json-only",
        "--devices",
        "--output-dir",
        str(out),
        "--filter",
        "serialNumber eqq 'X'",
        env=_greenlake_env(sim, server),
    )
    assert result.exit_code == 1
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1, result.output
    assert "filter" in result.output.lower()
    assert not list(out.glob("*.json")) if out.exists() else True


def test_json_only_with_a_filter(glp, make_simulator, tmp_path):
    sim, server = make_simulator(devices=200, subscriptions=5)
    out = tmp_path / "export"
    result = glp(
        "sync",
        "--json-only",
        "--devices",
        "--output-dir",
        str(out),
        "--filter",
        "deviceType eq 'SWITCH'",
        env=_greenlake_env(sim, server),
    )
    assert result.exit_code == 0, result.output
    exported = json.loads((out / "devices.json").read_text())
    expected = [d["id"] for d in sim.devices() if d["deviceType"] == "SWITCH"]
    assert expected and sorted(d["id"] for d in exported) == sorted(expected)


def test_backups_written_beside_a_database_sync(glp, make_simulator, database_url, tmp_path):
    sim, server = make_simulator(devices=80, subscriptions=25)
    dev_file, sub_file = tmp_path / "b" / "devices.json", tmp_path / "b" / "subs.json"
    result = glp(
        "sync",
        "--full",
        "--backup",
        str(dev_file),
        "--subscription-backup",
        str(sub_file),
        env=_greenlake_env(sim, server, DATABASE_URL=database_url),
    )
    assert result.exit_code == 0, result.output
    assert {d["id"] for d in json.loads(dev_file.read_text())} == {d["id"] for d in sim.devices()}
    assert len(json.loads(sub_file.read_text())) == 25


def test_expiring_lists_subscriptions_ending_within_n_days(glp, make_simulator):
    sim, server = make_simulator(devices=10, subscriptions=150)
    result = glp("expiring", "--days", "60", env=_greenlake_env(sim, server, COLUMNS="250"))
    assert result.exit_code == 0, result.output
    now = datetime.now(UTC)
    expected = {
        s["key"]
        for s in sim.subscriptions()
        if (end := parse_api_time(s["endTime"])) is not None and now <= end <= now + timedelta(days=60)
    }
    assert expected, "the simulator should have subscriptions ending within 60 days"
    for key in expected:
        assert key in result.output
    later = [s["key"] for s in sim.subscriptions() if parse_api_time(s["endTime"]) > now + timedelta(days=61)]
    assert not [k for k in later if k in result.output]


def test_demo_runs_on_the_embedded_postgres_and_the_simulator(glp, glp_home):
    result = glp("demo", "--devices", "300", "--subscriptions", "60", "--no-serve", env={"COLUMNS": "200"})
    try:
        assert result.exit_code == 0, result.output
        assert "simulator" in result.output
        assert "Aruba Central:" in result.output and "devices in both" in result.output
        assert "300" in result.output
        status = glp("db", "status")
        assert "running" in status.output and "not running" not in status.output
        url = glp("db", "url").output.strip()
        with psycopg.connect(url) as conn:
            assert conn.execute("select count(*) from greenlake_raw.devices").fetchone()[0] == 300
            assert (
                conn.execute("select sum(total_devices) from reporting.device_summary").fetchone()[0] == 300
            )
            resources = conn.execute(
                "select resource from glp.sync_history where trigger = 'dagster' order by 1"
            ).fetchall()
            expected = ["central_clients", "central_devices", "devices", "subscriptions"]
            assert [r[0] for r in resources] == expected
            # The Central simulator (same seed) served beside GreenLake's: the cross view is built.
            both = conn.execute(
                "select count(*) from reporting.device_platform_presence where presence = 'both'"
            ).fetchone()[0]
            assert 0 < both < 300
        # The read-only surfaces log in as the reader role itself on the embedded server: no way back.
        with psycopg.connect(reader_database_url(Settings(_env_file=None, glp_home=glp_home))) as conn:
            conn.execute("select set_config('role', 'none', false)")
            users = conn.execute("select session_user, current_user").fetchone()
            assert users == ("glp_reader", "glp_reader")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select count(*) from glp.sync_history")
    finally:
        stopped = glp("db", "stop")
    assert "stopped" in stopped.output
    assert "not running" in glp("db", "status").output


def test_transform_before_any_sync_says_what_to_do(glp, database_url):
    result = glp("transform", env={"DATABASE_URL": database_url})
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "glp sync" in lines[0], result.output


def test_transform_and_docs_after_a_sync(glp, make_simulator, database_url, glp_home):
    sim, server = make_simulator(devices=120, subscriptions=40)
    env = _greenlake_env(sim, server, DATABASE_URL=database_url)
    assert glp("sync", "--full", env=env).exit_code == 0

    result = glp("transform", env=env)
    assert result.exit_code == 0, result.output
    assert "dbt build:" in result.output and "error" not in result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select count(*) from marts.devices").fetchone()[0] == 120

    docs = glp("docs", "--no-serve", env=env)
    assert docs.exit_code == 0, docs.output
    catalog = json.loads((glp_home / "dbt" / "target" / "catalog.json").read_text())
    devices = catalog["nodes"]["model.glp_sync.devices"]
    assert devices["metadata"]["schema"] == "marts"
    assert devices["columns"]["serial_number"]["comment"]
    assert (glp_home / "dbt" / "target" / "index.html").exists()


def test_transform_after_an_unchanged_full_sync_rewrites_nothing_and_full_refresh_rebuilds(
    glp, make_simulator, database_url
):
    sim, server = make_simulator(devices=60, subscriptions=20)
    env = _greenlake_env(sim, server, DATABASE_URL=database_url)

    def row_versions() -> dict[str, str]:
        with psycopg.connect(database_url) as conn:
            return dict(conn.execute("select device_id::text, xmin::text from marts.devices").fetchall())

    assert glp("sync", "--full", env=env).exit_code == 0
    assert glp("transform", env=env).exit_code == 0
    before = row_versions()
    assert glp("sync", "--full", env=env).exit_code == 0  # reads every device again, none changed
    assert glp("transform", env=env).exit_code == 0
    assert row_versions() == before, "unchanged devices are not rewritten"

    result = glp("transform", "--full-refresh", env=env)
    assert result.exit_code == 0, result.output
    rebuilt = row_versions()
    assert set(rebuilt) == set(before)
    assert all(rebuilt[i] != before[i] for i in before), "--full-refresh rebuilds every row"


def test_docs_site_is_served_on_its_port(glp, make_simulator, database_url, glp_home):
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    sim, server = make_simulator(devices=30, subscriptions=10)
    env = _greenlake_env(sim, server, DATABASE_URL=database_url)
    assert glp("sync", "--full", env=env).exit_code == 0
    assert glp("transform", env=env).exit_code == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "glp_pipeline.cli", "docs", "--port", str(port)],
        env=os.environ | env | {"GLP_HOME": str(glp_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/index.html", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "glp docs exited"
                assert time.monotonic() < deadline, "the docs site never answered"
                time.sleep(0.5)
        assert response.status_code == 200
        assert "dbt" in response.text.lower()
        catalog = httpx.get(f"http://127.0.0.1:{port}/catalog.json", timeout=5).json()
        assert "model.glp_sync.devices" in catalog["nodes"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.stops_served_demo
def test_demo_serves_dagster_and_the_dashboard_and_stops_everything_on_ctrl_c(served_demo):
    import httpx

    port, dashboard_port = served_demo.port, served_demo.dashboard_port
    try:
        # served_demo waited until the Dagster UI and then the dashboard answered
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        query = "{ assetNodes { assetKey { path } } }"
        graph = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=30).json()
        keys = {"/".join(node["assetKey"]["path"]) for node in graph["data"]["assetNodes"]}
        assert {"greenlake/devices", "marts/devices", "reporting/devices_expiring_soon"} <= keys
        health = httpx.get(f"http://127.0.0.1:{dashboard_port}/_stcore/health", timeout=5)
        assert health.status_code == 200 and health.text == "ok"
    finally:
        output = served_demo.interrupt()
    assert served_demo.proc.returncode in (0, 130), output
    assert "reporting.device_summary" in output, "the first materialization ran before the UI started"
    for stopped in (
        f"http://127.0.0.1:{port}/server_info",
        f"http://127.0.0.1:{dashboard_port}/_stcore/health",
    ):
        with pytest.raises(httpx.TransportError):
            httpx.get(stopped, timeout=2)
    status = served_demo.glp("db", "status")
    assert "not running" in status.stdout, "the demo stops the embedded PostgreSQL it started"
