"""A fake OpenAI embeddings API behind `httpx2.MockTransport`, so the real `openai` SDK runs end to end.

Vectors are deterministic and meaningful enough to test recall: each word (lower-cased, a plural `s`
dropped, stop words skipped) adds 1 at a position and sign taken from its hash, and the sum is normalised.
Texts that share words are near (cosine ≈ the share of common words); texts that share none are nearly
orthogonal. It honours `dimensions` (else answers `native_dimensions`) and both encodings, records every
request, and can be told to fail (an HTTP status or a timeout).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
from dataclasses import dataclass, field
from typing import Any

import httpx2

STOP_WORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "have", "how", "i"),
        *("in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "that", "the", "there", "this", "to"),
        *("was", "we", "what", "when", "where", "which", "who", "will", "with", "you", "your"),
    }
)


def words(text: str) -> list[str]:
    out = []
    for word in re.findall(r"[a-z0-9][a-z0-9\-]*", text.lower()):
        if word in STOP_WORDS:
            continue
        out.append(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return out


def vector(text: str, dimensions: int) -> list[float]:
    values = [0.0] * dimensions
    for word in words(text) or ["<empty>"]:
        digest = hashlib.sha256(word.encode()).digest()
        position = int.from_bytes(digest[:4], "big") % dimensions
        values[position] += 1.0 if digest[4] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


@dataclass
class FakeEmbeddings:
    native_dimensions: int = 1536
    failure: int | str | None = None  # an HTTP status, or "timeout"
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self.handle))

    @property
    def inputs(self) -> list[str]:
        """Every text embedded so far, in order."""
        return [text for body in self.requests for text in _as_list(body.get("input"))]

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        assert request.url.path.endswith("/embeddings"), request.url
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if self.failure == "timeout":
            raise httpx2.ReadTimeout("timed out", request=request)
        if isinstance(self.failure, int):
            error = {"error": {"message": "The server is overloaded", "type": "server_error", "code": None}}
            return httpx2.Response(self.failure, json=error, headers={"retry-after-ms": "10"})
        dimensions = body.get("dimensions") or self.native_dimensions
        data = []
        for n, text in enumerate(_as_list(body["input"])):
            values = vector(text, dimensions)
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
            else:
                encoded = values
            data.append({"object": "embedding", "index": n, "embedding": encoded})
        return httpx2.Response(200, json={
            "object": "list", "data": data, "model": body.get("model"),
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        })  # fmt: skip


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])
