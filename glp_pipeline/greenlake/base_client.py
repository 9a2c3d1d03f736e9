"""`ResilientClient`: the request machinery every API client of GLP Sync runs on (GreenLake, Aruba Central).

Each logical request goes through the same steps, in this order, once per HTTP attempt:

    circuit breaker (fail fast while open) → pacing (budgets) → bearer token → HTTP → classify

and the attempts are driven by the tenacity policy of `retry.py`: 429s wait what the server asks, 5xx and
network failures back off exponentially with jitter, 4xx other than 401/429 are raised at once.
A 401 drops the token, fetches a new one and repeats the request once inside the same attempt; a second
401 is an AuthenticationError.

Why one base class: the GreenLake client and the two Aruba Central clients differ in how a token is obtained,
how budgets are counted, how lists are paged and what an error body says, not in how a request survives a
flaky API. Those differences are the hooks below (`tokens`, `pacer`, `_pacing_key`, `_observe`,
`_api_error`); the loop itself exists once.

Sleeping and time are injectable (`sleep=`, `clock=`) so tests record waits instead of spending them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson

from glp_pipeline.greenlake.auth import CachedTokenManager
from glp_pipeline.greenlake.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ErrorEnvelope,
    ForbiddenError,
    GreenLakeError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from glp_pipeline.greenlake.pacing import Pacer, endpoint_key
from glp_pipeline.greenlake.retry import (
    CircuitBreaker,
    RetryPolicy,
    is_retryable,
    parse_retry_after,
    rate_limit_delay,
)
from glp_pipeline.greenlake.stats import ClientStats, StatsRecorder

log = logging.getLogger(__name__)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class ResilientClient:
    """Synchronous, thread-safe API client core. Use as a context manager, or call `close()`.

    A subclass sets `tokens` (a `CachedTokenManager`) and `pacer` (a `Pacer`) in its `__init__`, after
    calling this one. Class attributes name the service in messages and say what to check when a fresh
    token is refused (`unauthorized_hint`), and which query parameters a 400 message repeats.
    """

    service: str = "GreenLake"
    unauthorized_hint: str = "check the API client's workspace and permissions, and GLP_TOKEN_URL"
    echoed_params: tuple[str, ...] = ("filter", "filter-tags", "sort", "select", "limit")

    tokens: CachedTokenManager
    pacer: Pacer

    def __init__(
        self,
        *,
        base_url: str,
        request_timeout_seconds: float,
        user_agent: str,
        policy: RetryPolicy,
        breaker_failures: int,
        breaker_reset_seconds: float,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        """`http_client`: an httpx.Client whose `base_url` is `base_url` (for event hooks or a custom
        transport); the caller keeps it and closes it. `sleep`/`clock`/`rng` make waits and jitter testable.
        """
        self.base_url = base_url
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(request_timeout_seconds),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )
        self._stats = StatsRecorder()
        self._policy = policy
        self.breaker = CircuitBreaker(
            failure_threshold=breaker_failures,
            reset_seconds=breaker_reset_seconds,
            clock=clock,
            name=f"{self.service} API",
        )

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying httpx.Client (only if this client created it)."""
        if self._owns_http:
            self._http.close()

    @property
    def stats(self) -> ClientStats:
        """A snapshot of the counters (requests, retries, 429s, 401 refreshes, token fetches, waits, ...)."""
        return self._stats.snapshot()

    # --- public API ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """One API call with auth, pacing, retry and breaker. Returns the 2xx/3xx response, raises otherwise.

        `idempotent` defaults to True for every method but POST. A non-idempotent request is repeated only
        when the server cannot have acted on it (429, or a failure before the request was sent).
        """
        response, _ = self._execute(
            method, path, params, json, headers, parse_json=False, idempotent=idempotent
        )
        return response

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET `path` and return its JSON object. A 200 with an unreadable body is retried like a 5xx."""
        _, body = self._execute("GET", path, params, None, None, parse_json=True, idempotent=True)
        return body

    # --- hooks --------------------------------------------------------------------------------------

    def _pacing_key(self, method: str, path: str) -> str:
        """The pacing bucket of a request: the endpoint (method + path template) by default."""
        return endpoint_key(method, path)

    def _observe(self, key: str, response: httpx.Response) -> None:
        """Learn from a response's rate-limit headers (any status)."""
        self.pacer.observe(key, response.headers)

    def _on_rate_limited(self, key: str, error: ApiError) -> None:
        """A 429 arrived: hold the bucket for what the server asked, so no other thread sends meanwhile."""
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            self.pacer.hold(key, min(error.retry_after, self._policy.max_retry_after_seconds))

    # --- machinery ----------------------------------------------------------------------------------

    def _execute(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        *,
        parse_json: bool,
        idempotent: bool | None,
        retry_if: Callable[[BaseException], bool] | None = None,
    ) -> tuple[httpx.Response, Any]:
        """One logical request; `retry_if` replaces the idempotency rule of `is_retryable` (writes)."""
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        key = self._pacing_key(method, path)
        query = {k: v for k, v in (params or {}).items() if v is not None}

        def on_retry(exc: BaseException, attempt: int, delay: float) -> None:
            self._stats.add("retries")
            log.warning("%s; retrying in %.1f s", exc, delay)

        retrying = self._policy.retrying(
            should_retry=retry_if or (lambda exc: is_retryable(exc, idempotent=bool(idempotent))),
            sleep=self._backoff_sleep,
            rng=self._rng,
            on_retry=on_retry,
        )
        outcome: tuple[httpx.Response, Any] | None = None
        for attempt in retrying:
            with attempt:
                outcome = self._attempt(
                    method, path, key, query, json, headers, parse_json, attempt.retry_state.attempt_number
                )
        assert outcome is not None
        return outcome

    def _backoff_sleep(self, seconds: float) -> None:
        self._stats.add("backoff_wait_seconds", seconds)
        self._sleep(seconds)

    def _attempt(
        self,
        method: str,
        path: str,
        key: str,
        query: dict[str, Any],
        json: Any,
        headers: Mapping[str, str] | None,
        parse_json: bool,
        attempt_number: int,
    ) -> tuple[httpx.Response, Any]:
        where = f"{method} {path} (attempt {attempt_number} of {self._policy.max_attempts})"
        refreshed = False
        while True:  # runs twice at most: once more after a 401 with a fresh token
            try:
                probe = self.breaker.before_call()
            except CircuitOpenError:
                self._stats.add("breaker_rejections")
                raise
            reported = False
            try:
                waited = self.pacer.acquire(key)
                if waited:
                    self._stats.add("pacing_wait_seconds", waited)
                try:
                    token = self.tokens.get_token()
                except GreenLakeError as exc:
                    exc.retryable = False  # the token manager has already spent its own retries
                    raise
                request_headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
                self._stats.add("requests")
                try:
                    response = self._http.request(
                        method, path, params=query, json=json, headers=request_headers
                    )
                except httpx.TransportError as exc:
                    self._stats.add("network_errors")
                    reason = f"{type(exc).__name__}: {exc}"
                    self.breaker.record_failure(f"{reason} on {method} {path}", probe=probe)
                    reported = True
                    raise NetworkError(
                        self.tokens.redact(
                            f"Could not reach {self.service} at {self.base_url}: {where} failed: {reason}"
                        ),
                        request_sent=not isinstance(exc, _NOT_SENT),
                    ) from exc
                self._observe(key, response)
                status = response.status_code
                if status >= 500:
                    self._stats.add("server_errors")
                    self.breaker.record_failure(f"HTTP {status} on {method} {path}", probe=probe)
                    reported = True
                    raise self._api_error(response, method, path, where, query)
                body: Any = None
                if parse_json and status < 300:
                    try:
                        body = orjson.loads(response.content)
                    except orjson.JSONDecodeError:
                        self._stats.add("network_errors")
                        self.breaker.record_failure(f"unreadable JSON on {method} {path}", probe=probe)
                        reported = True
                        raise InvalidResponseError(
                            f"{self.service} {where} returned HTTP {status} with a body that is not valid "
                            f"JSON ({len(response.content)} bytes; truncated?)"
                        ) from None
                    if not isinstance(body, dict):
                        raise InvalidResponseError(
                            f"{self.service} {where} returned JSON {type(body).__name__}, expected an object",
                            retryable=False,
                        )
                self.breaker.record_success(probe=probe)
                reported = True
            finally:
                if not reported:
                    self.breaker.release(probe=probe)

            if status == 401:
                self.tokens.invalidate(token)
                if refreshed:
                    raise AuthenticationError(
                        f"{self.service} rejected a freshly issued token for {method} {path} (HTTP 401 "
                        f"twice): {self.unauthorized_hint}"
                    )
                refreshed = True
                self._stats.add("auth_refreshes")
                log.info(
                    "%s answered 401 to %s %s; fetching a new token and repeating once",
                    self.service,
                    method,
                    path,
                )
                continue
            if status == 429:
                self._stats.add("rate_limited")
                error = self._api_error(response, method, path, where, query)
                self._on_rate_limited(key, error)
                raise error
            if status >= 400:
                raise self._api_error(response, method, path, where, query)
            return response, body

    def _api_error(
        self, response: httpx.Response, method: str, path: str, where: str, query: Mapping[str, Any]
    ) -> GreenLakeError:
        """Turn an error response into the matching ApiError, with the server's message and issues."""
        status = response.status_code
        envelope = ErrorEnvelope.from_response(response)
        text = envelope.message or response.reason_phrase or "error"
        issues = envelope.issues_text()
        if issues:
            text = f"{text} ({issues})"
        if envelope.error_code:
            text = f"{text} [{envelope.error_code}]"
        if envelope.debug_id:
            text = f"{text} debugId={envelope.debug_id}"
        text = self.tokens.redact(text)
        service = self.service
        common: dict[str, Any] = {"status_code": status, "method": method, "path": path, "envelope": envelope}
        if status == 429:
            return RateLimitedError(
                f"{service} rate limit hit on {where}: {text}",
                retry_after=rate_limit_delay(response.headers),
                **common,
            )
        if status >= 500:
            return ServerError(
                f"{service} {where} answered {status}: {text}",
                retry_hint=envelope.retry_after_seconds,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                **common,
            )
        if status in (400, 422):
            request_bits = ", ".join(f"{k} {query[k]!r}" for k in self.echoed_params if k in query)
            suffix = f" ({request_bits})" if request_bits else ""
            return BadRequestError(
                f"{service} rejected the request {method} {path}: {text}{suffix}", **common
            )
        if status == 403:
            return ForbiddenError(
                f"{service} refused {method} {path} (403): {text}; the API client's user lacks a permission",
                **common,
            )
        if status == 404:
            return NotFoundError(f"{service} has no {path} ({method} → 404): {text}", **common)
        return ApiError(f"{service} {method} {path} answered {status}: {text}", **common)
