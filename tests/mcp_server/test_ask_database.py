"""`ask_database` through the SDK's in-process client on a real PostgreSQL loaded from the simulator: MCP
sampling (both protocol generations), the configured providers through their real SDKs on a fake HTTP
transport, the guard, and the tool error when there is no model at all."""

from __future__ import annotations

import json
import os
from collections import Counter

import psycopg
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CreateMessageRequestParams, CreateMessageResult, TextContent

from glp_pipeline.chat import provider_from_settings
from glp_pipeline.settings import get_settings
from mcp_server.server import build_server
from mcp_server.tools import ask
from tests.chat.fake_llm import FakeLLM, fenced

pytestmark = pytest.mark.anyio

ANTHROPIC_KEY = "sk-ant-test-0123456789-SECRET"
OPENAI_KEY = "sk-openai-test-9876543210-SECRET"
BY_TYPE = (
    "select device_type, count(*) as devices from marts.devices where not is_removed "
    "group by device_type order by device_type"
)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=150, subscriptions=40, seed=9)


@pytest.fixture
def env(db, monkeypatch, tmp_path):
    """The database, and no LLM settings but those a test sets (tests/conftest.py clears only GLP_*)."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "OPENAI_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GLP_LLM_MAX_RETRIES", "0")
    get_settings.cache_clear()
    return monkeypatch


@pytest.fixture
def keys(env):
    env.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    env.setenv("OPENAI_API_KEY", OPENAI_KEY)
    get_settings.cache_clear()


def _server(fake: FakeLLM) -> MCPServer:
    """A server with `ask_database` whose providers' SDKs talk to the fake HTTP transport."""
    server = MCPServer("ask-test")
    ask.register(
        server, make_provider=lambda settings: provider_from_settings(settings, http_client=fake.client())
    )
    return server


def _sampling(fake: FakeLLM, asked: list[CreateMessageRequestParams]):
    """The client's side of MCP sampling: the client's own model, scripted by the same fake."""

    async def sample(context, params: CreateMessageRequestParams) -> CreateMessageResult:
        asked.append(params)
        messages = [(m.role, m.content.text) for m in params.messages]
        text = fake.reply(params.system_prompt or "", messages)
        return CreateMessageResult(
            role="assistant", content=TextContent(type="text", text=text), model="client-llm"
        )

    return sample


def _by_type(sim) -> dict[str, int]:
    return dict(Counter(d["deviceType"] for d in sim.devices()))


async def _ask(server: MCPServer, question: str, client_options: dict | None = None, **arguments):
    async with Client(server, **(client_options or {})) as client:
        return await client.call_tool("ask_database", {"question": question, **arguments})


async def test_the_tool_is_listed_read_only_and_open_world(env):
    async with Client(build_server()) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "ask_database")
    assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False
    assert tool.annotations.open_world_hint is True, "the provider path sends data to a third-party API"
    assert set(tool.input_schema["properties"]) == {"question", "max_rows"}
    assert {"question", "sql", "rows", "answer", "answered_by"} <= set(tool.output_schema["properties"])


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 input-required rounds; 2025-11-25 requests
async def test_sampling_is_used_when_the_client_offers_it_even_with_a_provider_configured(db, keys, mode):
    fake, asked = FakeLLM(sql=[fenced(BY_TYPE)]), []
    result = await _ask(
        _server(fake),
        "How many devices of each type?",
        {"sampling_callback": _sampling(fake, asked), "mode": mode},
    )
    assert result.is_error is False, result.content
    out = result.structured_content
    assert (out["answered_by"], out["model"]) == ("sampling", "client-llm")
    assert {r["device_type"]: r["devices"] for r in out["rows"]} == _by_type(db.sim)
    assert out["sql"] == BY_TYPE and out["error"] is None
    assert out["answer"].startswith(f"The result has {len(_by_type(db.sim))} rows")
    assert fake.seen == [], "no provider was called"
    assert len(asked) == 2 and "Question: How many devices of each type?" in asked[0].messages[0].content.text
    assert "reporting.device_summary" in asked[0].messages[0].content.text


async def test_sampling_retries_a_refused_query_once_and_reports_a_persistent_refusal(db, env):
    fake, asked = FakeLLM(sql=[fenced("delete from marts.devices")]), []
    result = await _ask(_server(fake), "Delete every device", {"sampling_callback": _sampling(fake, asked)})
    out = result.structured_content
    assert result.is_error is False and out["answered_by"] == "sampling"
    assert [a["sql"] for a in out["attempts"]] == ["delete from marts.devices"] * 2
    assert "A DELETE statement cannot run here" in out["error"] and "run_query" in out["error"]
    assert out["rows"] == [] and out["answer"] is None
    assert len(asked) == 2 and "A DELETE statement cannot run here" in asked[1].messages[-1].content.text
    with psycopg.connect(db.url) as conn:
        assert conn.execute("select count(*) from marts.devices").fetchone()[0] == len(db.sim.devices())


async def test_without_sampling_the_configured_provider_answers(db, keys):
    fake = FakeLLM(sql=[fenced(BY_TYPE)])
    result = await _ask(_server(fake), "Devices per type?")
    out = result.structured_content
    assert (out["answered_by"], out["model"]) == ("anthropic", "claude-sonnet-5-5")
    assert {r["device_type"]: r["devices"] for r in out["rows"]} == _by_type(db.sim)
    assert [s.api for s in fake.seen] == ["anthropic", "anthropic"]


async def test_called_in_process_without_a_client_the_provider_answers(db, keys):
    """As the chat agent's one tool registry may call it: `MCPServer.call_tool`, no MCP client at all."""
    fake = FakeLLM(sql=[fenced(BY_TYPE)])
    result = await _server(fake).call_tool("ask_database", {"question": "Devices per type?"})
    assert result.is_error is False and result.structured_content["answered_by"] == "anthropic"


@pytest.mark.parametrize("failure", [529, 500, "timeout"])
async def test_anthropic_failing_openai_answers(db, keys, failure):
    fake = FakeLLM(sql=[fenced(BY_TYPE)], failures={"anthropic": failure})
    out = (await _ask(_server(fake), "Devices per type?")).structured_content
    assert out["answered_by"] == "openai" and out["model"] == "gpt-5.5"
    assert {r["device_type"]: r["devices"] for r in out["rows"]} == _by_type(db.sim)


async def test_a_guard_refusal_through_the_provider_is_retried_then_answered(db, keys):
    fake = FakeLLM(sql=[fenced("select pg_sleep(100)"), fenced(BY_TYPE)])
    out = (await _ask(_server(fake), "Devices per type?", max_rows=5)).structured_content
    assert "pg_sleep is not allowed" in out["attempts"][0]["error"] and out["error"] is None
    assert out["row_count"] == min(5, len(_by_type(db.sim))) and out["truncated"] is (
        len(_by_type(db.sim)) > 5
    )


async def test_no_sampling_and_no_provider_is_a_tool_error_that_says_what_to_configure(env):
    result = await _ask(build_server(), "How many devices?")
    assert result.is_error is True
    text = result.content[0].text
    for needed in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "sampling", "run_query"):
        assert needed in text, needed


async def test_secrets_never_appear_in_results_or_errors(db, keys):
    fake = FakeLLM(sql=[fenced(BY_TYPE)], failures={"anthropic": 529})
    result = await _ask(_server(fake), "Devices per type?")
    text = json.dumps(result.structured_content) + "".join(c.text for c in result.content)
    assert result.is_error is False and ANTHROPIC_KEY not in text and OPENAI_KEY not in text

    fake = FakeLLM(failures={"anthropic": 401, "openai": 401}, error_message=f"wrong key {ANTHROPIC_KEY}")
    result = await _ask(_server(fake), "Devices per type?")
    assert result.is_error is True
    text = result.content[0].text
    assert "Anthropic (claude-sonnet-5-5) answered HTTP 401" in text and "run_query" in text
    assert ANTHROPIC_KEY not in text and OPENAI_KEY not in text
