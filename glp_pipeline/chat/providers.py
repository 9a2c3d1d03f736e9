"""LLM providers: Anthropic first, OpenAI (or any OpenAI-compatible server) as the fallback.

One small interface, `Provider.complete(ChatRequest) -> ChatReply`, over the official SDKs only. It is what
`ask_database` needs today; the chat agent (issue 8) extends the same request and reply with tools and adds
a streaming method, rather than growing a second provider layer.

- Timeouts and retries are the SDKs' own (`timeout=`, `max_retries=`; they retry 408/409/429/5xx and
  connection errors with backoff). Retries are kept few because a failing primary hands over to the
  fallback, which is faster than waiting out a long backoff.
- `FallbackProvider` tries the providers in order and moves on when one errs, times out or is rate-limited;
  the reply says which one answered.
- API keys come only from the settings (the environment), are passed to the SDKs explicitly (the SDKs do not
  go looking in the environment or config files for others), and never appear in errors or logs: error
  texts are built from the status and the API's error message, with every configured key redacted as well.
- The constructors take an `httpx2.Client` (both SDKs run on httpx2, not httpx): tests pass one with an
  `httpx2.MockTransport`, so the real SDK code runs against a fake HTTP server.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import anthropic
import httpx2
import openai
from pydantic import SecretStr

from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

ProviderName = Literal["anthropic", "openai"]
OPENAI_API_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # what the SDK sends to an OpenAI-compatible server that wants no key

NOT_CONFIGURED = (
    "No LLM provider is configured. Set ANTHROPIC_API_KEY (Claude, tried first) and/or OPENAI_API_KEY "
    "(OpenAI, the fallback; GLP_OPENAI_BASE_URL points it at any OpenAI-compatible server, such as a local "
    "model server) in the environment or the .env file."
)


class ProviderError(RuntimeError):
    """A provider could not answer; the message is safe to show (no keys, no request content)."""

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider


class ProviderNotConfigured(ProviderError):
    """No provider has the settings it needs; the message says which settings to set."""


@dataclass(frozen=True)
class Message:
    """One turn of a conversation (text only for now; the chat agent adds tool calls and results)."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """What to ask a model: a system prompt and the conversation so far."""

    system: str
    messages: tuple[Message, ...]
    max_tokens: int = 2048


@dataclass(frozen=True)
class ChatReply:
    """A model's reply, and which provider and model wrote it."""

    text: str
    provider: str
    model: str


class Provider(ABC):
    """A language model behind one API. Subclasses translate `ChatRequest` to their SDK and errors to
    `ProviderError`."""

    name: str
    model: str
    secrets: tuple[str, ...] = ()  # values never to show (keys), redacted from every error text

    @abstractmethod
    def complete(self, request: ChatRequest) -> ChatReply:
        """The model's reply to the request; raises `ProviderError` when the provider cannot answer."""

    def close(self) -> None:  # noqa: B027 - optional for providers that hold nothing
        """Release the provider's HTTP connections."""


class AnthropicProvider(Provider):
    """Claude through the official `anthropic` SDK (Messages API)."""

    name = "anthropic"

    def __init__(
        self,
        api_key: SecretStr | str,
        model: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 1,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.model = model
        self.secrets = _secret_values(api_key)
        self._client = anthropic.Anthropic(
            api_key=_reveal(api_key),
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    def complete(self, request: ChatRequest) -> ChatReply:
        try:
            message = self._client.messages.create(
                model=self.model,
                max_tokens=request.max_tokens,
                system=request.system,
                messages=[{"role": m.role, "content": m.content} for m in request.messages],
            )
        except anthropic.AnthropicError as exc:
            message = _describe("Anthropic", self.model, exc, self.secrets)
            raise ProviderError(message, provider=self.name) from None
        text = "".join(block.text for block in message.content if block.type == "text")
        if not text.strip():
            raise ProviderError(
                f"Anthropic ({self.model}) returned no text (stop reason: {message.stop_reason}).",
                provider=self.name,
            )
        return ChatReply(text=text, provider=self.name, model=message.model or self.model)

    def close(self) -> None:
        self._client.close()


class OpenAIProvider(Provider):
    """OpenAI, or any OpenAI-compatible server, through the official `openai` SDK.

    Chat Completions rather than the Responses API: it is what OpenAI-compatible servers (vLLM, Ollama,
    LM Studio, llama.cpp ...) implement. Against OpenAI itself the token cap is sent as
    `max_completion_tokens` (reasoning models refuse `max_tokens`); against another server as `max_tokens`,
    which they all accept. No temperature is sent: reasoning models refuse anything but the default.
    """

    name = "openai"

    def __init__(
        self,
        api_key: SecretStr | str | None,
        model: str,
        *,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 1,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.model = model
        self.secrets = _secret_values(api_key)
        self._compatible = base_url is not None
        self._client = openai.OpenAI(
            api_key=_reveal(api_key) or NO_KEY,
            base_url=base_url or OPENAI_API_URL,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    def complete(self, request: ChatRequest) -> ChatReply:
        messages: list = [{"role": "system", "content": request.system}]
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        limit = {"max_tokens" if self._compatible else "max_completion_tokens": request.max_tokens}
        try:
            completion = self._client.chat.completions.create(model=self.model, messages=messages, **limit)
        except openai.OpenAIError as exc:
            message = _describe("OpenAI", self.model, exc, self.secrets)
            raise ProviderError(message, provider=self.name) from None
        choice = completion.choices[0] if completion.choices else None
        text = choice.message.content if choice and choice.message else None
        if not text or not text.strip():
            reason = choice.finish_reason if choice else "no choices"
            raise ProviderError(
                f"OpenAI ({self.model}) returned no text (finish reason: {reason}).", provider=self.name
            )
        return ChatReply(text=text, provider=self.name, model=completion.model or self.model)

    def close(self) -> None:
        self._client.close()


class FallbackProvider(Provider):
    """The providers in order: the first that answers wins. A provider that errs, times out or is
    rate-limited (after its SDK's own retries) hands the same request to the next one."""

    name = "fallback"

    def __init__(self, providers: Sequence[Provider]) -> None:
        if not providers:
            raise ProviderNotConfigured(NOT_CONFIGURED)
        self.providers = list(providers)
        self.model = self.providers[0].model
        self.secrets = tuple(secret for provider in self.providers for secret in provider.secrets)

    def complete(self, request: ChatRequest) -> ChatReply:
        failures: list[str] = []
        for n, provider in enumerate(self.providers):
            try:
                return provider.complete(request)
            except ProviderError as exc:
                failure = _redact(str(exc), self.secrets)  # a server may echo the other provider's key
                failures.append(failure)
                if n + 1 < len(self.providers):
                    log.warning("%s Asking %s instead.", failure, self.providers[n + 1].name)
        raise ProviderError(" ".join(failures))

    def close(self) -> None:
        for provider in self.providers:
            provider.close()


def configured_providers(settings: Settings, *, http_client: httpx2.Client | None = None) -> list[Provider]:
    """The providers the settings configure, in the order they are tried: Anthropic (when
    ANTHROPIC_API_KEY is set), then OpenAI (when OPENAI_API_KEY or GLP_OPENAI_BASE_URL is set: a local
    OpenAI-compatible server often needs no key)."""
    options = {
        "timeout": settings.glp_llm_timeout_seconds,
        "max_retries": settings.glp_llm_max_retries,
        "http_client": http_client,
    }
    providers: list[Provider] = []
    if _reveal(settings.anthropic_api_key):
        providers.append(
            AnthropicProvider(settings.anthropic_api_key, settings.glp_anthropic_model, **options)  # type: ignore[arg-type]
        )
    if _reveal(settings.openai_api_key) or settings.glp_openai_base_url:
        providers.append(
            OpenAIProvider(
                settings.openai_api_key,
                settings.glp_openai_model,
                base_url=settings.glp_openai_base_url,
                **options,  # type: ignore[arg-type]
            )
        )
    return providers


def provider_from_settings(settings: Settings, *, http_client: httpx2.Client | None = None) -> Provider:
    """The configured providers behind one `Provider` (with fallback when there are two); raises
    `ProviderNotConfigured` (whose message says what to set) when there is none."""
    providers = configured_providers(settings, http_client=http_client)
    if not providers:
        raise ProviderNotConfigured(NOT_CONFIGURED)
    return providers[0] if len(providers) == 1 else FallbackProvider(providers)


def _reveal(secret: SecretStr | str | None) -> str | None:
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return value.strip() or None if value else None


def _secret_values(*secrets: SecretStr | str | None) -> tuple[str, ...]:
    return tuple(v for v in (_reveal(s) for s in secrets) if v)


def _describe(provider: str, model: str, exc: Exception, secrets: Sequence[str]) -> str:
    """A safe one-line account of an SDK error: the kind, the HTTP status and the API's own message
    (shortened), never the request, and with any key redacted in case a server echoed one."""
    if isinstance(exc, anthropic.APITimeoutError | openai.APITimeoutError):
        what = "timed out"
    elif isinstance(exc, anthropic.APIConnectionError | openai.APIConnectionError):
        what = "could not be reached"
    elif isinstance(exc, anthropic.APIStatusError | openai.APIStatusError):
        what = f"answered HTTP {exc.status_code}"
        detail = _api_message(exc.body)
        if detail:
            what += f": {detail}"
    else:
        what = f"failed ({type(exc).__name__})"
    return _redact(f"{provider} ({model}) {what}.", secrets)


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def _api_message(body: object) -> str | None:
    """The `error.message` (or `message`) both APIs put in their error bodies, at most 200 characters."""
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message.strip():
            message = " ".join(message.split())
            return message if len(message) <= 200 else message[:199] + "…"
    return None
