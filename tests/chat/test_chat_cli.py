"""`glp chat` end to end: the real SDK over HTTP on loopback to the fake model, the MCP tools on a real
PostgreSQL loaded from the simulator, the conversation stored and resumed."""

from __future__ import annotations

from collections import Counter

import pytest
from typer.testing import CliRunner

from glp_pipeline.cli import app
from glp_pipeline.settings import get_settings
from tests.chat import llm_server
from tests.chat.fake_llm import FakeLLM, Turn


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=150, subscriptions=40, seed=9)


@pytest.fixture
def glp(db, tmp_path):
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        get_settings.cache_clear()
        base = {"DATABASE_URL": db.url, "GLP_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
        return runner.invoke(app, ["chat", *args], env=base | (env or {}))

    return invoke


def test_a_question_is_answered_with_the_tools_and_the_conversation_resumes(glp, db):
    fake = FakeLLM(
        turns=[
            Turn("Counting.", [("run_query", {"sql": llm_server.BY_TYPE})]),
            llm_server.answer_by_type,
            Turn("Still the same."),
        ]
    )
    with llm_server.serve(fake) as env:
        first = glp("How many devices of each type?", env=env)
        assert first.exit_code == 0, first.output
        expected = Counter(d["deviceType"] for d in db.sim.devices() if not d.get("archived"))
        for device_type, n in expected.items():
            assert f"{device_type}={n}" in first.output
        assert "run_query" in first.output and "reporting.active_devices" in first.output, "SQL shown"

        listed = glp("--list", env=env)
        assert "How many devices of each type?" in listed.output
        conversation = next(line.split()[1] for line in listed.output.splitlines() if "How many" in line)
        again = glp("--conversation", conversation, "And now?", env=env)
        assert again.exit_code == 0, again.output
        assert "Still the same." in again.output
    resumed = fake.seen[-1]
    assert any("How many devices of each type?" in text for _, text in resumed.messages), "history sent"
    assert llm_server.ANTHROPIC_KEY not in first.output + again.output


def test_without_a_provider_it_says_what_to_set(glp):
    result = glp("How many devices?")
    assert result.exit_code == 1
    assert "ANTHROPIC_API_KEY" in result.output and "OPENAI_API_KEY" in result.output


def test_another_conversation_id_is_refused(glp):
    with llm_server.serve(FakeLLM()) as env:
        result = glp("--conversation", "00000000-0000-0000-0000-000000000000", "--show", env=env)
    assert result.exit_code == 1 and "glp chat --list" in result.output
