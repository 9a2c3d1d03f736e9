"""The Bulk assignment page through AppTest: upload, checks, plan, confirmation, apply, results, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from glp_pipeline.settings import get_settings
from tests.assign.test_apply import SIMULATOR, _scenario, _state

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"


@pytest.fixture
def db(synced_database):
    return synced_database(**SIMULATOR)


@pytest.fixture
def page(db, monkeypatch, tmp_path):
    s = db.settings
    for name, value in {
        "DATABASE_URL": db.url,
        "GLP_HOME": str(tmp_path / "home"),
        "GLP_BASE_URL": s.glp_base_url,
        "GLP_TOKEN_URL": s.glp_token_url,
        "GLP_CLIENT_ID": s.glp_client_id,
        "GLP_CLIENT_SECRET": s.glp_client_secret.get_secret_value(),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("pages/assign.py").run()
    assert not at.exception
    return at


def _table(at: AppTest, column: str):
    """The first table on the page with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _writes(sim) -> int:
    return sum(1 for r in sim.request_log if r.method in ("PATCH", "POST") and "/devices/" in r.path)


def test_upload_plan_confirm_apply_and_undo(page, db):
    data, expected = _scenario(db)
    before = _state(db.sim)
    page.file_uploader[0].upload("assign.csv", data, "text/csv").run()
    assert not page.exception and not page.error
    metrics = {m.label: m.value for m in page.metric}
    assert (metrics["Rows"], metrics["Changes"], metrics["Errors"]) == ("5", "6", "0")
    plan = _table(page, "to")
    assert sorted(plan["change"]) == sorted(
        ["add", "application", "application", "subscription", "tags", "archive"]
    )

    apply_button = page.button(key="assign_apply")
    assert apply_button.disabled, "nothing can be applied before the plan is confirmed"
    assert _writes(db.sim) == 0
    page.checkbox(key="assign_confirm").check().run()
    page.button(key="assign_apply").click().run()
    assert not page.exception, page.exception
    assert any("finished: 6 succeeded, 0 failed" in s.value for s in page.success), [
        s.value for s in page.success
    ]
    after = _state(db.sim)
    for serial, fields in expected.items():
        assert {k: after[serial][k] for k in fields} == fields
    outcomes = _table(page, "operation_id")
    assert set(outcomes["status"]) == {"succeeded"}
    assert len(_table(page, "requested_by")) == 1

    page.checkbox(key="assign_run_confirm").check().run()
    page.button(key="assign_run_action").click().run()
    assert not page.exception
    restored = _state(db.sim)
    assert {s: restored[s] for s in before} == before, "undo from the page restores the devices"
    assert len(_table(page, "requested_by")) == 2


def test_a_bad_file_shows_its_problem_and_offers_nothing_to_apply(page, db):
    page.file_uploader[0].upload("devices.csv", b"Name,Region\nx,us-west\n", "text/csv").run()
    assert not page.exception
    assert any("no 'Serial Number' column" in e.value for e in page.error)
    with pytest.raises(KeyError):
        page.button(key="assign_apply")
    page.file_uploader[0].upload("devices.csv", b"Serial Number,Archive\nAB12345,maybe\n", "text/csv").run()
    issues = _table(page, "severity")
    assert "yes or no" in " ".join(issues["message"])
    assert any("nothing will be written" in e.value.lower() for e in page.error)
    assert _writes(db.sim) == 0
