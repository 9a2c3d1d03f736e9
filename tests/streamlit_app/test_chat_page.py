"""The Chat page through AppTest: a question answered with the tools (over HTTP on loopback to the fake
model), the tool call and its SQL shown, the conversation listed, resumed, renamed and deleted; and the page
without a provider."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from glp_pipeline.settings import get_settings
from tests.chat import llm_server
from tests.chat.fake_llm import FakeLLM, Turn

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=150, subscriptions=40, seed=9)


def _open(db, monkeypatch, tmp_path, env: dict[str, str]) -> AppTest:
    for name, value in {"DATABASE_URL": db.url, "GLP_HOME": str(tmp_path / "home"), **env}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("pages/chat.py").run()
    assert not at.exception, at.exception
    return at


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_ask_see_the_sql_resume_rename_and_delete(db, monkeypatch, tmp_path):
    fake = FakeLLM(
        turns=[
            Turn("Counting.", [("run_query", {"sql": llm_server.BY_TYPE})]),
            llm_server.answer_by_type,
            Turn("Same as before."),
        ]
    )
    with llm_server.serve(fake) as env:
        at = _open(db, monkeypatch, tmp_path, env)
        at.chat_input[0].set_value("How many devices of each type?").run()
        assert not at.exception, at.exception
        expected = Counter(d["deviceType"] for d in db.sim.devices() if not d.get("archived"))
        text = _markdown(at)
        assert all(f"{t}={n}" in text for t, n in expected.items()), text
        assert "How many devices of each type?" in text
        assert any(llm_server.BY_TYPE in c.value for c in at.code), "the tool's SQL is shown"
        assert [e.label for e in at.expander if e.label.startswith("run_query")]
        titles = [b.label for b in at.sidebar.button if b.key and b.key.startswith("chat_open_")]
        assert titles == ["How many devices of each type?"]

        at.chat_input[0].set_value("And now?").run()  # the same conversation
        assert "Same as before." in _markdown(at)
        assert any("How many devices of each type?" in t for _, t in fake.seen[-1].messages)
        assert len([b for b in at.sidebar.button if b.key and b.key.startswith("chat_open_")]) == 1

        current = next(b for b in at.sidebar.button if b.key and b.key.startswith("chat_open_"))
        conversation_id = current.key.removeprefix("chat_open_")
        at.sidebar.text_input(key=f"chat_title_{conversation_id}").set_value("Device types").run()
        at.sidebar.button(key="chat_rename").click().run()
        assert [b.label for b in at.sidebar.button if b.key.startswith("chat_open_")] == ["Device types"]

        at.sidebar.checkbox(key="chat_delete_confirm").check().run()
        at.sidebar.button(key="chat_delete").click().run()
        assert not at.exception, at.exception
        assert not [b for b in at.sidebar.button if b.key and b.key.startswith("chat_open_")]
    assert llm_server.ANTHROPIC_KEY not in _markdown(at)


def test_without_a_provider_the_page_says_how_to_configure_one(db, monkeypatch, tmp_path):
    at = _open(db, monkeypatch, tmp_path, {})
    assert any("ANTHROPIC_API_KEY" in i.value for i in at.info)
    assert not at.chat_input
