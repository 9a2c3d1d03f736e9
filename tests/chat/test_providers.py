"""The providers through the real `anthropic` and `openai` SDKs, against a fake HTTP transport (httpx2)."""

from __future__ import annotations

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
    provider_from_settings,
)
from glp_pipeline.chat.text_to_sql import SQL_SYSTEM
from glp_pipeline.settings import Settings
from tests.chat.fake_llm import FakeLLM

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
