"""Central's two rate-limit regimes (greenlake-api.md E.1, E.2) on top of the GreenLake sliding window.

New Central: one budget per hour per client, reported as `X-RateLimit-Limit/-Remaining/-Reset`, where the
spec calls Reset an RFC 3339 time and a widely used client reads an integer; the format is a setting.
Classic: 7 calls per second (sliding) and a daily allowance that resets at 00:00 UTC (a fixed window, as
documented), both reported on every response as `X-RateLimit-{Limit,Remaining}-{second,day}`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..ratelimit import SlidingWindowLimiter

HOUR = 3600.0


def reset_header(seconds: int, fmt: str, wall: Callable[[], float] = time.time) -> str:
    """`X-RateLimit-Reset` in the configured format: RFC 3339 (UTC), seconds from now, or epoch seconds."""
    if fmt == "seconds":
        return str(seconds)
    at = wall() + seconds
    if fmt == "epoch":
        return str(math.ceil(at))
    return datetime.fromtimestamp(math.ceil(at), UTC).isoformat().replace("+00:00", "Z")


class DailyCounter:
    """Calls per key per UTC day; the count starts again at 00:00 UTC. Thread-safe."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._counts: dict[Hashable, tuple[int, int]] = {}  # key -> (UTC day number, calls)
        self._lock = threading.Lock()

    def remaining(self, key: Hashable, limit: int) -> int:
        with self._lock:
            return max(0, limit - self._count(key))

    def hit(self, key: Hashable, limit: int) -> tuple[bool, int]:
        """(allowed, remaining after this call); a refused call is not counted."""
        with self._lock:
            count = self._count(key)
            if count >= limit:
                return False, 0
            self._counts[key] = (self._day(), count + 1)
            return True, limit - count - 1

    def seconds_to_midnight(self) -> int:
        now = datetime.fromtimestamp(self._wall(), UTC)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(1, math.ceil((midnight - now).total_seconds()))

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def _day(self) -> int:
        return int(self._wall() // 86_400)

    def _count(self, key: Hashable) -> int:
        day, count = self._counts.get(key, (self._day(), 0))
        return count if day == self._day() else 0


@dataclass(frozen=True)
class ClassicDecision:
    """One Classic call against both budgets; `headers` go on the response, allowed or not."""

    allowed: bool
    headers: dict[str, str]
    retry_after: int


class ClassicLimiter:
    """Per-second (sliding, 1 s) and per-day (fixed, UTC) budgets of one Classic application."""

    def __init__(self) -> None:
        self.second = SlidingWindowLimiter()
        self.day = DailyCounter()

    def hit(self, key: Hashable, per_second: int, per_day: int) -> ClassicDecision:
        """Count a call if both budgets allow it; the per-second one is asked first, as a gateway does.

        A call the day refuses still took its per-second slot: harmless, it is refused either way."""
        second = self.second.hit((key, "second"), per_second, 1.0)
        if second.allowed:
            day_allowed, day_remaining = self.day.hit(key, per_day)
        else:
            day_allowed, day_remaining = True, self.day.remaining(key, per_day)
        headers = {
            "X-RateLimit-Limit-second": str(per_second),
            "X-RateLimit-Remaining-second": str(second.remaining),
            "X-RateLimit-Limit-day": str(per_day),
            "X-RateLimit-Remaining-day": str(day_remaining),
        }
        retry = 1 if not second.allowed else self.day.seconds_to_midnight()
        return ClassicDecision(second.allowed and day_allowed, headers, retry)

    def reset(self) -> None:
        self.second.reset()
        self.day.reset()
