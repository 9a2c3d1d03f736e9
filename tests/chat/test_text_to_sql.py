"""Questions answered with guarded SQL: provider (real SDK, fake HTTP) → SQL → `run_query` → real PostgreSQL
loaded from the simulator → the answer, checked against the simulator's own data."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict

import psycopg
import pytest
from pydantic import SecretStr

from glp_pipeline import queries as q
from glp_pipeline.chat import ProviderError, ask, extract_sql, provider_from_settings
from glp_pipeline.chat import text_to_sql as t2s
from glp_pipeline.chat.providers import ChatReply
from glp_pipeline.settings import Settings
from tests.chat.fake_llm import FakeLLM, fenced

ANTHROPIC_KEY = "sk-ant-test-0123456789-SECRET"
OPENAI_KEY = "sk-openai-test-9876543210-SECRET"
BY_TYPE = (
    "select device_type, count(*) as devices from marts.devices where not is_removed "
    "group by device_type order by device_type"
)


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=150, subscriptions=40, seed=9)


def _provider(fake: FakeLLM, **values):
    settings = Settings(
        _env_file=None,
        anthropic_api_key=SecretStr(ANTHROPIC_KEY),
        openai_api_key=SecretStr(OPENAI_KEY),
        glp_llm_max_retries=0,
        **values,
    )
    return provider_from_settings(settings, http_client=fake.client())


def _by_type(sim) -> dict[str, int]:
    return dict(Counter(d["deviceType"] for d in sim.devices()))


def _device_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from marts.devices").fetchone()[0]


def test_anthropic_writes_the_sql_and_the_answer_from_the_rows(db):
    fake = FakeLLM(sql=[fenced(BY_TYPE)])
    answer = ask(db.url, "How many devices of each type are there?", provider=_provider(fake))

    assert {r["device_type"]: r["devices"] for r in answer.rows} == _by_type(db.sim)
    assert answer.columns == ["device_type", "devices"] and answer.row_count == len(_by_type(db.sim))
    assert answer.sql == BY_TYPE and answer.truncated is False and answer.error is None
    assert (answer.answered_by, answer.model) == ("anthropic", "claude-sonnet-5-5")
    assert answer.answer.startswith(f"The result has {len(_by_type(db.sim))} rows")
    assert answer.attempts == [{"sql": BY_TYPE, "error": None, "answered_by": "anthropic"}]
    assert [s.kind for s in fake.seen] == ["sql", "answer"] and {s.api for s in fake.seen} == {"anthropic"}

    # The prompt: rules, the schema with dbt's descriptions, valid values, examples and the question.
    prompt = fake.requests(kind="sql")[0].messages[0][1]
    assert "reporting.device_summary (table): Live devices (not removed) counted per device type" in prompt
    assert "  serial_number " in prompt and "Question: How many devices of each type are there?" in prompt
    assert "device_type: " in prompt and "SWITCH" in prompt
    assert "LIMIT 100" in fake.requests(kind="sql")[0].system


@pytest.mark.parametrize("failure", [529, 500, "timeout"])
def test_anthropic_down_openai_answers(db, failure):
    fake = FakeLLM(sql=[fenced(BY_TYPE)], failures={"anthropic": failure})
    answer = ask(db.url, "Devices per type?", provider=_provider(fake))
    assert answer.answered_by == "openai" and answer.model == "gpt-5.5"
    assert {r["device_type"]: r["devices"] for r in answer.rows} == _by_type(db.sim)
    assert [s.api for s in fake.seen] == ["anthropic", "openai", "anthropic", "openai"]


@pytest.mark.parametrize("forbidden", ["delete from marts.devices", "select pg_sleep(100)"])
def test_a_forbidden_statement_is_refused_retried_once_and_reported(db, forbidden):
    before = _device_rows(db.url)
    fake = FakeLLM(sql=[fenced(forbidden)])  # the model insists
    answer = ask(db.url, "Remove all devices", provider=_provider(fake))

    assert answer.rows == [] and answer.row_count == 0 and answer.answer is None
    assert len(answer.attempts) == 2 and all(a["sql"] == forbidden for a in answer.attempts)
    refusal = answer.attempts[0]["error"]
    assert "cannot run here" in refusal or "is not allowed" in refusal
    assert answer.error.startswith("The model's SQL could not run (2 attempts)") and refusal in answer.error
    # The retry carried the refusal to the model; no answer was asked for.
    retry = fake.requests(kind="sql")[1]
    assert [role for role, _ in retry.messages] == ["user", "assistant", "user"]
    assert refusal in retry.messages[-1][1]
    assert [s.kind for s in fake.seen] == ["sql", "sql"]
    assert _device_rows(db.url) == before == len(db.sim.devices()), "zero writes"


def test_a_refusal_then_a_good_query_answers(db):
    fake = FakeLLM(sql=[fenced("select pg_sleep(100)"), fenced(BY_TYPE)])
    answer = ask(db.url, "Devices per type, slowly", provider=_provider(fake))
    assert answer.error is None and answer.sql == BY_TYPE
    assert {r["device_type"]: r["devices"] for r in answer.rows} == _by_type(db.sim)
    assert "pg_sleep" in answer.attempts[0]["error"] and answer.attempts[1]["error"] is None


def test_a_postgresql_error_gets_one_retry_with_its_text(db):
    fake = FakeLLM(sql=[fenced("select colour from reporting.active_devices"), fenced(BY_TYPE)])
    answer = ask(db.url, "Devices per type", provider=_provider(fake))
    assert 'column "colour" does not exist' in answer.attempts[0]["error"]
    assert 'column "colour" does not exist' in fake.requests(kind="sql")[1].messages[-1][1]
    assert answer.error is None and answer.row_count == len(_by_type(db.sim))


def test_a_reply_without_sql_is_retried(db):
    count = "select count(*) as n from marts.devices where not is_removed"
    fake = FakeLLM(sql=["I cannot help with that.", count])
    answer = ask(db.url, "How many devices?", provider=_provider(fake))
    no_sql = "The reply had no SQL query in it."
    assert answer.attempts[0] == {"sql": None, "error": no_sql, "answered_by": "anthropic"}
    assert answer.rows == [{"n": len(db.sim.devices())}]


def test_rows_are_capped_and_the_model_sees_at_most_fifty(db):
    fake = FakeLLM(sql=[fenced("select serial_number from marts.devices order by serial_number")])
    answer = ask(db.url, "All serial numbers", provider=_provider(fake), max_rows=120)
    assert answer.row_count == 120 and answer.truncated is True
    serials = sorted(d["serialNumber"] for d in db.sim.devices())
    assert answer.rows == [{"serial_number": s} for s in serials[:120]]
    prompt = fake.requests(kind="answer")[0].messages[0][1]
    assert "It returned 120 rows (the result was cut at the row cap" in prompt
    assert "The first 50 rows" in prompt
    assert answer.answer.startswith("The result has 50 rows")


def test_secrets_never_reach_results_or_errors(db):
    fake = FakeLLM(sql=[fenced(BY_TYPE)], failures={"anthropic": 529})
    answer = ask(db.url, "Devices per type?", provider=_provider(fake))
    text = json.dumps(asdict(answer), default=str)
    assert ANTHROPIC_KEY not in text and OPENAI_KEY not in text

    fake = FakeLLM(failures={"anthropic": 401, "openai": 401}, error_message=f"bad key {ANTHROPIC_KEY}")
    with pytest.raises(ProviderError) as caught:
        ask(db.url, "Devices per type?", provider=_provider(fake))
    assert ANTHROPIC_KEY not in str(caught.value) and OPENAI_KEY not in str(caught.value)


def test_a_database_that_is_down_raises_and_asks_no_model():
    fake = FakeLLM(sql=[fenced(BY_TYPE)])
    with pytest.raises(q.QueryError):
        ask("postgresql://glp:x@127.0.0.1:9/glp", "Devices per type?", provider=_provider(fake))
    assert fake.seen == []


def test_the_examples_in_the_prompt_pass_the_guard_and_run(db):
    examples = [extract_sql(block) for block in t2s.EXAMPLES.split("Q: ")[1:]]
    assert len(examples) == 3
    for sql in examples:
        q.run_query(db.url, sql)


def test_the_schema_fits_its_budget_with_dbt_descriptions(db):
    catalog = q.schema_catalog(db.url)
    full = t2s.describe_schema(catalog)
    assert len(full) <= t2s.SCHEMA_BUDGET
    assert "marts.devices (table)" in full and "  is_removed boolean" in full
    small = t2s.describe_schema(catalog, budget=4_000)
    assert "marts.devices (table)" in small and len(small) < len(full)


@pytest.mark.parametrize(
    ("reply", "sql"),
    [
        ("```sql\nselect 1\n```", "select 1"),
        ("Sure!\n\n```SQL\nselect 1;\n```\nThis counts.", "select 1;"),
        ("```\nselect 2\n```", "select 2"),
        ("```python\nprint(1)\n```\n```sql\nselect 3\n```", "select 3"),
        ("SELECT count(*) FROM reporting.active_devices;\n\nThis counts the devices.",
         "SELECT count(*) FROM reporting.active_devices;"),
        ("Here it is: select 4 as four", "select 4 as four"),
        ("with a as (select 1)\nselect * from a", "with a as (select 1)\nselect * from a"),
        ("<think>maybe select 0?</think>\nselect 5", "select 5"),
        ("delete from marts.devices", "delete from marts.devices"),
        ("```sql\nselect 6", "select 6"),
        ("I cannot answer that from these tables.", None),
        ("", None),
    ],
)  # fmt: skip
def test_extract_sql(reply, sql):
    assert extract_sql(reply) == sql


def test_final_answer_prefers_the_answer_writer():
    reply = ChatReply("```sql\nselect 1\n```", "anthropic", "claude")
    attempt = t2s.Attempt(reply, "select 1", error="boom")
    result = t2s.final_answer("q?", [attempt], None)
    assert result.answered_by == "anthropic" and result.error.endswith("The last error: boom")
