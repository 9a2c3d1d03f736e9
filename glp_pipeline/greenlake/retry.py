"""Retry policy (tenacity) and the circuit breaker around each HTTP attempt.

Why tenacity: it already does attempt counting, stop conditions and jittered exponential backoff, and it takes
an injectable `sleep`, so tests can record the waits instead of sleeping. What it cannot know is GreenLake's
rate-limit vocabulary, so the wait function here reads the server's hints first (`Retry-After`, then
`ratelimit-reset` / `X-RateLimit-Reset`, then the error body's `retry_info`), and falls back to backoff.

Why not pybreaker: pybreaker 1.4 holds its lock (an RLock) for the whole duration of the guarded call, so
every HTTP request through one breaker would run one at a time, and it reads `datetime.now()` directly, so the
open → half-open transition cannot be driven by an injected clock. The breaker below is the same state machine
(closed → open after N consecutive failures → half-open after the reset time → one probe), holds its lock
only to change state, takes a clock, and lets the caller say which outcomes count: only 5xx and network
failures are failures; any other answer (200, 400, 404, 429, ...) proves GreenLake is up.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import tenacity

from glp_pipeline.greenlake.errors import (
    CircuitOpenError,
    GreenLakeError,
    NetworkError,
    RateLimitedError,
    ServerError,
)

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# Values above this are epoch seconds rather than a delay (X-RateLimit-Reset comes both ways in the wild).
_EPOCH_THRESHOLD = 1_000_000_000


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def parse_reset(value: str | None, *, now: datetime | None = None) -> float | None:
    """`ratelimit-reset` / `X-RateLimit-Reset` as seconds from now.

    GreenLake documents seconds until the window resets; other HPE APIs send epoch seconds or an RFC 3339
    timestamp, so all three are accepted.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    now = now or datetime.now(UTC)
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    if number > _EPOCH_THRESHOLD:
        return max(0.0, number - now.timestamp())
    return max(0.0, number)


def rate_limit_delay(headers: Mapping[str, str]) -> float | None:
    """The wait a 429 asks for: `Retry-After`, else `ratelimit-reset`, else `X-RateLimit-Reset`."""
    delay = parse_retry_after(headers.get("retry-after"))
    if delay is None:
        delay = parse_reset(headers.get("ratelimit-reset"))
    if delay is None:
        delay = parse_reset(headers.get("x-ratelimit-reset"))
    return delay


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. One policy serves the API and the token endpoint."""

    max_attempts: int = 6
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    max_retry_after_seconds: float = 120.0

    def wait_seconds(self, exc: BaseException | None, attempt_number: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt `attempt_number` (1-based) that raised `exc`."""
        backoff = self._backoff(attempt_number, rng)
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            # Honour the server's word, plus a little jitter so many threads do not return in lockstep.
            hint = min(exc.retry_after, self.max_retry_after_seconds)
            return hint + rng.uniform(0, min(1.0, 0.1 * hint))
        if isinstance(exc, ServerError):
            hint = exc.retry_after if exc.retry_after is not None else exc.retry_hint
            if hint is not None:
                return max(backoff, min(hint, self.backoff_max_seconds))
        return backoff

    def _backoff(self, attempt_number: int, rng: random.Random) -> float:
        """Exponential backoff with jitter: initial · 2^(n-1) + U(0, initial), capped."""
        base = self.backoff_initial_seconds * (2 ** (attempt_number - 1))
        jitter = rng.uniform(0, self.backoff_initial_seconds)
        return min(base + jitter, self.backoff_max_seconds)

    def retrying(
        self,
        *,
        should_retry: Callable[[BaseException], bool],
        sleep: Sleep,
        rng: random.Random,
        on_retry: Callable[[BaseException, int, float], None] | None = None,
    ) -> tenacity.Retrying:
        """A tenacity controller for one logical request. Re-raises the last error when attempts run out."""

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.wait_seconds(exc, state.attempt_number, rng)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            if on_retry is not None and exc is not None:
                on_retry(exc, state.attempt_number, delay)

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=tenacity.retry_if_exception(should_retry),
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=True,
        )


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    """Whether another attempt may help and is safe.

    A non-idempotent request (POST) is repeated only when the server cannot have acted on it: a 429, or a
    network failure before the request was sent.
    """
    if not isinstance(exc, GreenLakeError) or not exc.retryable:
        return False
    if idempotent:
        return True
    if isinstance(exc, RateLimitedError):
        return True
    return isinstance(exc, NetworkError) and not exc.request_sent


def is_write_retryable(exc: BaseException) -> bool:
    """Whether a device write (PATCH/POST that starts an async operation) may be sent again.

    Only when GreenLake's answer shows it did not act: a 429, a failure before the request left (connect
    error, connect or pool timeout), or a 503 that says when to come back (`Retry-After`: the service refused
    the request rather than failing half-way). A 500, 502, 504, a 503 without `Retry-After`, a read timeout
    or a dropped connection after sending may hide an accepted write: never repeated (the write helpers
    raise `WriteOutcomeUnknownError` instead).
    """
    if not isinstance(exc, GreenLakeError) or not exc.retryable:
        return False
    if isinstance(exc, RateLimitedError):
        return True
    if isinstance(exc, NetworkError):
        return not exc.request_sent
    return isinstance(exc, ServerError) and exc.status_code == 503 and exc.retry_after is not None


class CircuitBreaker:
    """Consecutive-failure circuit breaker, thread-safe, clock-injectable (module docstring: why)."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_seconds: float = 60.0,
        clock: Clock = time.monotonic,
        name: str = "GreenLake API",
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = self.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._last_failure = ""

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == self.OPEN and self._clock() >= self._opened_at + self.reset_seconds:
                return self.HALF_OPEN
            return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def before_call(self) -> bool:
        """Admit a call or raise CircuitOpenError. True when the admitted call is the half-open probe."""
        with self._lock:
            if self._state == self.CLOSED:
                return False
            now = self._clock()
            if self._state == self.OPEN:
                remaining = self._opened_at + self.reset_seconds - now
                if remaining > 0:
                    raise self._open_error(remaining, "")
                self._state = self.HALF_OPEN
                self._probe_in_flight = False
                log.info("%s circuit breaker half-open: letting one probe through", self.name)
            if self._probe_in_flight:
                raise self._open_error(0.0, "a probe request is in flight; ")
            self._probe_in_flight = True
            return True

    def record_success(self, *, probe: bool) -> None:
        """GreenLake answered (any status but 5xx)."""
        with self._lock:
            if self._state == self.CLOSED:
                self._failures = 0
            elif probe and self._state == self.HALF_OPEN:
                log.info("%s circuit breaker closed: the probe succeeded", self.name)
                self._state = self.CLOSED
                self._failures = 0
                self._probe_in_flight = False
            # A late success of a call admitted before the breaker opened proves little: ignore it.

    def record_failure(self, reason: str, *, probe: bool) -> None:
        """A 5xx or a network failure."""
        with self._lock:
            self._last_failure = reason
            if self._state == self.CLOSED:
                self._failures += 1
                if self._failures >= self.failure_threshold:
                    self._open()
            elif probe and self._state == self.HALF_OPEN:
                self._failures += 1
                self._open()

    def release(self, *, probe: bool) -> None:
        """The admitted call ended without telling anything about GreenLake's health (e.g. token failure)."""
        if probe:
            with self._lock:
                if self._state == self.HALF_OPEN:
                    self._probe_in_flight = False

    def _open(self) -> None:
        self._state = self.OPEN
        self._opened_at = self._clock()
        self._probe_in_flight = False
        log.warning(
            "%s circuit breaker opened after %d consecutive failures (last: %s); failing fast for %.0f s",
            self.name,
            self._failures,
            self._last_failure,
            self.reset_seconds,
        )

    def _open_error(self, remaining: float, extra: str) -> CircuitOpenError:
        retry_at = datetime.now(UTC) + timedelta(seconds=max(0.0, remaining))
        last = f" (last: {self._last_failure})" if self._last_failure else ""
        return CircuitOpenError(
            f"{self.name} circuit breaker is open after {self._failures} consecutive failures{last}; "
            f"{extra}failing fast, next attempt allowed at {retry_at.isoformat(timespec='seconds')} "
            f"(in {remaining:.0f} s)",
            retry_at=retry_at,
            failures=self._failures,
        )
