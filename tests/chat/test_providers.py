"""The providers through the real `anthropic` and `openai` SDKs, against a fake HTTP transport (httpx2)."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import SecretStr

from glp_pipeline.chat import (
    AnthropicProvider,
    ChatRequest,
    FallbackProvider,
    Message,
    OpenAIProvider,
    ProviderError,
    ProviderNotConfigured,
    ReplyDone,
    StreamFailed,
    TextDelta,
    ToolCall,
    ToolCallReady,
    ToolResult,
    ToolSpec,
    Usage,
    provider_from_settings,
)
from glp_pipeline.chat.text_to_sql import SQL_SYSTEM
from glp_pipeline.settings import Settings
from tests.chat.fake_llm import USAGE_IN, USAGE_OUT, FakeLLM, Turn, words

ANTHROPIC_KEY = "sk-ant-test-0123456789-SECRET"
OPENAI_KEY = "sk-openai-test-9876543210-SECRET"
REQUEST = ChatRequest(system=SQL_SYSTEM, messages=(Message("user", "How many devices?"),))


def _settings(**values) -> Settings:
    return Settings(_env_file=None, **({"glp_llm_max_retries": 0} | values))


def _both(fake: FakeLLM, **values) -> FallbackProvider:
    provider = provider_from_settings(
        _settings(anthropic_api_key=SecretStr(ANTHROPIC_KEY), openai_api_key=SecretStr(OPENAI_KEY), **values),
        http_client=fake.client(),
    )
    assert isinstance(provider, FallbackProvider)
    return provider


def test_anthropic_answers_through_its_sdk():
    fake = FakeLLM(sql=["```sql\nselect 1\n```"])
    provider = AnthropicProvider(ANTHROPIC_KEY, "claude-test", max_retries=0, http_client=fake.client())
    reply = provider.complete(REQUEST)
    assert (reply.text, reply.provider, reply.model) == ("```sql\nselect 1\n```", "anthropic", "claude-test")
    (seen,) = fake.seen
    assert seen.api == "anthropic" and ANTHROPIC_KEY in seen.headers["authorization"]
    assert seen.body["model"] == "claude-test" and seen.body["system"] == REQUEST.system
    assert seen.body["messages"] == [{"role": "user", "content": "How many devices?"}]
    assert seen.body["max_tokens"] == REQUEST.max_tokens


def test_openai_answers_and_an_openai_compatible_server_needs_no_key():
    fake = FakeLLM()
    provider = OpenAIProvider(SecretStr(OPENAI_KEY), "gpt-test", max_retries=0, http_client=fake.client())
    reply = provider.complete(REQUEST)
    assert reply.provider == "openai" and reply.model == "gpt-test"
    seen = fake.seen[-1]
    assert seen.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert seen.body["messages"][0] == {"role": "system", "content": REQUEST.system}
    assert seen.body["max_completion_tokens"] == REQUEST.max_tokens and "max_tokens" not in seen.body

    # A local server (GLP_OPENAI_BASE_URL) without a key: configured all the same, and sent max_tokens.
    provider = provider_from_settings(
        _settings(glp_openai_base_url="http://127.0.0.1:11434/v1", glp_openai_model="llama-local"),
        http_client=fake.client(),
    )
    assert isinstance(provider, OpenAIProvider)
    assert provider.complete(REQUEST).model == "llama-local"
    seen = fake.seen[-1]
    assert "127.0.0.1:11434" in seen.headers["host"]
    assert seen.body["max_tokens"] == REQUEST.max_tokens and "max_completion_tokens" not in seen.body


@pytest.mark.parametrize("failure", [529, 500, 429, "timeout"])
def test_anthropic_failing_hands_over_to_openai(failure, caplog):
    fake = FakeLLM(failures={"anthropic": failure})
    with caplog.at_level(logging.WARNING):
        reply = _both(fake).complete(REQUEST)
    assert reply.provider == "openai"
    assert [s.api for s in fake.seen] == ["anthropic", "openai"]
    assert "Asking openai instead" in caplog.text
    assert ANTHROPIC_KEY not in caplog.text and OPENAI_KEY not in caplog.text


def test_the_sdks_own_retries_come_before_the_fallback():
    fake = FakeLLM(failures={"anthropic": 529})
    _both(fake, glp_llm_max_retries=2).complete(REQUEST)
    assert [s.api for s in fake.seen] == ["anthropic"] * 3 + ["openai"]


def test_when_every_provider_fails_the_error_says_why_and_holds_no_secret():
    # A server that echoes the key it was sent, as some proxies do: redacted all the same.
    echo = f"bad {ANTHROPIC_KEY} {OPENAI_KEY}"
    fake = FakeLLM(failures={"anthropic": 401, "openai": 503}, error_message=echo)
    with pytest.raises(ProviderError) as caught:
        _both(fake).complete(REQUEST)
    text = str(caught.value)
    assert "Anthropic (claude-sonnet-5-5) answered HTTP 401" in text
    assert "OpenAI (gpt-5.5) answered HTTP 503" in text
    assert ANTHROPIC_KEY not in text and OPENAI_KEY not in text and "[redacted]" in text
    assert "How many devices" not in text, "no request content in errors"

    fake = FakeLLM(failures={"anthropic": "timeout", "openai": "timeout"})
    with pytest.raises(ProviderError, match=r"Anthropic \(claude-sonnet-5-5\) timed out"):
        _both(fake).complete(REQUEST)


def test_no_provider_configured_says_what_to_set():
    with pytest.raises(ProviderNotConfigured) as caught:
        provider_from_settings(_settings())
    assert "ANTHROPIC_API_KEY" in str(caught.value) and "OPENAI_API_KEY" in str(caught.value)
    assert "GLP_OPENAI_BASE_URL" in str(caught.value)


def test_settings_come_from_the_environment_and_keys_stay_secret(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("GLP_ANTHROPIC_MODEL", "claude-x")
    monkeypatch.setenv("GLP_OPENAI_MODEL", "gpt-x")
    monkeypatch.setenv("GLP_OPENAI_BASE_URL", "http://llm.internal/v1")
    monkeypatch.setenv("GLP_LLM_TIMEOUT_SECONDS", "12.5")
    settings = Settings(_env_file=None)
    assert settings.anthropic_api_key.get_secret_value() == ANTHROPIC_KEY
    assert (settings.glp_anthropic_model, settings.glp_openai_model) == ("claude-x", "gpt-x")
    assert settings.glp_openai_base_url == "http://llm.internal/v1"
    assert settings.glp_llm_timeout_seconds == 12.5
    assert ANTHROPIC_KEY not in repr(settings) and OPENAI_KEY not in repr(settings)
    providers = provider_from_settings(settings).providers  # type: ignore[attr-defined]
    assert [(p.name, p.model) for p in providers] == [("anthropic", "claude-x"), ("openai", "gpt-x")]


# --- Tools and streaming ------------------------------------------------------------------------------

TOOLS = (
    ToolSpec("inventory_overview", "Device and subscription counts.", {"type": "object", "properties": {}}),
    ToolSpec(
        "run_query",
        "Run one read-only SELECT.",
        {"type": "object", "properties": {"sql": {"type": "string"}}, "required": ["sql"]},
    ),
)
# A conversation with a tool round: a call that worked, one that failed, and the question after.
CONVERSATION = (
    Message("user", "How many devices, and of which types?"),
    Message(
        "assistant",
        "Let me look.",
        tool_calls=(
            ToolCall("toolu_a", "inventory_overview", {}),
            ToolCall("toolu_b", "run_query", {"sql": "select 1"}),
        ),
    ),
    Message(
        "user",
        tool_results=(
            ToolResult("toolu_a", '{"devices":{"total":150}}'),
            ToolResult("toolu_b", "Error executing tool run_query: refused", is_error=True),
        ),
    ),
)
TOOL_REQUEST = ChatRequest("You answer with tools.", CONVERSATION, max_tokens=512, tools=TOOLS)
SAYS = "There are 150 devices in the workspace."
CALLS_QUERY = Turn("I will count them.", [("run_query", {"sql": "select count(*) from marts.devices"})])


def _provider(api: str, fake: FakeLLM, **options):
    if api == "anthropic":
        return AnthropicProvider(
            ANTHROPIC_KEY, "claude-test", max_retries=0, http_client=fake.client(), **options
        )
    return OpenAIProvider(OPENAI_KEY, "gpt-test", max_retries=0, http_client=fake.client(), **options)


def test_anthropic_gets_tools_calls_and_results_in_its_wire_format():
    fake = FakeLLM(turns=[CALLS_QUERY])
    reply = _provider("anthropic", fake).complete(TOOL_REQUEST)
    body = fake.seen[-1].body
    assert body["tools"] == [
        {"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in TOOLS
    ]
    assert body["messages"] == [
        {"role": "user", "content": "How many devices, and of which types?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_a", "name": "inventory_overview", "input": {}},
                {"type": "tool_use", "id": "toolu_b", "name": "run_query", "input": {"sql": "select 1"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": '{"devices":{"total":150}}'},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_b",
                    "content": "Error executing tool run_query: refused",
                    "is_error": True,
                },
            ],
        },
    ]
    assert reply.text == "I will count them." and reply.stop_reason == "tool_use"
    (call,) = reply.tool_calls
    assert (call.name, call.arguments) == ("run_query", {"sql": "select count(*) from marts.devices"})
    assert call.id.startswith("toolu_") and reply.usage == Usage(USAGE_IN, USAGE_OUT)


def test_openai_gets_tools_calls_and_results_in_its_wire_format():
    fake = FakeLLM(turns=[CALLS_QUERY])
    reply = _provider("openai", fake).complete(TOOL_REQUEST)
    body = fake.seen[-1].body
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
        }
        for t in TOOLS
    ]
    assert body["messages"][1:] == [
        {"role": "user", "content": "How many devices, and of which types?"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "toolu_a",
                    "type": "function",
                    "function": {"name": "inventory_overview", "arguments": "{}"},
                },
                {
                    "id": "toolu_b",
                    "type": "function",
                    "function": {"name": "run_query", "arguments": '{"sql": "select 1"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_a", "content": '{"devices":{"total":150}}'},
        {"role": "tool", "tool_call_id": "toolu_b", "content": "Error executing tool run_query: refused"},
    ]
    assert reply.text == "I will count them." and reply.stop_reason == "tool_use"
    (call,) = reply.tool_calls
    assert (call.name, call.arguments) == ("run_query", {"sql": "select count(*) from marts.devices"})
    assert reply.usage == Usage(USAGE_IN, USAGE_OUT)

    # Arguments that are not JSON are kept as text, to be answered with an error rather than run.
    fake = FakeLLM(turns=[Turn("", [("run_query", '{"sql": "sel')])])
    (call,) = _provider("openai", fake).complete(TOOL_REQUEST).tool_calls
    assert call.arguments == {} and call.invalid_arguments == '{"sql": "sel'
    assert '{"sql": "sel' in str(Message("assistant", tool_calls=(call,)).to_dict())


def test_messages_round_trip_through_plain_json():
    for message in CONVERSATION:
        assert Message.from_dict(json.loads(json.dumps(message.to_dict()))) == message
    assert Message("user", "Hi").to_dict() == {"role": "user", "content": "Hi"}
    with pytest.raises(ValueError, match="user, assistant or tool"):
        Message.from_dict({"role": "system", "content": "x"})
    stored = {"role": "tool", "content": None, "tool_results": [{"tool_call_id": "a", "content": "{}"}]}
    assert Message.from_dict(stored) == Message("user", "", tool_results=(ToolResult("a", "{}"),))


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_stream_yields_the_text_in_order_then_the_tool_calls_then_the_reply(api):
    turn = Turn("Counting the devices per type, one moment.", [("run_query", {"sql": "select 1"})])
    fake = FakeLLM(turns=[turn])
    events = list(_provider(api, fake).stream(TOOL_REQUEST))
    assert fake.seen[-1].stream is True
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == words(turn.text) and len(deltas) > 3
    assert isinstance(events[-2], ToolCallReady) and isinstance(events[-1], ReplyDone)
    reply = events[-1].reply
    assert "".join(deltas) == reply.text == turn.text
    assert reply.tool_calls == (events[-2].call,) and events[-2].call.arguments == {"sql": "select 1"}
    assert (reply.provider, reply.stop_reason) == (api, "tool_use")
    assert reply.usage == Usage(USAGE_IN, USAGE_OUT)
    if api == "openai":
        assert fake.seen[-1].body["stream_options"] == {"include_usage": True}

    fake = FakeLLM(turns=[Turn(SAYS)])
    events = list(_provider(api, fake).stream(TOOL_REQUEST))
    assert [type(e) for e in events[-2:]] == [TextDelta, ReplyDone] and events[-1].reply.tool_calls == ()
    assert events[-1].reply.stop_reason == "end_turn"


def test_an_openai_compatible_server_streams_without_openais_extras():
    fake = FakeLLM(turns=[Turn(SAYS)])
    provider = OpenAIProvider(None, "llama", base_url="http://127.0.0.1:11434/v1", http_client=fake.client())
    events = list(provider.stream(TOOL_REQUEST))
    assert events[-1].reply.text == SAYS and events[-1].reply.usage is None
    body = fake.seen[-1].body
    assert "stream_options" not in body and body["max_tokens"] == 512 and body["stream"] is True


@pytest.mark.parametrize("failure", [500, 529, 429, "timeout", "stall"])
def test_a_stream_falls_back_when_the_primary_fails_before_its_first_token(failure, caplog):
    fake = FakeLLM(turns=[Turn(SAYS)], failures={"anthropic": failure})
    provider = _both(fake)
    with caplog.at_level(logging.WARNING):
        events = list(provider.stream(TOOL_REQUEST))
    assert [s.api for s in fake.seen] == ["anthropic", "openai"] and all(s.stream for s in fake.seen)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == SAYS
    assert events[-1].reply.provider == "openai" and events[-1].reply.text == SAYS
    assert "Asking openai instead" in caplog.text and ANTHROPIC_KEY not in caplog.text

    # Chosen per request: with Anthropic back, the next request is Anthropic's.
    fake.failures.clear()
    assert list(provider.stream(TOOL_REQUEST))[-1].reply.provider == "anthropic"


@pytest.mark.parametrize("failure", [500, 529, "timeout"])
def test_a_tool_request_falls_back_without_streaming_too(failure):
    fake = FakeLLM(turns=[CALLS_QUERY], failures={"anthropic": failure})
    reply = _both(fake).complete(TOOL_REQUEST)
    assert reply.provider == "openai" and reply.tool_calls[0].name == "run_query"
    assert [s.api for s in fake.seen] == ["anthropic", "openai"]


@pytest.mark.parametrize("api", ["anthropic", "openai"])
def test_a_failure_after_text_has_streamed_is_an_event_not_a_fallback(api, caplog):
    echo = f"Overloaded {ANTHROPIC_KEY} {OPENAI_KEY}"
    fake = FakeLLM(turns=[Turn(SAYS)], failures={api: "midstream"}, error_message=echo)
    providers = [_provider("anthropic", fake), _provider("openai", fake)]
    provider = FallbackProvider(providers if api == "anthropic" else providers[::-1])
    with caplog.at_level(logging.WARNING):
        events = list(provider.stream(TOOL_REQUEST))
    assert [type(e) for e in events] == [TextDelta, StreamFailed]
    assert events[0].text == words(SAYS)[0]
    failed = events[-1]
    assert failed.provider == api and "failed while answering: Overloaded" in failed.message
    assert ANTHROPIC_KEY not in failed.message and OPENAI_KEY not in failed.message
    assert [s.api for s in fake.seen] == [api], "no other provider is asked once text has streamed"
    assert ANTHROPIC_KEY not in caplog.text and OPENAI_KEY not in caplog.text


def test_every_provider_failing_a_stream_raises_a_safe_error():
    fake = FakeLLM(failures={"anthropic": 529, "openai": "stall"}, error_message=f"bad {ANTHROPIC_KEY}")
    with pytest.raises(ProviderError) as caught:
        list(_both(fake).stream(TOOL_REQUEST))
    text = str(caught.value)
    assert "Anthropic (claude-sonnet-5-5) answered HTTP 529" in text and "OpenAI (gpt-5.5) timed out" in text
    assert ANTHROPIC_KEY not in text and "[redacted]" in text
