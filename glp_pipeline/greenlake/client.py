"""`GreenLakeClient`: the one HTTP client every part of GLP Sync uses to talk to GreenLake.

Each logical request goes through the same machinery, in this order, once per HTTP attempt:

    circuit breaker (fail fast while open) → pacing (endpoint budget) → bearer token → HTTP → classify

and the attempts are driven by the tenacity policy of `retry.py`: 429s wait what the server asks, 5xx and
network failures back off exponentially with jitter, 4xx other than 401/429 are raised at once.
A 401 drops the token, fetches a new one and repeats the request once inside the same attempt; a second
401 is an AuthenticationError. Reads (`get_json`, the list/get helpers, `iter_pages`), the general `request`
and the device writes of `write_client.py` (`submit_device_patch`, `wait_for_operation`,
`apply_device_operation`, `service_managers`, ...) share all of it; the writes only narrow what may be
retried (`retry.is_write_retryable`).

Sleeping and time are injectable (`sleep=`, `clock=`) so tests record waits instead of spending them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import orjson

from glp_pipeline.greenlake.auth import TokenManager
from glp_pipeline.greenlake.config import DEVICES_PATH, SUBSCRIPTIONS_PATH, ClientConfig
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
from glp_pipeline.greenlake.paging import Page, PageIterator
from glp_pipeline.greenlake.retry import (
    CircuitBreaker,
    RetryPolicy,
    is_retryable,
    parse_retry_after,
    rate_limit_delay,
)
from glp_pipeline.greenlake.stats import ClientStats, StatsRecorder
from glp_pipeline.greenlake.write_client import DeviceWritesMixin

if TYPE_CHECKING:
    from glp_pipeline.settings import Settings

log = logging.getLogger(__name__)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class GreenLakeClient(DeviceWritesMixin):
    """Synchronous, thread-safe GreenLake client. Use as a context manager, or call `close()`."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        """`http_client`: an httpx.Client whose `base_url` is `config.base_url` (for event hooks or a custom
        transport); the caller keeps it and closes it. `sleep`/`clock`/`rng` make waits and jitter testable.
        """
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            base_url=config.base_url,
            timeout=httpx.Timeout(config.request_timeout_seconds),
            headers={"User-Agent": config.user_agent, "Accept": "application/json"},
        )
        self._stats = StatsRecorder()
        self._policy = RetryPolicy(
            max_attempts=config.max_attempts,
            backoff_initial_seconds=config.backoff_initial_seconds,
            backoff_max_seconds=config.backoff_max_seconds,
            max_retry_after_seconds=config.max_retry_after_seconds,
        )
        self.tokens = TokenManager(
            self._http,
            token_url=config.token_url,
            client_id=config.client_id,
            client_secret=config.client_secret,
            auth_method=config.token_auth_method,
            scope=config.token_scope,
            policy=self._policy,
            stats=self._stats,
            clock=clock,
            sleep=sleep,
            rng=self._rng,
        )
        self.breaker = CircuitBreaker(
            failure_threshold=config.breaker_failures, reset_seconds=config.breaker_reset_seconds, clock=clock
        )
        self.pacer = Pacer(
            config.budgets(), default_rpm=config.default_rpm, enabled=config.pacing, clock=clock, sleep=sleep
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        **overrides: Any,
    ) -> GreenLakeClient:
        """A client configured from `glp_pipeline.settings.Settings`.

        Keyword `overrides` replace config fields (e.g. `pacing=False` for a benchmark against the unpaced
        simulator); raises AuthenticationError naming GLP_CLIENT_ID / GLP_CLIENT_SECRET when they are unset.
        """
        config = ClientConfig.from_settings(settings, **overrides)
        return cls(config, http_client=http_client, sleep=sleep, clock=clock, rng=rng)

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> GreenLakeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying httpx.Client (only if this client created it)."""
        if self._owns_http:
            self._http.close()

    def __repr__(self) -> str:
        return (
            f"GreenLakeClient(base_url={self.config.base_url!r}, token_url={self.config.token_url!r}, "
            f"client_id={self.config.client_id!r}, pacing={self.config.pacing})"
        )

    __str__ = __repr__

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
        when GreenLake cannot have acted on it (429, or a failure before the request was sent).
        """
        response, _ = self._execute(
            method, path, params, json, headers, parse_json=False, idempotent=idempotent
        )
        return response

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET `path` and return its JSON object. A 200 with an unreadable body is retried like a 5xx."""
        _, body = self._execute("GET", path, params, None, None, parse_json=True, idempotent=True)
        return body

    def iter_pages(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        page_size: int = 100,
        on_page: Callable[[Page], None] | None = None,
        max_reconcile_attempts: int | None = None,
    ) -> PageIterator:
        """Every page of a `limit`/`offset` listing, checked for completeness (see `paging.py`).

        Iterate it; afterwards `.result` is the PagingResult. Pages of a reconcile pass repeat items already
        seen: merge on id, and take `.result.ids` as the final membership.
        """
        attempts = (
            self.config.max_reconcile_attempts if max_reconcile_attempts is None else max_reconcile_attempts
        )

        def fetch(query: dict[str, Any]) -> dict[str, Any]:
            body = self.get_json(path, query)
            self._stats.add("pages")
            return body

        return PageIterator(
            fetch,
            path=path,
            params=params,
            page_size=page_size,
            max_reconcile_attempts=attempts,
            on_page=on_page,
            on_reconcile=lambda attempt, reasons: self._stats.add("reconcile_passes"),
            verify_boundaries=self.config.verify_page_boundaries,
        )

    def list_devices(
        self,
        filter: str | None = None,
        sort: str | None = None,
        page_size: int | None = None,
        *,
        on_page: Callable[[Page], None] | None = None,
    ) -> PageIterator:
        """`GET /devices/v1/devices`, every page (limit default 2000, the documented maximum)."""
        return self.iter_pages(
            DEVICES_PATH,
            params={"filter": filter, "sort": sort},
            page_size=page_size or self.config.devices_page_size,
            on_page=on_page,
        )

    def list_subscriptions(
        self,
        filter: str | None = None,
        sort: str | None = None,
        page_size: int | None = None,
        *,
        on_page: Callable[[Page], None] | None = None,
    ) -> PageIterator:
        """`GET /subscriptions/v1/subscriptions`, every page (limit default 50; 200 on newer API versions)."""
        return self.iter_pages(
            SUBSCRIPTIONS_PATH,
            params={"filter": filter, "sort": sort},
            page_size=page_size or self.config.subscriptions_page_size,
            on_page=on_page,
        )

    def get_device(self, device_id: str) -> dict[str, Any]:
        """`GET /devices/v1/devices/{id}`; NotFoundError if GreenLake does not know it."""
        return self.get_json(f"{DEVICES_PATH}/{quote(str(device_id), safe='')}")

    def get_subscription(self, subscription_id: str) -> dict[str, Any]:
        """`GET /subscriptions/v1/subscriptions/{id}`; NotFoundError if GreenLake does not know it."""
        return self.get_json(f"{SUBSCRIPTIONS_PATH}/{quote(str(subscription_id), safe='')}")

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
        key = endpoint_key(method, path)
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
                            f"Could not reach GreenLake at {self.config.base_url}: {where} failed: {reason}"
                        ),
                        request_sent=not isinstance(exc, _NOT_SENT),
                    ) from exc
                self.pacer.observe(key, response.headers)
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
                            f"GreenLake {where} returned HTTP {status} with a body that is not valid JSON "
                            f"({len(response.content)} bytes; truncated?)"
                        ) from None
                    if not isinstance(body, dict):
                        raise InvalidResponseError(
                            f"GreenLake {where} returned JSON {type(body).__name__}, expected an object",
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
                        f"GreenLake rejected a freshly issued token for {method} {path} (HTTP 401 twice): "
                        f"check the API client's workspace and permissions, and GLP_TOKEN_URL"
                    )
                refreshed = True
                self._stats.add("auth_refreshes")
                log.info(
                    "GreenLake answered 401 to %s %s; fetching a new token and repeating once", method, path
                )
                continue
            if status == 429:
                self._stats.add("rate_limited")
                error = self._api_error(response, method, path, where, query)
                if isinstance(error, RateLimitedError) and error.retry_after is not None:
                    self.pacer.hold(key, min(error.retry_after, self._policy.max_retry_after_seconds))
                raise error
            if status >= 400:
                raise self._api_error(response, method, path, where, query)
            return response, body

    def _api_error(
        self, response: httpx.Response, method: str, path: str, where: str, query: Mapping[str, Any]
    ) -> ApiError:
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
        common: dict[str, Any] = {"status_code": status, "method": method, "path": path, "envelope": envelope}
        if status == 429:
            return RateLimitedError(
                f"GreenLake rate limit hit on {where}: {text}",
                retry_after=rate_limit_delay(response.headers),
                **common,
            )
        if status >= 500:
            return ServerError(
                f"GreenLake {where} answered {status}: {text}",
                retry_hint=envelope.retry_after_seconds,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                **common,
            )
        if status in (400, 422):
            request_bits = ", ".join(
                f"{k} {query[k]!r}"
                for k in ("filter", "filter-tags", "sort", "select", "limit")
                if k in query
            )
            suffix = f" ({request_bits})" if request_bits else ""
            return BadRequestError(
                f"GreenLake rejected the request {method} {path}: {text}{suffix}", **common
            )
        if status == 403:
            return ForbiddenError(
                f"GreenLake refused {method} {path} (403): {text}; the API client's user lacks a permission",
                **common,
            )
        if status == 404:
            return NotFoundError(f"GreenLake has no {path} ({method} → 404): {text}", **common)
        return ApiError(f"GreenLake {method} {path} answered {status}: {text}", **common)
