"""`glp assign` and friends as a user runs them: dry run, confirmation, bad files, a crash and its resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from glp_pipeline.cli import app
from glp_pipeline.settings import get_settings

from .test_apply import SIMULATOR, _scenario, _state

WRITES = ("PATCH", "POST")


@pytest.fixture
def db(synced_database):
    """A workspace of its own, for a test that writes to it."""
    return synced_database(**SIMULATOR)


@pytest.fixture(scope="module")
def unchanged_db(synced_database):
    """One workspace for the tests that must not write (each asserts it did not)."""
    return synced_database(**SIMULATOR)


def _env(db) -> dict[str, str]:
    settings = db.settings
    return {
        "DATABASE_URL": db.url,
        "GLP_HOME": str(settings.glp_home),
        "GLP_BASE_URL": settings.glp_base_url,
        "GLP_TOKEN_URL": settings.glp_token_url,
        "GLP_CLIENT_ID": settings.glp_client_id or "",
        "GLP_CLIENT_SECRET": settings.glp_client_secret.get_secret_value()
        if settings.glp_client_secret
        else "",
        "GLP_BACKOFF_INITIAL_SECONDS": "0.01",
        "GLP_BACKOFF_MAX_SECONDS": "0.05",
        "COLUMNS": "200",
    }


def _glp(db, *args: str, input: str | None = None):
    get_settings.cache_clear()
    return CliRunner().invoke(app, list(args), env=_env(db), input=input)


def _writes(sim) -> int:
    return sum(1 for r in sim.request_log if r.method in WRITES and "/devices/" in r.path)


def test_dry_run_shows_the_plan_and_writes_nothing(unchanged_db, tmp_path):
    data, _ = _scenario(unchanged_db)
    path = tmp_path / "assign.csv"
    path.write_bytes(data)
    before = _state(unchanged_db.sim)
    result = _glp(unchanged_db, "assign", str(path), "--dry-run", "--report", str(tmp_path / "plan.csv"))
    assert result.exit_code == 0, result.output
    assert "5 row(s): 1 add, 2 application, 1 subscription, 1 tags, 1 archive" in result.output
    assert "Dry run: nothing was written." in result.output
    assert _writes(unchanged_db.sim) == 0 and _state(unchanged_db.sim) == before
    assert (tmp_path / "plan.csv").read_text().count("planned") == 6


def test_declining_the_confirmation_writes_nothing(unchanged_db, tmp_path):
    data, _ = _scenario(unchanged_db)
    (tmp_path / "assign.csv").write_bytes(data)
    result = _glp(unchanged_db, "assign", str(tmp_path / "assign.csv"), input="n\n")
    assert result.exit_code == 1
    assert "Apply 6 change(s) to GreenLake?" in result.output and "Nothing was written." in result.output
    assert _writes(unchanged_db.sim) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"Name,Region\nx,us-west\n", "no 'Serial Number' column"),
        (b"Serial Number,MAC Address\nAB12345,not-a-mac\nAB12345,\n", "2 error(s): nothing is applied"),
        (b"Serial Number,Subscription Key\nNOSUCHSERIAL1,NOSUCHKEY\n", "NOSUCHKEY is not in the workspace"),
    ],
)
def test_a_bad_file_is_a_clear_message_and_zero_writes(unchanged_db, tmp_path, content, message):
    (tmp_path / "bad.csv").write_bytes(content)
    result = _glp(unchanged_db, "assign", str(tmp_path / "bad.csv"), "--yes")
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert _writes(unchanged_db.sim) == 0


def test_a_run_killed_mid_way_is_resumed_from_the_journal(db, tmp_path):
    """The process dies (SIGKILL) while GreenLake is working on its writes; `assign-resume` finishes."""
    db.sim.config.async_polls_to_finish = 6  # slow operations: the run is mid-way for seconds
    data, expected = _scenario(db)
    (tmp_path / "assign.csv").write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLP_", "DATABASE_URL"))} | _env(db)
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "glp_pipeline.cli", "assign", str(tmp_path / "assign.csv"), "--yes"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        with psycopg.connect(db.url, autocommit=True) as conn:
            while True:  # until GreenLake has accepted some writes and others are still to come
                assert proc.poll() is None, "the run ended before it could be interrupted"
                assert time.monotonic() < deadline
                try:
                    statuses = [r[0] for r in conn.execute("select status from glp.assignment_operations")]
                except psycopg.errors.UndefinedTable:
                    statuses = []
                if "submitted" in statuses and "pending" in statuses:
                    break
                time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    result = _glp(db, "assign-runs")
    assert "running" in result.output, "the killed run is still open in the journal"
    with psycopg.connect(db.url) as conn:
        run_id = conn.execute("select run_id from glp.assignment_runs").fetchone()[0]

    result = _glp(db, "assign-resume", str(run_id))
    assert result.exit_code == 0, result.output
    assert "Run finished: 6 succeeded, 0 failed or unknown, of 6." in result.output
    after = _state(db.sim)
    for serial, fields in expected.items():
        assert {k: after[serial][k] for k in fields} == fields, serial
    posts = [r for r in db.sim.request_log if r.method == "POST" and r.path.endswith("/devices")]
    assert len(posts) == 1, "the device add that was already accepted was not sent again"


def test_template_command_writes_a_workbook(unchanged_db, tmp_path):
    result = _glp(unchanged_db, "assign-template", str(tmp_path / "t.xlsx"))
    assert result.exit_code == 0
    assert Path(tmp_path / "t.xlsx").read_bytes()[:2] == b"PK"
