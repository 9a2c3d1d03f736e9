"""The chat agent end to end: the real SDKs (on a fake HTTP transport) drive the MCP server's real tools on a
real PostgreSQL loaded from the simulator; the answers are checked against the simulator's own data."""

from __future__ import annotations

import json
import logging
from collections import Counter

import pytest
from pydantic import SecretStr

from glp_pipeline.chat import (
    AgentDone,
    AgentError,
    ChatAgent,
    Message,
    ProviderNotConfigured,
    TextDelta,
    ToolCall,
    ToolCallFinished,
    ToolCallStarted,
    ToolRegistry,
    ToolResult,
    Usage,
    replayable,
)
from glp_pipeline.settings import Settings, get_settings
from tests.chat.fake_llm import USAGE_IN, USAGE_OUT, FakeLLM, Seen, Turn, words

ANTHROPIC_KEY = "sk-ant-test-0123456789-SECRET"
OPENAI_KEY = "sk-openai-test-9876543210-SECRET"
BY_TYPE = (
    "select device_type, count(*) as devices from marts.devices where not is_removed "
    "group by device_type order by device_type"
)
QUESTION = "How many devices are there, and of which types?"
LOOKING = "Let me look at the overview first."


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=150, subscriptions=40, seed=9)


@pytest.fixture(scope="module")
def tools(db) -> ToolRegistry:
    return ToolRegistry()  # lists the tools only; each call reads the database from the settings


@pytest.fixture(autouse=True)
def _database(db, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()


def _agent(fake: FakeLLM, tools: ToolRegistry, *, keys=("anthropic", "openai"), **values) -> ChatAgent:
    if "anthropic" in keys:
        values["anthropic_api_key"] = SecretStr(ANTHROPIC_KEY)
    if "openai" in keys:
        values["openai_api_key"] = SecretStr(OPENAI_KEY)
    settings = Settings(_env_file=None, glp_llm_max_retries=0, **values)
    return ChatAgent.from_settings(settings, tools=tools, http_client=fake.client())


def _by_type(sim) -> dict[str, int]:
    return dict(Counter(d["deviceType"] for d in sim.devices()))


def _answer_from_results(seen: Seen) -> Turn:
    """The scripted model's last step: an answer written from the tool results it was sent."""
    total = seen.result("inventory_overview")["devices"]["total"]
    rows = seen.result("run_query")["rows"]
    types = ", ".join(f"{r['device_type']} {r['devices']}" for r in rows)
    return Turn(f"There are {total} devices: {types}.\n\n```sql\n{BY_TYPE}\n```")


LOOP = [
    Turn(LOOKING, [("inventory_overview", {})]),
    Turn("", [("run_query", {"sql": BY_TYPE})]),
    _answer_from_results,
]


def _done(events) -> AgentDone:
    assert isinstance(events[-1], AgentDone) and sum(isinstance(e, AgentDone) for e in events) == 1
    return events[-1]


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_multi_step_tool_loop_answers_from_the_real_tool_results(db, tools, api):
    fake = FakeLLM(turns=list(LOOP))
    events = list(_agent(fake, tools, keys=(api,)).run([], QUESTION))
    done = _done(events)

    # The answer's numbers are the simulator's.
    by_type = _by_type(db.sim)
    total = len(db.sim.devices())
    types = ", ".join(f"{t} {n}" for t, n in sorted(by_type.items()))
    assert done.answer == f"{LOOKING}\n\nThere are {total} devices: {types}.\n\n```sql\n{BY_TYPE}\n```"
    assert (done.stopped, done.error, done.turns) == ("answered", None, 3)
    assert (done.provider, done.model) == (api, "claude-sonnet-5-5" if api == "anthropic" else "gpt-5.5")
    assert done.usage == Usage(3 * USAGE_IN, 3 * USAGE_OUT)

    # The tool results are the real ones, and the model was sent exactly those.
    overview, query = done.tool_calls
    assert (overview.name, overview.is_error, overview.sql) == ("inventory_overview", False, None)
    assert overview.result["devices"]["total"] == total
    assert (query.name, query.is_error, query.sql, query.arguments) == (
        "run_query",
        False,
        BY_TYPE,
        {"sql": BY_TYPE},
    )
    assert {r["device_type"]: r["devices"] for r in query.result["rows"]} == by_type
    last = fake.seen[-1]
    assert last.result("inventory_overview") == overview.result and last.result("run_query") == query.result

    # The events, in order: text, each tool call started then finished, text, the end.
    kinds = [type(e).__name__ for e in events]
    first_tool = kinds.index("ToolCallStarted")
    assert set(kinds[:first_tool]) == {"TextDelta"}
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    finished = [e.outcome for e in events if isinstance(e, ToolCallFinished)]
    assert [(s.name, s.sql) for s in started] == [("inventory_overview", None), ("run_query", BY_TYPE)]
    assert finished == [overview, query] and all(o.elapsed_ms > 0 for o in finished)
    assert kinds[first_tool : first_tool + 4] == ["ToolCallStarted", "ToolCallFinished"] * 2
    assert set(kinds[first_tool + 4 : -1]) == {"TextDelta"}

    # Every request offered the tools (not ask_database) with the system prompt and the schema.
    assert len(fake.seen) == 3 and {s.api for s in fake.seen} == {api} and all(s.stream for s in fake.seen)
    for seen in fake.seen:
        assert seen.tools == tools.names and "ask_database" not in seen.tools
        assert "GLP Sync" in seen.system and "reporting.device_summary" in seen.system
        assert "language the user writes in" in seen.system and "```sql" in seen.system
        assert "sync_status" in seen.system

    # What the store keeps: the turn as plain JSON, the user's message first.
    messages = json.loads(json.dumps(done.messages))
    assert [(m["role"], bool(m.get("tool_calls")), bool(m.get("tool_results"))) for m in messages] == [
        ("user", False, False),
        ("assistant", True, False),
        ("user", False, True),
        ("assistant", True, False),
        ("user", False, True),
        ("assistant", False, False),
    ]
    assert messages[0]["content"] == QUESTION and messages[-1]["content"].startswith(f"There are {total}")
    assert messages[2]["tool_results"][0]["tool_call_id"] == messages[1]["tool_calls"][0]["id"]


def test_deltas_arrive_in_order_and_join_to_the_answer(tools):
    final = "The workspace holds a modest fleet; the overview has the details."
    fake = FakeLLM(turns=[Turn(LOOKING, [("inventory_overview", {})]), Turn(final)])
    events = list(_agent(fake, tools).run([], "Describe the fleet"))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == [*words(LOOKING), "\n\n", *words(final)]
    assert "".join(deltas) == _done(events).answer == f"{LOOKING}\n\n{final}"
    # The first turn's words came before the tool ran, the second's after it finished.
    at = next(n for n, e in enumerate(events) if isinstance(e, ToolCallFinished))
    assert "".join(e.text for e in events[:at] if isinstance(e, TextDelta)) == LOOKING


@pytest.mark.parametrize("failure", [500, 529, "timeout", "stall"])
def test_anthropic_failing_hands_each_turn_to_openai(db, tools, failure, caplog):
    fake = FakeLLM(turns=list(LOOP), failures={"anthropic": failure})
    with caplog.at_level(logging.WARNING):
        done = _done(list(_agent(fake, tools).run([], QUESTION)))
    assert done.stopped == "answered" and done.provider == "openai" and done.model == "gpt-5.5"
    assert f"There are {len(db.sim.devices())} devices" in done.answer
    assert [s.api for s in fake.seen] == ["anthropic", "openai"] * 3, "Anthropic is asked first every turn"
    assert "Asking openai instead" in caplog.text and ANTHROPIC_KEY not in caplog.text


def test_the_turns_are_bounded_and_the_answer_says_so(tools):
    fake = FakeLLM(turns=[Turn("Checking again.", [("inventory_overview", {})])])  # never satisfied
    agent = _agent(fake, tools, glp_chat_max_turns=3)
    assert agent.max_turns == 3 and agent.max_tool_calls == 16
    done = _done(list(agent.run([], "Keep checking")))
    assert done.stopped == "max_turns" and done.turns == 3 and len(fake.seen) == 3
    assert len(done.tool_calls) == 2, "the last turn's call is not run"
    assert "I stopped here" in done.answer and "more than 3 steps" in done.answer
    assert done.answer.endswith("Ask a narrower question, or ask me to continue.")
    # The history stays well-formed: the unrun call is answered, the note is the last message.
    last_results, note = done.messages[-2], done.messages[-1]
    assert last_results["tool_results"][0]["is_error"] is True
    assert "Not run" in last_results["tool_results"][0]["content"]
    assert note == {"role": "assistant", "content": done.answer.split("\n\n")[-1]}


def test_the_tool_calls_are_bounded(tools):
    twice = Turn("", [("inventory_overview", {}), ("filter_values", {})])
    fake = FakeLLM(turns=[twice])
    done = _done(list(_agent(fake, tools, glp_chat_max_tool_calls=3).run([], "Everything, twice")))
    assert done.stopped == "max_tool_calls" and len(done.tool_calls) == 3 and len(fake.seen) == 3
    assert "more than 3 tool calls" in done.answer
    # The second turn ran one call and told the model the other was over the limit.
    second = fake.seen[1].tool_results
    assert [r["is_error"] for r in fake.seen[2].tool_results[len(second) :]] == [False, True]
    assert "limit of 3 tool calls" in fake.seen[2].tool_results[-1]["content"]


def test_a_tool_error_goes_back_to_the_model_which_recovers(db, tools):
    bad = "select colour from reporting.active_devices"
    count = "select count(*) as devices from marts.devices where not is_removed"

    def retry(seen: Seen) -> Turn:
        (error,) = seen.tool_results
        assert error["is_error"] and 'column "colour" does not exist' in error["content"]
        return Turn("That column does not exist; counting instead.", [("run_query", {"sql": count})])

    def answer(seen: Seen) -> Turn:
        return Turn(f"There are {seen.result('run_query')['rows'][0]['devices']} devices.")

    fake = FakeLLM(turns=[Turn("", [("run_query", {"sql": bad})]), retry, answer])
    events = list(_agent(fake, tools).run([], "How many devices, by colour?"))
    done = _done(events)
    failed, worked = done.tool_calls
    assert failed.is_error and failed.sql == bad and failed.result is None
    assert worked.is_error is False and worked.result["rows"] == [{"devices": len(db.sim.devices())}]
    assert done.stopped == "answered" and done.answer.endswith(f"There are {len(db.sim.devices())} devices.")
    assert [e.outcome.is_error for e in events if isinstance(e, ToolCallFinished)] == [True, False]


def test_no_provider_configured_says_what_to_set(tools):
    with pytest.raises(ProviderNotConfigured) as caught:
        ChatAgent.from_settings(Settings(_env_file=None), tools=tools)
    assert "ANTHROPIC_API_KEY" in str(caught.value) and "OPENAI_API_KEY" in str(caught.value)
    assert "GLP_OPENAI_BASE_URL" in str(caught.value)


def test_no_secret_reaches_any_event(tools, caplog):
    """Anthropic fails with a body that echoes both keys; OpenAI streams a word, then fails the same way."""
    echo = f"Overloaded (you sent {ANTHROPIC_KEY} and {OPENAI_KEY})"
    fake = FakeLLM(
        turns=[Turn(LOOKING)], failures={"anthropic": 529, "openai": "midstream"}, error_message=echo
    )
    with caplog.at_level(logging.DEBUG):
        events = list(_agent(fake, tools).run([], QUESTION))
    done = _done(events)
    errors = [e for e in events if isinstance(e, AgentError)]
    assert len(errors) == 1 and errors[0].provider == "openai"
    assert "OpenAI (gpt-5.5) failed while answering: Overloaded" in errors[0].message
    assert done.stopped == "error" and done.error == errors[0].message
    assert done.answer == words(LOOKING)[0], "what streamed stays shown"
    assert done.messages[-1] == {"role": "assistant", "content": words(LOOKING)[0]}
    shown = repr(events) + json.dumps(done.messages) + caplog.text
    assert ANTHROPIC_KEY not in shown and OPENAI_KEY not in shown and "[redacted]" in shown

    # Nor any request's content but the conversation: the keys travel only in the headers.
    fake = FakeLLM(turns=list(LOOP))
    events = list(_agent(fake, tools).run([], QUESTION))
    assert _done(events).stopped == "answered"
    assert ANTHROPIC_KEY not in repr(events) and all(
        ANTHROPIC_KEY not in json.dumps(s.body) for s in fake.seen
    )


def test_every_provider_down_is_an_error_event_then_the_end(tools):
    fake = FakeLLM(failures={"anthropic": 500, "openai": "timeout"})
    events = list(_agent(fake, tools).run([], QUESTION))
    assert [type(e) for e in events] == [AgentError, AgentDone]
    assert "Anthropic (claude-sonnet-5-5) answered HTTP 500" in events[0].message
    assert "OpenAI (gpt-5.5) timed out" in events[0].message
    assert events[1].answer == "" and events[1].messages == ({"role": "user", "content": QUESTION},)


def test_a_conversation_goes_on_from_its_stored_messages_with_recalled_memories(db, tools):
    fake = FakeLLM(turns=list(LOOP))
    agent = _agent(fake, tools, keys=("anthropic",))
    first = _done(list(agent.run([], QUESTION)))
    stored = json.loads(json.dumps(first.messages))  # as the store gives them back

    fake.turns, fake._turns = [Turn("Still the same: see above.")], 0
    memory = "The user looks after the access points in us-west."
    second = _done(list(agent.run(stored, "And now?", memories=[memory, "  Prefers   tables.  "])))
    assert second.stopped == "answered"
    seen = fake.seen[-1]
    assert (
        f"- {memory}\n- Prefers tables." in seen.system
        and "Recalled from earlier conversations" in seen.system
    )
    assert [role for role, _ in seen.messages] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert seen.messages[0][1] == QUESTION and seen.messages[-1][1] == "And now?"
    assert [c["name"] for c in seen.tool_calls] == ["inventory_overview", "run_query"]
    assert seen.result("inventory_overview")["devices"]["total"] == len(db.sim.devices())


def test_a_stored_history_cut_short_is_made_safe_to_send_again():
    calls = (ToolCall("t1", "inventory_overview", {}),)
    history = [
        {"role": "assistant", "content": "An orphan greeting."},
        Message("user", "First question"),
        Message("assistant", "Looking.", tool_calls=calls),  # its results were never stored
        {"role": "user", "content": "Second question"},
        Message("user", tool_results=(ToolResult("t9", "stray"),)),  # answers no call
        Message("assistant", "", tool_calls=(ToolCall("t2", "filter_values", {}),)),
        Message("user", tool_results=(ToolResult("t2", "x" * 5_000),)),
        {"role": "assistant", "content": "   "},
    ]
    assert replayable(history) == [
        Message("user", "First question"),
        Message("assistant", "Looking."),
        Message("user", "Second question"),
        Message("assistant", "", tool_calls=(ToolCall("t2", "filter_values", {}),)),
        Message("user", tool_results=(ToolResult("t2", "x" * 1_999 + "…"),)),
    ]


def test_an_empty_question_is_refused_at_once(tools):
    agent = ChatAgent(_agent(FakeLLM(), tools).provider, tools)
    with pytest.raises(ValueError, match="Ask a question"):
        agent.run([], "   ")
