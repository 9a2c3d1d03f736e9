"""Pure pieces of the client: header parsing, endpoint keys, the error envelope, the breaker, refresh timing.

No HTTP here; the behaviour against a server lives in the other test modules (real HTTP on loopback).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from glp_pipeline.greenlake.auth import refresh_margin
from glp_pipeline.greenlake.errors import (
    CircuitOpenError,
    ErrorEnvelope,
    GreenLakeUnavailableError,
    NetworkError,
    RateLimitedError,
    ServerError,
)
from glp_pipeline.greenlake.pacing import Pacer, endpoint_key
from glp_pipeline.greenlake.retry import (
    CircuitBreaker,
    RetryPolicy,
    is_retryable,
    parse_reset,
    parse_retry_after,
    rate_limit_delay,
)


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("get", "/devices/v1/devices", "GET /devices/v1/devices"),
        ("GET", "/devices/v1/devices/5b1e2c44-0c55-5a7f-9d0e-1a2b3c4d5e6f", "GET /devices/v1/devices/{id}"),
        ("GET", "/devices/v1/devices/?limit=5", "GET /devices/v1/devices"),
        ("GET", "/subscriptions/v1/subscriptions/abc", "GET /subscriptions/v1/subscriptions/{id}"),
        ("GET", "/devices/v1/async-operations/0d3e", "GET /devices/v1/async-operations/{id}"),
        ("GET", "/devices/v2beta1/devices/group", "GET /devices/v2beta1/devices/group"),
        ("PATCH", "/devices/v2beta1/devices", "PATCH /devices/v2beta1/devices"),
        ("GET", "/locations/v1/locations/123456", "GET /locations/v1/locations/{id}"),
    ],
)
def test_endpoint_key_folds_ids_into_templates(method: str, path: str, key: str) -> None:
    assert endpoint_key(method, path) == key


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_reset_accepts_seconds_epoch_and_rfc3339() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_reset("12", now=now) == 12.0
    assert parse_reset(str(int(now.timestamp()) + 20), now=now) == 20.0
    assert parse_reset("2026-01-01T12:00:45Z", now=now) == 45.0
    assert parse_reset("junk", now=now) is None


def test_rate_limit_delay_prefers_retry_after_then_ratelimit_reset() -> None:
    assert rate_limit_delay({"retry-after": "3", "ratelimit-reset": "40"}) == 3.0
    assert rate_limit_delay({"ratelimit-reset": "40", "x-ratelimit-reset": "50"}) == 40.0
    assert rate_limit_delay({"x-ratelimit-reset": "50"}) == 50.0
    assert rate_limit_delay({}) is None


@pytest.mark.parametrize(
    "key",
    ["errorDetails", "badRequestErrorDetails", "generalErrorDetails", "serverErrorDetails", "errorDetail"],
)
def test_error_envelope_reads_every_details_key(key: str) -> None:
    issue = {"source": "query.parameter", "subject": "filter", "description": "unknown property 'colour'"}
    detail = {"type": "hpe.greenlake.bad_request", "issues": [issue]}
    body = {
        "httpStatusCode": 400,
        "errorCode": "HPE_GL_ERROR_BAD_REQUEST",
        "message": "Bad filter",
        "debugId": "d-1",
        key: detail if key == "errorDetail" else [detail],
    }
    envelope = ErrorEnvelope.from_body(body)
    assert envelope.error_code == "HPE_GL_ERROR_BAD_REQUEST"
    assert envelope.message == "Bad filter"
    assert envelope.issues_text() == "query.parameter filter: unknown property 'colour'"


def test_error_envelope_reads_retry_info_hint() -> None:
    body = {
        "message": "boom",
        "errorDetails": [{"type": "hpe.greenlake.retry_info", "retryAfterSeconds": 30}],
    }
    assert ErrorEnvelope.from_body(body).retry_after_seconds == 30.0


def test_wait_honours_retry_after_and_caps_it() -> None:
    policy = RetryPolicy(max_retry_after_seconds=20, backoff_initial_seconds=1, backoff_max_seconds=8)
    rng = random.Random(1)
    limited = RateLimitedError("x", retry_after=5, status_code=429, method="GET", path="/p")
    assert 5 <= policy.wait_seconds(limited, 1, rng) <= 5.5
    huge = RateLimitedError("x", retry_after=500, status_code=429, method="GET", path="/p")
    assert 20 <= policy.wait_seconds(huge, 1, rng) <= 21
    # Without a hint: exponential backoff with jitter, capped.
    waits = [policy.wait_seconds(NetworkError("x", request_sent=True), n, rng) for n in range(1, 7)]
    assert 1 <= waits[0] <= 2 and 2 <= waits[1] <= 3 and waits[-1] == 8
    # A 5xx retry_info hint is honoured up to the backoff cap.
    hinted = ServerError("x", retry_hint=6, status_code=500, method="GET", path="/p")
    assert policy.wait_seconds(hinted, 1, rng) == 6


def test_non_idempotent_requests_retry_only_when_the_server_cannot_have_acted() -> None:
    server = ServerError("x", status_code=503, method="POST", path="/p")
    limited = RateLimitedError("x", status_code=429, method="POST", path="/p")
    assert is_retryable(server, idempotent=True)
    assert not is_retryable(server, idempotent=False)
    assert is_retryable(limited, idempotent=False)
    assert is_retryable(NetworkError("x", request_sent=False), idempotent=False)
    assert not is_retryable(NetworkError("x", request_sent=True), idempotent=False)
    assert not is_retryable(ServerError("x", status_code=501, method="GET", path="/p"), idempotent=True)


def test_breaker_opens_fails_fast_and_lets_one_probe_through(fake_clock) -> None:
    clock = fake_clock
    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=60, clock=clock)
    for _ in range(3):
        probe = breaker.before_call()
        breaker.record_failure("HTTP 503", probe=probe)
    assert breaker.state == CircuitBreaker.OPEN
    with pytest.raises(CircuitOpenError) as info:
        breaker.before_call()
    assert isinstance(info.value, GreenLakeUnavailableError)
    assert info.value.retry_at.tzinfo is not None
    assert "3 consecutive failures" in str(info.value)

    clock.advance(60)
    assert breaker.before_call() is True  # the probe
    with pytest.raises(CircuitOpenError, match="probe"):
        breaker.before_call()  # a second caller while the probe is in flight
    breaker.record_failure("HTTP 503", probe=True)
    assert breaker.state == CircuitBreaker.OPEN  # failed probe: open again for a full period

    clock.advance(60)
    assert breaker.before_call() is True
    breaker.record_success(probe=True)
    assert breaker.state == CircuitBreaker.CLOSED
    assert breaker.before_call() is False


def test_breaker_counts_consecutive_failures_only(fake_clock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=60, clock=fake_clock)
    breaker.record_failure("503", probe=False)
    breaker.record_success(probe=False)  # e.g. a 404: GreenLake is up
    breaker.record_failure("503", probe=False)
    assert breaker.state == CircuitBreaker.CLOSED


def test_refresh_margin_is_ten_percent_clamped_and_reuses_short_tokens() -> None:
    rng = random.Random(3)
    assert 90 <= refresh_margin(900, rng) <= 99  # 10 % of 15 min, + ≤10 % jitter
    assert 300 <= refresh_margin(7200, rng) <= 330  # clamped to 300 s
    assert 30 <= refresh_margin(120, rng) <= 33  # clamped up to 30 s
    assert refresh_margin(20, rng) == 10  # never more than half a short lifetime


def test_pacer_sliding_window_with_fake_clock(fake_clock) -> None:
    clock = fake_clock
    pacer = Pacer({"GET /x": 3}, clock=clock, sleep=clock.sleep)
    assert [pacer.acquire("GET /x") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.acquire("GET /x") == pytest.approx(60.0)
    assert pacer.acquire("GET /unknown") == 0.0  # default budget, own bucket
    pacer.observe("GET /x", {"ratelimit-remaining": "0", "ratelimit-reset": "17"})
    before = clock.now
    pacer.acquire("GET /x")
    assert clock.now - before >= 17


def test_pacer_disabled_never_waits(fake_clock) -> None:
    clock = fake_clock
    pacer = Pacer({"GET /x": 1}, enabled=False, clock=clock, sleep=clock.sleep)
    assert sum(pacer.acquire("GET /x") for _ in range(10)) == 0
    assert clock.sleeps == []
