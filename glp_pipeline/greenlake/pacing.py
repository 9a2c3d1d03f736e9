"""Client-side pacing: keep every endpoint under its published per-minute budget so a sync never meets a 429.

GreenLake budgets each endpoint per workspace per minute (reference B.9, C.1). The pacer keeps, per endpoint
(method + path template), the send times of the last minute and makes a caller wait when the budget is used
up: a sliding window of the same size as the server's never exceeds it. It also learns from the server: when a
response says `ratelimit-remaining: 0`, or a 429 arrives, the endpoint is held until the reset the server
names.

Why not pyrate-limiter: its API changed shape between major versions, it needs a bucket per endpoint anyway,
and its clock is harder to drive from tests than a plain callable. The window below is ~40 lines, thread-safe,
and takes an injected clock and sleep so tests never wait for real.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from glp_pipeline.greenlake.retry import parse_reset

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
DEFAULT_RPM = 10  # endpoints not in the table below: conservative

# Requests per minute, keyed by "METHOD /path/template". Where published values disagree, the lower is used.
DEFAULT_BUDGETS: Mapping[str, int] = {
    "GET /devices/v1/devices": 160,
    "GET /devices/v1/devices/{id}": 40,
    "POST /devices/v1/devices": 25,
    "PATCH /devices/v1/devices": 20,
    "GET /devices/v1/async-operations/{id}": 90,
    "POST /devices/v2beta1/devices": 25,
    "PATCH /devices/v2beta1/devices": 20,
    "GET /devices/v2beta1/devices": 300,
    "GET /devices/v2beta1/devices/{id}": 300,
    "GET /subscriptions/v1/subscriptions": 60,
    "GET /subscriptions/v1/subscriptions/{id}": 20,
    "POST /subscriptions/v1/subscriptions": 4,
    "PATCH /subscriptions/v1/subscriptions": 5,
    "GET /subscriptions/v1/async-operations/{id}": 30,
}

# A path segment that names one resource: a UUID, 32-hex workspace id, or anything with a digit after a
# collection segment. Collection names (`devices`, `async-operations`) contain no digits.
_COLLECTIONS = ("devices", "subscriptions", "async-operations", "auto-subscription-settings")
_ID_AFTER_COLLECTION = re.compile(r"^(/[a-z-]+/v\d+[a-z0-9]*/(?:" + "|".join(_COLLECTIONS) + r"))/[^/]+$")
# Elsewhere, segments that look like ids (UUIDs, long hex, numbers) are folded so one endpoint is one bucket.
_ID_SEGMENT = re.compile(r"/(?:[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|[0-9a-fA-F]{16,}|\d+)(?=/|$)")


def endpoint_key(method: str, path: str) -> str:
    """`GET /devices/v1/devices/5b1e...` → `GET /devices/v1/devices/{id}` (query strings dropped)."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    if not path.startswith("/"):
        path = "/" + path
    match = _ID_AFTER_COLLECTION.match(path)
    if match and not path.endswith("/group"):
        path = match.group(1) + "/{id}"
    else:
        path = _ID_SEGMENT.sub("/{id}", path)
    return f"{method.upper()} {path}"


class Pacer:
    """Per-endpoint sliding-window limiter. `enabled=False` makes every call a no-op (benchmarks)."""

    def __init__(
        self,
        budgets: Mapping[str, int] | None = None,
        *,
        default_rpm: int = DEFAULT_RPM,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        self.budgets = dict(DEFAULT_BUDGETS if budgets is None else budgets)
        self.default_rpm = default_rpm
        self.enabled = enabled
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: dict[str, deque[float]] = {}
        self._held_until: dict[str, float] = {}

    def budget(self, key: str) -> int:
        return self.budgets.get(key, self.default_rpm)

    def acquire(self, key: str) -> float:
        """Wait until `key` may send one request, reserve it, and return the seconds waited."""
        if not self.enabled:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay = self._held_until.get(key, 0.0) - now
                if delay <= 0:
                    sent = self._sent.setdefault(key, deque())
                    while sent and sent[0] <= now - self.window_seconds:
                        sent.popleft()
                    if len(sent) < self.budget(key):
                        sent.append(now)
                        return waited
                    delay = sent[0] + self.window_seconds - now
            delay = max(delay, 0.001)
            log.debug("pacing %s: waiting %.2f s", key, delay)
            self._sleep(delay)
            waited += delay

    def hold(self, key: str, seconds: float) -> None:
        """Send nothing more to `key` for `seconds` (the server said its window is spent)."""
        if not self.enabled or seconds <= 0:
            return
        with self._lock:
            until = self._clock() + seconds
            if until > self._held_until.get(key, 0.0):
                self._held_until[key] = until

    def observe(self, key: str, headers: Mapping[str, str]) -> None:
        """Learn from `ratelimit-remaining`/`ratelimit-reset` (or the `X-RateLimit-*` spelling)."""
        if not self.enabled:
            return
        remaining = headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining")
        if remaining is None:
            return
        try:
            if int(float(remaining)) > 0:
                return
        except ValueError:
            return
        reset = parse_reset(headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset"))
        if reset is None:
            reset = self.window_seconds
        log.info("GreenLake says %s has no requests left in this window; holding it %.1f s", key, reset)
        self.hold(key, reset)
