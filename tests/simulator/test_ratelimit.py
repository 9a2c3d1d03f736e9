"""Per-endpoint sliding-window budgets, the 429 envelope and the rate-limit headers."""

from __future__ import annotations

import time
from collections.abc import Callable

from glp_pipeline.simulator.ratelimit import SlidingWindowLimiter

from .support import Live

Serve = Callable[..., Live]
DEVICES, SUBSCRIPTIONS = "/devices/v1/devices", "/subscriptions/v1/subscriptions"
HEADER_NAMES = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
                "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")  # fmt: skip


def test_budget_is_enforced_with_headers_and_the_glp_envelope(serve: Serve) -> None:
    live = serve(devices_list_rpm=3)
    remaining = []
    for _ in range(3):
        response = live.get(DEVICES, limit=1)
        assert response.status_code == 200
        assert all(name in response.headers for name in HEADER_NAMES)
        assert response.headers["ratelimit-limit"] == response.headers["x-ratelimit-limit"] == "3"
        remaining.append(response.headers["ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]
    refused = live.get(DEVICES, limit=1)
    assert refused.status_code == 429
    body = refused.json()
    assert body["httpStatusCode"] == 429
    assert body["errorCode"] == "HPE_GL_ERROR_TOO_MANY_REQUESTS"
    assert body["message"] == "Too Many Requests"
    assert body["debugId"]
    assert body["errorDetails"]
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 0 < int(refused.headers["ratelimit-reset"]) <= 60
    assert "retry-after" not in refused.headers


def test_retry_after_only_when_enabled(serve: Serve) -> None:
    live = serve(devices_list_rpm=1, retry_after=True)
    assert live.get(DEVICES, limit=1).status_code == 200
    refused = live.get(DEVICES, limit=1)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_budgets_are_per_endpoint(serve: Serve) -> None:
    live = serve(devices_list_rpm=1, subscriptions_list_rpm=2, device_rpm=1)
    assert live.get(DEVICES, limit=1).status_code == 200
    assert live.get(DEVICES, limit=1).status_code == 429
    device_id = live.sim.devices()[0]["id"]
    by_id = live.get(f"{DEVICES}/{device_id}")
    assert by_id.status_code == 200
    assert by_id.headers["ratelimit-limit"] == "1"
    subs = live.get(SUBSCRIPTIONS)
    assert subs.status_code == 200
    assert subs.headers["ratelimit-limit"] == "2"


def test_errors_after_the_budget_check_still_carry_headers(serve: Serve) -> None:
    live = serve(devices_list_rpm=5)
    response = live.get(DEVICES, limit=0)
    assert response.status_code == 400
    assert response.headers["ratelimit-remaining"] == "4"


def test_reset_rate_limits_refills_every_budget(serve: Serve) -> None:
    live = serve(devices_list_rpm=1)
    assert live.get(DEVICES, limit=1).status_code == 200
    assert live.get(DEVICES, limit=1).status_code == 429
    live.sim.reset_rate_limits()
    assert live.get(DEVICES, limit=1).status_code == 200


def test_window_slides(serve: Serve) -> None:
    live = serve(devices_list_rpm=2, rate_limit_window_seconds=1.0)
    assert [live.get(DEVICES, limit=1).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.1)
    assert live.get(DEVICES, limit=1).status_code == 200


def test_rate_limits_can_be_switched_off(serve: Serve) -> None:
    live = serve(devices_list_rpm=1, rate_limits=False)
    responses = [live.get(DEVICES, limit=1) for _ in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert "ratelimit-limit" not in responses[0].headers


def test_token_endpoint_has_its_own_budget(serve: Serve) -> None:
    live = serve(token_rpm=2)
    assert [live.fetch_token().status_code for _ in range(3)] == [200, 200, 429]


def test_sliding_window_unit() -> None:
    now = [100.0]
    limiter = SlidingWindowLimiter(clock=lambda: now[0])
    assert limiter.hit("k", 2, 60).allowed
    now[0] = 130.0
    second = limiter.hit("k", 2, 60)
    assert (second.allowed, second.remaining, second.reset_seconds) == (True, 0, 30)
    refused = limiter.hit("k", 2, 60)
    assert (refused.allowed, refused.reset_seconds) == (False, 30)
    now[0] = 160.0  # the first request leaves the window
    assert limiter.hit("k", 2, 60).allowed
    assert not limiter.hit("k", 2, 60).allowed
    assert limiter.hit("other", 2, 60).allowed
