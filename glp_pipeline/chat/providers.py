"""LLM providers: Anthropic first, OpenAI (or any OpenAI-compatible server) as the fallback.

One small interface over the official SDKs only, shared by `ask_database` (text in, text out) and the chat
agent (tools and streaming):

- `Provider.complete(ChatRequest) -> ChatReply`: one reply, with its text, the tool calls the model asked
  for, why it stopped and the tokens it used.
- `Provider.stream(ChatRequest) -> Iterator[StreamEvent]`: the same reply as it is written: `TextDelta`s,
  a `ToolCallReady` per completed tool call, then `ReplyDone` with the whole reply. It raises
  `ProviderError` when the provider fails before yielding anything (so a fallback may take over); a failure
  after that is a `StreamFailed` event, and the stream ends.

A conversation is a tuple of `Message`s: user text, the assistant's text and tool calls (`ToolCall`), and
the tool results sent back (`ToolResult`, in a user message). `Message.to_dict()` / `from_dict()` turn
them into plain JSON for storage. Each provider translates them to its API's wire shapes.

- Timeouts and retries are the SDKs' own (`timeout=`, `max_retries=`; they retry 408/409/429/5xx and
  connection errors with backoff). Retries are kept few because a failing primary hands over to the
  fallback, which is faster than waiting out a long backoff.
- `FallbackProvider` tries the providers in order and moves on, per request, when one errs, times out or is
  rate-limited; the reply says which one answered.
- API keys come only from the settings (the environment), are passed to the SDKs explicitly (the SDKs do not
  go looking in the environment or config files for others), and never appear in errors or logs: error
  texts are built from the status and the API's error message, with every configured key redacted as well.
- The constructors take an `httpx2.Client` (both SDKs run on httpx2, not httpx): tests pass one with an
  `httpx2.MockTransport`, so the real SDK code runs against a fake HTTP server.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import anthropic
import httpx2
import openai
from pydantic import SecretStr

from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

ProviderName = Literal["anthropic", "openai"]
OPENAI_API_URL = "https://api.openai.com/v1"
ANTHROPIC_API_URL = "https://api.anthropic.com"  # explicit: the SDK would otherwise read ANTHROPIC_BASE_URL
NO_KEY = "not-needed"  # what the SDK sends to an OpenAI-compatible server that wants no key

NOT_CONFIGURED = (
    "No LLM provider is configured. Set ANTHROPIC_API_KEY (Claude, tried first) and/or OPENAI_API_KEY "
    "(OpenAI, the fallback; GLP_OPENAI_BASE_URL points it at any OpenAI-compatible server, such as a local "
    "model server) in the environment or the .env file."
)

# Why a model stopped, in one vocabulary for both APIs; other reasons pass through as the API says them.
END_TURN, TOOL_USE, MAX_TOKENS = "end_turn", "tool_use", "max_tokens"
_OPENAI_STOPS = {"stop": END_TURN, "tool_calls": TOOL_USE, "function_call": TOOL_USE, "length": MAX_TOKENS}
# What a stream may fail with after its request was accepted: the SDKs' errors, the transport's own (a read
# timeout in the middle of an Anthropic stream is not wrapped by its SDK) and malformed tool-call JSON.
_STREAM_ERRORS = (anthropic.AnthropicError, openai.OpenAIError, httpx2.TransportError, ValueError)


class ProviderError(RuntimeError):
    """A provider could not answer; the message is safe to show (no keys, no request content)."""

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider


class ProviderNotConfigured(ProviderError):
    """No provider has the settings it needs; the message says which settings to set."""


# --- Conversations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: its name, what it does, and its input as a JSON schema (an object)."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """A tool call the model asked for. `invalid_arguments` holds the model's argument text when it was not
    a JSON object (`arguments` is then empty); the call should be answered with an error, not run."""

    id: str
    name: str
    arguments: dict[str, Any]
    invalid_arguments: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "name": self.name, "arguments": self.arguments}
        if self.invalid_arguments is not None:
            data["invalid_arguments"] = self.invalid_arguments
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        return cls(
            str(data["id"]),
            str(data["name"]),
            dict(data.get("arguments") or {}),
            data.get("invalid_arguments"),
        )


@dataclass(frozen=True)
class ToolResult:
    """What a tool call returned, as the model reads it (text, usually JSON); `is_error` when it failed."""

    tool_call_id: str
    content: str
    is_error: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"tool_call_id": self.tool_call_id, "content": self.content, "is_error": self.is_error}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolResult:
        return cls(str(data["tool_call_id"]), str(data.get("content") or ""), bool(data.get("is_error")))


@dataclass(frozen=True)
class Message:
    """One message of a conversation: text, and for the assistant the tool calls it made, for the user the
    results of those calls (as Anthropic's API has it; OpenAI's gets them as `tool` messages)."""

    role: Literal["user", "assistant"]
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The message as plain JSON (for storage); empty tool lists are left out."""
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_results:
            data["tool_results"] = [result.to_dict() for result in self.tool_results]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """A message from `to_dict()`'s JSON. The role `tool` (a store's name for a user message that only
        carries tool results) is read as `user`."""
        role = "user" if data["role"] == "tool" else data["role"]
        if role not in ("user", "assistant"):
            raise ValueError(f"A message's role is user, assistant or tool, not {role!r}.")
        return cls(
            role,
            str(data.get("content") or ""),
            tuple(ToolCall.from_dict(c) for c in data.get("tool_calls") or ()),
            tuple(ToolResult.from_dict(r) for r in data.get("tool_results") or ()),
        )


@dataclass(frozen=True)
class ChatRequest:
    """What to ask a model: a system prompt, the conversation so far and the tools it may call."""

    system: str
    messages: tuple[Message, ...]
    max_tokens: int = 2048
    tools: tuple[ToolSpec, ...] = ()


@dataclass(frozen=True)
class Usage:
    """Tokens a request used, as the API reported them."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)

    def to_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


@dataclass(frozen=True)
class ChatReply:
    """A model's reply: its text, the tools it wants called, why it stopped (`end_turn`, `tool_use`,
    `max_tokens`, or the API's own word), which provider and model wrote it, and the tokens used (when the
    API says)."""

    text: str
    provider: str
    model: str
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: str | None = None
    usage: Usage | None = None


# --- Streaming events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextDelta:
    """The next piece of the reply's text."""

    text: str


@dataclass(frozen=True)
class ToolCallReady:
    """A tool call the model has finished writing (its arguments complete)."""

    call: ToolCall


@dataclass(frozen=True)
class ReplyDone:
    """The stream's last event: the whole reply, as `complete` would have returned it."""

    reply: ChatReply


@dataclass(frozen=True)
class StreamFailed:
    """The provider failed after the stream had yielded something; the message is safe to show. Last."""

    message: str
    provider: str | None = None


StreamEvent = TextDelta | ToolCallReady | ReplyDone | StreamFailed


class Provider(ABC):
    """A language model behind one API. Subclasses translate `ChatRequest` to their SDK and errors to
    `ProviderError`."""

    name: str
    model: str
    secrets: tuple[str, ...] = ()  # values never to show (keys), redacted from every error text

    @abstractmethod
    def complete(self, request: ChatRequest) -> ChatReply:
        """The model's reply to the request; raises `ProviderError` when the provider cannot answer."""

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """The reply as it is written: `TextDelta`s, a `ToolCallReady` per tool call, then `ReplyDone`.

        Raises `ProviderError` when the provider fails before the first event; after that a failure is a
        `StreamFailed` event, the last. This default streams a `complete` reply in one piece."""
        reply = self.complete(request)
        if reply.text:
            yield TextDelta(reply.text)
        for call in reply.tool_calls:
            yield ToolCallReady(call)
        yield ReplyDone(reply)

    def close(self) -> None:  # noqa: B027 - optional for providers that hold nothing
        """Release the provider's HTTP connections."""


class AnthropicProvider(Provider):
    """Claude through the official `anthropic` SDK (Messages API; streaming through `messages.stream`)."""

    name = "anthropic"

    def __init__(
        self,
        api_key: SecretStr | str,
        model: str,
        *,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 1,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.model = model
        self.secrets = _secret_values(api_key)
        self._client = anthropic.Anthropic(
            api_key=_reveal(api_key),
            base_url=base_url or ANTHROPIC_API_URL,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    def complete(self, request: ChatRequest) -> ChatReply:
        try:
            message = self._client.messages.create(**self._params(request))
        except anthropic.AnthropicError as exc:
            raise ProviderError(self._failure(exc), provider=self.name) from None
        reply = self._reply(message)
        if not reply.text.strip() and not reply.tool_calls:
            raise ProviderError(self._empty(reply), provider=self.name)
        return reply

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        started = False
        try:
            with self._client.messages.stream(**self._params(request)) as stream:
                for event in stream:
                    if event.type == "text" and event.text:
                        started = True
                        yield TextDelta(event.text)
                    elif event.type == "content_block_stop" and event.content_block.type == "tool_use":
                        started = True
                        yield ToolCallReady(_anthropic_call(event.content_block))
                message = stream.get_final_message()
        except _STREAM_ERRORS as exc:
            if not started:
                raise ProviderError(self._failure(exc), provider=self.name) from None
            yield StreamFailed(self._failure(exc), self.name)
            return
        reply = self._reply(message)
        if not started and not reply.text.strip() and not reply.tool_calls:
            raise ProviderError(self._empty(reply), provider=self.name)
        yield ReplyDone(reply)

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": _anthropic_messages(request.messages),
        }
        if request.tools:
            params["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                for t in request.tools
            ]
        return params

    def _reply(self, message: Any) -> ChatReply:
        usage = message.usage
        return ChatReply(
            text="".join(block.text for block in message.content if block.type == "text"),
            provider=self.name,
            model=message.model or self.model,
            tool_calls=tuple(_anthropic_call(b) for b in message.content if b.type == "tool_use"),
            stop_reason=message.stop_reason,
            usage=Usage(usage.input_tokens or 0, usage.output_tokens or 0) if usage else None,
        )

    def _failure(self, exc: Exception) -> str:
        return _describe("Anthropic", self.model, exc, self.secrets)

    def _empty(self, reply: ChatReply) -> str:
        return f"Anthropic ({self.model}) returned no text (stop reason: {reply.stop_reason})."

    def close(self) -> None:
        self._client.close()


class OpenAIProvider(Provider):
    """OpenAI, or any OpenAI-compatible server, through the official `openai` SDK.

    Chat Completions rather than the Responses API: it is what OpenAI-compatible servers (vLLM, Ollama,
    LM Studio, llama.cpp ...) implement, tools and streaming (`stream=True`, tool calls in deltas) included.
    Against OpenAI itself the token cap is sent as `max_completion_tokens` (reasoning models refuse
    `max_tokens`) and a stream asks for its usage; against another server the cap is `max_tokens`, which
    they all accept, and nothing else is added. No temperature is sent: reasoning models refuse anything but
    the default.
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
        try:
            completion = self._client.chat.completions.create(**self._params(request))
        except openai.OpenAIError as exc:
            raise ProviderError(self._failure(exc), provider=self.name) from None
        choice = completion.choices[0] if completion.choices else None
        message = choice.message if choice else None
        calls = tuple(
            _openai_call(n, c.id, c.function.name, c.function.arguments)
            for n, c in enumerate((message.tool_calls if message else None) or ())
            if getattr(c, "function", None) is not None
        )
        text = (message.content if message else None) or ""
        if not text.strip() and not calls:
            reason = choice.finish_reason if choice else "no choices"
            raise ProviderError(
                f"OpenAI ({self.model}) returned no text (finish reason: {reason}).", provider=self.name
            )
        return ChatReply(
            text=text,
            provider=self.name,
            model=completion.model or self.model,
            tool_calls=calls,
            stop_reason=_openai_stop(choice.finish_reason if choice else None),
            usage=_openai_usage(completion.usage),
        )

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        params = self._params(request) | {"stream": True}
        if not self._compatible:
            params["stream_options"] = {"include_usage": True}
        started = False
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}  # index -> id, name and the argument text so far
        model, finish, usage = self.model, None, None
        try:
            with self._client.chat.completions.create(**params) as chunks:
                for chunk in chunks:
                    model = chunk.model or model
                    usage = _openai_usage(chunk.usage) or usage
                    choice = chunk.choices[0] if chunk.choices else None
                    if choice is None:
                        continue
                    finish = choice.finish_reason or finish
                    delta = choice.delta
                    if delta is None:
                        continue
                    if delta.content:
                        started = True
                        text.append(delta.content)
                        yield TextDelta(delta.content)
                    for part in delta.tool_calls or ():
                        slot = calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                        slot["id"] = slot["id"] or part.id or ""
                        if part.function is not None:
                            slot["name"] = slot["name"] or part.function.name or ""
                            slot["arguments"] += part.function.arguments or ""
        except _STREAM_ERRORS as exc:
            if not started:
                raise ProviderError(self._failure(exc), provider=self.name) from None
            yield StreamFailed(self._failure(exc), self.name)
            return
        tool_calls = tuple(
            _openai_call(n, slot["id"], slot["name"], slot["arguments"])
            for n, (_, slot) in enumerate(sorted(calls.items()))
        )
        if not started and not "".join(text).strip() and not tool_calls:
            raise ProviderError(
                f"OpenAI ({self.model}) returned no text (finish reason: {finish}).", provider=self.name
            )
        for call in tool_calls:
            yield ToolCallReady(call)
        reply = ChatReply("".join(text), self.name, model, tool_calls, _openai_stop(finish), usage)
        yield ReplyDone(reply)

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        limit = {"max_tokens" if self._compatible else "max_completion_tokens": request.max_tokens}
        params: dict[str, Any] = {
            "model": self.model,
            "messages": _openai_messages(request.system, request.messages),
            **limit,
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
                }
                for t in request.tools
            ]
        return params

    def _failure(self, exc: Exception) -> str:
        return _describe("OpenAI", self.model, exc, self.secrets)

    def close(self) -> None:
        self._client.close()


class FallbackProvider(Provider):
    """The providers in order: the first that answers wins. A provider that errs, times out or is
    rate-limited (after its SDK's own retries) hands the same request to the next one; the choice is made
    per request, so the primary is asked first again next time.

    When streaming, a provider is passed over only if it fails before yielding anything (before the first
    text or tool call): once text has reached the reader it cannot be taken back, so a later failure is the
    stream's `StreamFailed` event (safe to show), and no other provider is asked."""

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
                self._failed(n, exc, failures)
        raise ProviderError(" ".join(failures))

    def stream(self, request: ChatRequest) -> Iterator[StreamEvent]:
        failures: list[str] = []
        for n, provider in enumerate(self.providers):
            events = provider.stream(request)
            try:
                first = next(events)
            except ProviderError as exc:
                self._failed(n, exc, failures)
                continue
            except StopIteration:  # a stream that ends without its ReplyDone: a broken provider
                self._failed(n, ProviderError(f"{provider.name} ended its stream without a reply."), failures)
                continue
            try:
                yield first
                for event in events:
                    if isinstance(event, StreamFailed):
                        event = StreamFailed(_redact(event.message, self.secrets), event.provider)
                    yield event
            except ProviderError as exc:  # a provider that raises late instead of yielding StreamFailed
                yield StreamFailed(_redact(str(exc), self.secrets), provider.name)
            finally:
                events.close()  # a reader that stops early closes the provider's HTTP stream too
            return
        raise ProviderError(" ".join(failures))

    def _failed(self, n: int, exc: ProviderError, failures: list[str]) -> None:
        failure = _redact(str(exc), self.secrets)  # a server may echo the other provider's key
        failures.append(failure)
        if n + 1 < len(self.providers):
            log.warning("%s Asking %s instead.", failure, self.providers[n + 1].name)

    def close(self) -> None:
        for provider in self.providers:
            provider.close()


# --- Wire shapes ------------------------------------------------------------------------------------


def _anthropic_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages API shapes: tool results are `tool_result` blocks of a user message (before its text),
    tool calls `tool_use` blocks of an assistant message (after its text). Plain text stays a string."""
    wire: list[dict[str, Any]] = []
    for m in messages:
        if not m.tool_calls and not m.tool_results:
            wire.append({"role": m.role, "content": m.content})
            continue
        blocks: list[dict[str, Any]] = []
        for result in m.tool_results:
            block = {"type": "tool_result", "tool_use_id": result.tool_call_id, "content": result.content}
            blocks.append(block | ({"is_error": True} if result.is_error else {}))
        if m.content:
            blocks.append({"type": "text", "text": m.content})
        for call in m.tool_calls:
            blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments})
        wire.append({"role": m.role, "content": blocks})
    return wire


def _anthropic_call(block: Any) -> ToolCall:
    arguments = block.input if isinstance(block.input, dict) else {}
    invalid = None if isinstance(block.input, dict) else json.dumps(block.input, default=str)
    return ToolCall(block.id, block.name, dict(arguments), invalid)


def _openai_messages(system: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Chat Completions shapes: the system prompt first; tool results are `tool` messages (an error says
    so in its text: the API has no error flag); tool calls are an assistant message's `tool_calls`."""
    wire: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for m in messages:
        for result in m.tool_results:
            text = result.content
            if result.is_error and not text.lower().startswith("error"):
                text = f"Error: {text}"
            wire.append({"role": "tool", "tool_call_id": result.tool_call_id, "content": text})
        if not m.tool_calls:
            if m.content or not m.tool_results:
                wire.append({"role": m.role, "content": m.content})
            continue
        calls = [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": call.invalid_arguments
                    if call.invalid_arguments is not None
                    else json.dumps(call.arguments, ensure_ascii=False),
                },
            }
            for call in m.tool_calls
        ]
        wire.append({"role": "assistant", "content": m.content or None, "tool_calls": calls})
    return wire


def _openai_call(n: int, call_id: str | None, name: str | None, arguments: str | None) -> ToolCall:
    """A tool call from its parts; an id is made up when a (local) server sends none."""
    text = arguments or ""
    try:
        parsed = json.loads(text) if text.strip() else {}
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return ToolCall(call_id or f"call_{n}", name or "", parsed)
    return ToolCall(call_id or f"call_{n}", name or "", {}, text)


def _openai_stop(reason: str | None) -> str | None:
    return _OPENAI_STOPS.get(reason, reason) if reason else None


def _openai_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    return Usage(usage.prompt_tokens or 0, usage.completion_tokens or 0)


# --- Settings -------------------------------------------------------------------------------------


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
            AnthropicProvider(
                settings.anthropic_api_key,
                settings.glp_anthropic_model,
                base_url=settings.glp_anthropic_base_url,
                **options,  # type: ignore[arg-type]
            )
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
    if isinstance(exc, anthropic.APITimeoutError | openai.APITimeoutError | httpx2.TimeoutException):
        what = "timed out"
    elif isinstance(exc, anthropic.APIConnectionError | openai.APIConnectionError | httpx2.TransportError):
        what = "could not be reached"
    elif isinstance(exc, anthropic.APIStatusError | openai.APIStatusError):
        # An error event inside a stream arrives on a response that began as 200 OK.
        what = f"answered HTTP {exc.status_code}" if exc.status_code >= 400 else "failed while answering"
        detail = _api_message(exc.body)
        if detail:
            what += f": {detail}"
    elif isinstance(exc, anthropic.APIError | openai.APIError):  # an error event in a stream
        what = "failed while answering"
        detail = _api_message(exc.body)
        if detail:
            what += f": {detail}"
    elif isinstance(exc, ValueError):
        what = "sent a reply that could not be read"
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
