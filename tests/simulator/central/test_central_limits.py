"""Rate limits of both generations, their headers, and the faults in Central's own error shapes."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from glp_pipeline.simulator.central.limits import DailyCounter, reset_header

from .support import NEW, CentralLive

Central = Callable[..., CentralLive]
APS = "/monitoring/v2/aps"


def test_new_central_hourly_budget_headers_and_429(central: Central) -> None:
    live = central(new_rate_limit_per_hour=3)
    remaining = []
    for _ in range(3):
        response = live.get(f"{NEW}/devices", limit=1)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "3"
        remaining.append(response.headers["x-ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]
    refused = live.get(f"{NEW}/clients", limit=1)  # one budget for every network-monitoring endpoint
    assert refused.status_code == 429
    body = refused.json()
    assert body["httpStatusCode"] == 429
    assert body["errorCode"] == "HPE_GL_ERROR_TOO_MANY_REQUESTS"
    assert body["debugId"]
    assert refused.headers["x-ratelimit-remaining"] == "0"
    reset = datetime.fromisoformat(refused.headers["x-ratelimit-reset"])
    assert reset.tzinfo is not None
    assert 0 < (reset - datetime.now(UTC)).total_seconds() <= 3601
    assert "retry-after" not in refused.headers
    live.sim.reset_rate_limits()
    assert live.get(f"{NEW}/devices", limit=1).status_code == 200


@pytest.mark.parametrize(("fmt", "pattern"), [("rfc3339", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"),
                                              ("seconds", r"^\d{1,4}$"), ("epoch", r"^\d{10}$")])  # fmt: skip
def test_reset_header_format_is_configurable(central: Central, fmt: str, pattern: str) -> None:
    live = central(rate_limit_reset_format=fmt)
    assert re.match(pattern, live.get(f"{NEW}/aps", limit=1).headers["x-ratelimit-reset"])


def test_reset_header_values() -> None:
    wall = lambda: 1_700_000_000.2  # noqa: E731
    assert reset_header(60, "seconds", wall) == "60"
    assert reset_header(60, "epoch", wall) == "1700000061"
    assert reset_header(60, "rfc3339", wall) == "2023-11-14T22:14:21Z"


def test_errors_after_the_budget_check_carry_the_headers(central: Central) -> None:
    live = central(new_rate_limit_per_hour=10)
    response = live.get(f"{NEW}/devices", unknown="1")
    assert response.status_code == 400
    assert response.headers["x-ratelimit-remaining"] == "9"


def test_retry_after_when_enabled(central: Central) -> None:
    live = central(new_rate_limit_per_hour=1, classic_per_second=1, retry_after=True)
    assert live.get(f"{NEW}/devices", limit=1).status_code == 200
    assert int(live.get(f"{NEW}/devices", limit=1).headers["retry-after"]) >= 1
    live.classic_token  # noqa: B018 - fetch the token before counting calls
    assert live.get(APS, limit=1).status_code == 200
    assert live.get(APS, limit=1).headers["retry-after"] == "1"


def test_classic_per_second_limit_with_kongs_body(central: Central) -> None:
    live = central()
    live.classic_token  # noqa: B018
    statuses, remaining = [], []
    for _ in range(8):
        response = live.get(APS, limit=1)
        statuses.append(response.status_code)
        remaining.append(response.headers["x-ratelimit-remaining-second"])
        assert response.headers["x-ratelimit-limit-second"] == "7"
        assert response.headers["x-ratelimit-limit-day"] == "5000"
    if statuses != [200] * 7 + [429]:  # a slow machine may cross a second boundary: never more than 7/s
        pytest.skip(f"calls spread over more than a second: {statuses}")
    assert remaining == ["6", "5", "4", "3", "2", "1", "0", "0"]
    refused = live.get(APS, limit=1)
    assert refused.status_code == 429
    assert refused.json() == {"message": "API rate limit exceeded"}
    time.sleep(1.05)
    assert live.get(APS, limit=1).status_code == 200


def test_classic_per_day_limit(central: Central) -> None:
    live = central(classic_per_day=3)
    live.classic_token  # noqa: B018
    days = []
    for _ in range(3):
        response = live.get(APS, limit=1)
        assert response.status_code == 200
        days.append(response.headers["x-ratelimit-remaining-day"])
        time.sleep(0.15)  # stay under 7/s
    assert days == ["2", "1", "0"]
    refused = live.get(APS, limit=1)
    assert refused.status_code == 429
    assert refused.json() == {"message": "API rate limit exceeded"}
    assert refused.headers["x-ratelimit-remaining-day"] == "0"
    assert live.get(f"{NEW}/devices", limit=1).status_code == 200  # New Central has its own budget


def test_daily_counter_resets_at_utc_midnight() -> None:
    now = [datetime(2026, 3, 1, 23, 59, 58, tzinfo=UTC).timestamp()]
    counter = DailyCounter(wall=lambda: now[0])
    assert counter.hit("k", 2) == (True, 1)
    assert counter.hit("k", 2) == (True, 0)
    assert counter.hit("k", 2) == (False, 0)
    assert counter.seconds_to_midnight() == 2
    now[0] += 3
    assert counter.hit("k", 2) == (True, 1)


def test_rate_limits_can_be_switched_off(central: Central) -> None:
    live = central(rate_limits=False, new_rate_limit_per_hour=1, classic_per_second=1)
    assert [live.get(f"{NEW}/devices", limit=1).status_code for _ in range(3)] == [200] * 3
    assert [live.get(APS, limit=1).status_code for _ in range(3)] == [200] * 3
    assert "x-ratelimit-limit-second" not in live.get(APS, limit=1).headers


def test_injected_faults_speak_each_generations_language(central: Central) -> None:
    live = central()
    live.classic_token  # noqa: B018
    live.sim.faults.rate_limit_burst = 2
    new = live.get(f"{NEW}/devices", limit=1)
    assert new.status_code == 429
    assert new.json()["errorCode"] == "HPE_GL_ERROR_TOO_MANY_REQUESTS"
    assert new.headers["x-ratelimit-remaining"] == "0"
    classic = live.get(APS, limit=1)
    assert classic.status_code == 429
    assert classic.json() == {"message": "API rate limit exceeded"}
    assert classic.headers["x-ratelimit-remaining-second"] == "0"
    live.sim.faults.error_burst = 2
    assert live.get(f"{NEW}/devices").json()["httpStatusCode"] == 503
    assert "message" in live.get(APS).json()
    live.sim.faults.error_rate, live.sim.faults.error_statuses = 1.0, (500,)
    assert live.get(f"{NEW}/devices").json()["errorCode"] == "HPE_GL_NETWORK_MONITORING_INTERNAL_SERVER_ERROR"
    live.sim.faults.error_rate = 0.0
    assert live.fetch_new_token().status_code == 200  # token endpoints are exempt
    faults = [(r.path, r.status, r.fault) for r in live.sim.request_log if r.fault]
    assert faults[:2] == [(f"{NEW}/devices", 429, "rate_limit_burst"), (APS, 429, "rate_limit_burst")]
    assert len(faults) == 5
