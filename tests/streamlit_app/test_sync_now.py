"""The Sync page's "sync now": it launches the Dagster job on the running webserver (the one `glp demo`
serves), and the sync history links back to that Dagster run."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from glp_pipeline import queries as q
from glp_pipeline.settings import get_settings

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
RUN_STATUS = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status jobName tags { key value } } } }"


def _sync_page(monkeypatch, tmp_path, database_url: str, dagster_url: str) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("GLP_DAGSTER_URL", dagster_url)
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "glp-home"))
    get_settings.cache_clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("pages/sync.py").run()
    assert not at.exception
    return at


def _wait_for_run(dagster_url: str, run_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = httpx.post(
            f"{dagster_url}/graphql", json={"query": RUN_STATUS, "variables": {"id": run_id}}, timeout=30
        ).json()["data"]["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
        time.sleep(2)


@pytest.mark.timeout(480)
def test_sync_now_runs_the_dagster_job_and_links_to_it(served_demo, monkeypatch, tmp_path):
    dagster_url = f"http://127.0.0.1:{served_demo.port}"
    database_url = served_demo.glp("db", "url").stdout.strip()
    at = _sync_page(monkeypatch, tmp_path, database_url, dagster_url)
    before = len(at.dataframe[0].value)

    at.radio(key="sync_mode").set_value("incremental")
    at.button(key="sync_now").click().run()
    assert not at.exception and not at.error
    message = at.success[0].value
    link = message.split("](")[1].split(")")[0]
    run_id = link.rsplit("/", 1)[1]
    assert link == f"{dagster_url}/runs/{run_id}"

    run = _wait_for_run(dagster_url, run_id)
    assert run["status"] == "SUCCESS", run
    assert run["jobName"] == "sync_incremental"
    assert {"key": "glp/trigger", "value": "dashboard"} in run["tags"]

    recorded = [r for r in q.sync_status(database_url, 50) if r["dagster_run_id"] == run_id]
    assert {r["resource"] for r in recorded} == {"devices", "subscriptions"}
    assert {r["sync_status"] for r in recorded} == {"success"}
    assert {r["sync_mode"] for r in recorded} == {"incremental"}

    at = _sync_page(monkeypatch, tmp_path, database_url, dagster_url)  # a fresh visit shows the run
    table = at.dataframe[0].value
    assert len(table) == before + 2
    assert link in set(table["dagster_run"])


def test_sync_now_without_a_dagster_webserver_says_how_to_start_one(monkeypatch, tmp_path, database_url):
    at = _sync_page(monkeypatch, tmp_path, database_url, "http://127.0.0.1:9")
    at.button(key="sync_now").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("did not answer" in e and "glp demo" in e and "GLP_DAGSTER_URL" in e for e in errors), errors
    assert not at.success
