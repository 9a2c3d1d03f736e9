"""Client-side pacing: keep every endpoint under its published budget so a sync never meets a 429.

GreenLake budgets each endpoint per workspace per minute (reference B.9, C.1). The pacer keeps, per endpoint
(method + path template), the send times of the last minute and makes a caller wait when the budget is used
up: a sliding window of the same size as the server's never exceeds it. It also learns from the server: when a
response says `ratelimit-remaining: 0`, or a 429 arrives, the endpoint is held until the reset the server
names.

Aruba Central counts calls per account rather than per endpoint (New Central per hour, Classic per second
and per day, reference E). Those are `SharedLimit`s: windows every endpoint draws from, checked and reserved
under the same lock as the endpoint's own budget, so a request is sent only when every window has room.
A window that would make a caller wait longer than its `max_wait_seconds` (Classic's daily quota, which
resets at midnight UTC) raises `PacingBudgetError` instead of sleeping for hours.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from glp_pipeline.greenlake.errors import PacingBudgetError
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


@dataclass(frozen=True)
class SharedLimit:
    """A budget that every endpoint of an API draws from: at most `limit` requests per `window_seconds`.

    `max_wait_seconds`: when the window would make a caller wait longer than this, `acquire` raises
    `PacingBudgetError` (naming the limit) instead of sleeping; None waits however long it takes.
    """

    name: str
    limit: int
    window_seconds: float
    max_wait_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds <= 0:
            raise ValueError(f"pacing limit {self.name!r} needs limit ≥ 1 and a positive window")


_ALL = "*"  # the hold that applies to every endpoint (`hold_all`)


class Pacer:
    """Sliding-window limiter per endpoint, plus optional shared windows. `enabled=False`: no-op (benchmarks).

    `default_rpm=None` leaves endpoints that are not in `budgets` unlimited on their own (only the shared
    limits apply to them). `max_hold_seconds`: a hold the server asked for (`hold`, `hold_all`) that is
    longer than this raises `PacingBudgetError` instead of sleeping (New Central's hourly window can be spent
    for most of an hour); None waits however long (GreenLake's windows are a minute). `service` names the
    API in that error.
    """

    def __init__(
        self,
        budgets: Mapping[str, int] | None = None,
        *,
        default_rpm: int | None = DEFAULT_RPM,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_seconds: float = WINDOW_SECONDS,
        shared_limits: Sequence[SharedLimit] = (),
        max_hold_seconds: float | None = None,
        service: str = "GreenLake",
    ) -> None:
        self.budgets = dict(DEFAULT_BUDGETS if budgets is None else budgets)
        self.default_rpm = default_rpm
        self.enabled = enabled
        self.window_seconds = window_seconds
        self.shared_limits = tuple(shared_limits)
        self.max_hold_seconds = max_hold_seconds
        self.service = service
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: dict[str, deque[float]] = {}
        self._shared_sent: dict[str, deque[float]] = {limit.name: deque() for limit in self.shared_limits}
        self._held_until: dict[str, float] = {}

    def budget(self, key: str) -> int | None:
        """Requests per window of `key` on its own, or None when only the shared limits bound it."""
        return self.budgets.get(key, self.default_rpm)

    def acquire(self, key: str) -> float:
        """Wait until `key` may send one request, reserve it, and return the seconds waited."""
        if not self.enabled:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay = max(self._held_until.get(key, 0.0), self._held_until.get(_ALL, 0.0)) - now
                if self.max_hold_seconds is not None and delay > self.max_hold_seconds:
                    resumes = datetime.now(UTC) + timedelta(seconds=delay)
                    until = resumes.isoformat(timespec="seconds")
                    raise PacingBudgetError(
                        f"{self.service} said its rate-limit window is spent for {delay:.0f} s more (until "
                        f"{until}), longer than the {self.max_hold_seconds:g} s a request may wait",
                        resumes_at=resumes,
                    )
                if delay <= 0:
                    delay = self._window_delay(key, now)
                if delay <= 0:
                    self._reserve(key, now)
                    return waited
            delay = max(delay, 0.001)
            log.debug("pacing %s: waiting %.2f s", key, delay)
            self._sleep(delay)
            waited += delay

    def _window_delay(self, key: str, now: float) -> float:
        """Seconds until every window of `key` has room (0 when it has now); under the lock."""
        delay = 0.0
        budget = self.budget(key)
        if budget is not None:
            sent = self._sent.setdefault(key, deque())
            _expire(sent, now, self.window_seconds)
            if len(sent) >= budget:
                delay = sent[len(sent) - budget] + self.window_seconds - now
        for limit in self.shared_limits:
            sent = self._shared_sent[limit.name]
            _expire(sent, now, limit.window_seconds)
            if len(sent) >= limit.limit:
                wait = sent[len(sent) - limit.limit] + limit.window_seconds - now
                if limit.max_wait_seconds is not None and wait > limit.max_wait_seconds:
                    resumes = datetime.now(UTC) + timedelta(seconds=wait)
                    raise PacingBudgetError(
                        f"the client-side budget {limit.name!r} ({limit.limit} requests per "
                        f"{limit.window_seconds:g} s) is spent; the next request would have to wait "
                        f"{wait:.0f} s (until {resumes.isoformat(timespec='seconds')})",
                        resumes_at=resumes,
                    )
                delay = max(delay, wait)
        return delay

    def _reserve(self, key: str, now: float) -> None:
        if self.budget(key) is not None:
            self._sent.setdefault(key, deque()).append(now)
        for limit in self.shared_limits:
            self._shared_sent[limit.name].append(now)

    def hold(self, key: str, seconds: float) -> None:
        """Send nothing more to `key` for `seconds` (the server said its window is spent)."""
        if not self.enabled or seconds <= 0:
            return
        with self._lock:
            until = self._clock() + seconds
            if until > self._held_until.get(key, 0.0):
                self._held_until[key] = until

    def hold_all(self, seconds: float) -> None:
        """Send nothing to any endpoint for `seconds` (an account-wide window of the server is spent)."""
        self.hold(_ALL, seconds)

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


def _expire(sent: deque[float], now: float, window: float) -> None:
    while sent and sent[0] <= now - window:
        sent.popleft()
