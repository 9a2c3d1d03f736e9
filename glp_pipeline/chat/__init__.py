"""Language models over the inventory: the providers (Anthropic first, OpenAI as the fallback) and
questions answered with guarded SQL (`ask`). The chat agent (issue 8) builds on both."""

from glp_pipeline.chat.providers import (
    AnthropicProvider,
    ChatReply,
    ChatRequest,
    FallbackProvider,
    Message,
    OpenAIProvider,
    Provider,
    ProviderError,
    ProviderNotConfigured,
    configured_providers,
    provider_from_settings,
)
from glp_pipeline.chat.text_to_sql import Answer, ask, extract_sql

__all__ = [
    "Answer",
    "AnthropicProvider",
    "ChatReply",
    "ChatRequest",
    "FallbackProvider",
    "Message",
    "OpenAIProvider",
    "Provider",
    "ProviderError",
    "ProviderNotConfigured",
    "ask",
    "configured_providers",
    "extract_sql",
    "provider_from_settings",
]
