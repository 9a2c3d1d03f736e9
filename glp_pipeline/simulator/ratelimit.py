"""Per-endpoint, per-workspace sliding-window rate limits (greenlake-api.md B.9, C.1, D).

A sliding log of request times rather than a fixed minute bucket: a client that paces itself at the published
budget must never see a 429, and one that bursts above it must, whatever second of the minute it starts in.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one request against its budget, with what the rate-limit headers report."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # seconds until the oldest counted request leaves the window (a slot frees)

    def headers(self, rate_headers: bool = True, retry_after: bool = False) -> dict[str, str]:
        """The `ratelimit-*`/`X-RateLimit-*` family (if rate_headers); `Retry-After` on a refusal if asked."""
        headers: dict[str, str] = {}
        if rate_headers:
            values = {"limit": self.limit, "remaining": self.remaining, "reset": self.reset_seconds}
            for name, value in values.items():
                headers[f"ratelimit-{name}"] = headers[f"X-RateLimit-{name.title()}"] = str(value)
        if retry_after and not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_seconds))
        return headers


class SlidingWindowLimiter:
    """Counts requests per key over the last `window` seconds; thread-safe (tests reset it from theirs)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Hashable, limit: int, window: float) -> RateDecision:
        """Record a request if the budget allows it; a refused request is not counted."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            reset = math.ceil(hits[0] + window - now) if hits else 0
            return RateDecision(allowed, limit, max(0, limit - len(hits)), max(0, reset))

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
