"""Text embeddings for the chat's semantic memory: OpenAI's embeddings API, or any OpenAI-compatible server,
through the official `openai` SDK.

- The model and its vector length come from the settings (`GLP_EMBEDDING_MODEL`, default
  text-embedding-3-small at 1536 dimensions). The length must fit pgvector's HNSW index (at most 2000);
  other lengths are refused up front, and a server that answers with another length is an error that names
  the setting to change, rather than vectors that would never compare.
- Vectors are asked for as floats (`encoding_format="float"`): the SDK's default, base64, is not something
  every OpenAI-compatible server speaks.
- Like the chat providers, the key is passed to the SDK explicitly and never appears in errors; the
  constructor takes an `httpx2.Client` so tests run the real SDK against a fake HTTP transport.
- `space` names the model and length together: vectors of different models (or lengths) never compare, so
  the memory stores and searches each space apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import httpx2
import openai
from pydantic import SecretStr

from glp_pipeline.settings import MAX_HNSW_DIMENSIONS, Settings, check_embedding_dimensions

OPENAI_API_URL = "https://api.openai.com/v1"
NO_KEY = "not-needed"  # what the SDK sends to an OpenAI-compatible server that wants no key
BATCH = 64  # texts per request (OpenAI takes up to 2048; small batches keep a request quick)
MAX_CHARS = 8_000  # characters embedded per text (text-embedding-3 reads at most 8191 tokens)

NOT_CONFIGURED = (
    "No embedding provider is configured, so recall uses PostgreSQL full-text search. For semantic "
    "recall set OPENAI_API_KEY (or GLP_EMBEDDING_API_KEY), or GLP_EMBEDDING_BASE_URL for an "
    "OpenAI-compatible embeddings server."
)
DISABLED = "Embeddings are switched off (GLP_EMBEDDINGS_ENABLED=false), so recall uses full-text search."


class EmbeddingError(RuntimeError):
    """The embedder could not embed; the message is safe to show (no key, no text)."""


class Embedder:
    """Embeds texts with one model at one vector length (`space`)."""

    def __init__(
        self,
        api_key: SecretStr | str | None,
        model: str = "text-embedding-3-small",
        dimensions: int = 1536,
        *,
        base_url: str | None = None,
        timeout: float = 15.0,
        max_retries: int = 1,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.model = model
        self.dimensions = check_embedding_dimensions(dimensions)
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._secret = (key or "").strip() or None
        self.base_url = base_url or OPENAI_API_URL
        self._client = openai.OpenAI(
            api_key=self._secret or NO_KEY,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    @property
    def space(self) -> str:
        """The model and vector length, e.g. `text-embedding-3-small:1536`: what stored vectors are tagged
        with, since only vectors of one space compare."""
        return f"{self.model}:{self.dimensions}"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector per text, in order; raises `EmbeddingError`."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            batch = [(text or " ")[:MAX_CHARS] for text in texts[start : start + BATCH]]
            vectors += self._embed_batch(batch)
        return vectors

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        # Only the text-embedding-3 family takes `dimensions`; other models answer at their own length.
        shorten = {"dimensions": self.dimensions} if self.model.startswith("text-embedding-3") else {}
        try:
            response = self._client.embeddings.create(
                model=self.model, input=batch, encoding_format="float", **shorten
            )
        except openai.OpenAIError as exc:
            raise EmbeddingError(self._describe(exc)) from None
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(batch):
            raise EmbeddingError(
                f"The embedding server ({self.model}) returned {len(data)} vectors for {len(batch)} texts."
            )
        vectors = []
        for item in data:
            vector = [float(x) for x in item.embedding]
            if len(vector) != self.dimensions:
                raise EmbeddingError(
                    f"The embedding model {self.model} returned vectors of {len(vector)} dimensions, not the "
                    f"{self.dimensions} configured: set GLP_EMBEDDING_DIMENSIONS={len(vector)} (at most "
                    f"{MAX_HNSW_DIMENSIONS}) or choose another model."
                )
            vectors.append(_unit(vector))
        return vectors

    def _describe(self, exc: Exception) -> str:
        if isinstance(exc, openai.APITimeoutError):
            what = "timed out"
        elif isinstance(exc, openai.APIConnectionError):
            what = "could not be reached"
        elif isinstance(exc, openai.APIStatusError):
            what = f"answered HTTP {exc.status_code}"
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error", body)
            detail = error.get("message") if isinstance(error, dict) else None
            if isinstance(detail, str) and detail.strip():
                what += ": " + " ".join(detail.split())[:200]
        else:
            what = f"failed ({type(exc).__name__})"
        text = f"The embedding server ({self.model} at {self.base_url}) {what}."
        return text.replace(self._secret, "[redacted]") if self._secret else text

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()


def embedder_from_settings(
    settings: Settings, *, http_client: httpx2.Client | None = None
) -> Embedder | None:
    """The configured embedder, or None when there is none (switched off, or no key and no server).

    The server is GLP_EMBEDDING_BASE_URL, else GLP_OPENAI_BASE_URL (the chat's OpenAI-compatible server),
    else OpenAI; the key GLP_EMBEDDING_API_KEY, else OPENAI_API_KEY. A server of one's own may need no key."""
    if not settings.glp_embeddings_enabled:
        return None
    base_url = settings.glp_embedding_base_url or settings.glp_openai_base_url
    key = settings.glp_embedding_api_key or settings.openai_api_key
    if not (key and key.get_secret_value().strip()) and not base_url:
        return None
    return Embedder(
        key,
        settings.glp_embedding_model,
        settings.glp_embedding_dimensions,
        base_url=base_url,
        timeout=settings.glp_embedding_timeout_seconds,
        http_client=http_client,
    )


def not_configured_reason(settings: Settings) -> str:
    """Why `embedder_from_settings` gave None, in words for the UI."""
    return DISABLED if not settings.glp_embeddings_enabled else NOT_CONFIGURED


def vector_literal(vector: Sequence[float]) -> str:
    """pgvector's text form, `[0.1,0.2,...]`, to pass as a parameter cast to `vector`."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector
