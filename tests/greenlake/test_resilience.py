"""Retries, rate limits, the circuit breaker and pacing, against the simulator over real HTTP.

Waits go through the fake clock (`fake_clock.sleeps`); where the simulator's own rate limiter must see the
same time as the client, it is given the fake clock too, so a 60-second window passes in no time.
"""

from __future__ import annotations

import httpx
import pytest

from glp_pipeline.greenlake.errors import (
    CircuitOpenError,
    GreenLakeUnavailableError,
    NetworkError,
    ServerError,
)
from glp_pipeline.simulator.ratelimit import SlidingWindowLimiter

from .conftest import api_requests, settled_log

DEVICES = "/devices/v1/devices"


def _share_clock(sim, fake_clock) -> None:
    """Let the simulator's rate limiter run on the test's fake clock."""
    sim.limiter = SlidingWindowLimiter(clock=fake_clock)


def _statuses(sim, path: str = DEVICES) -> list[int]:
    return [r.status for r in api_requests(sim, path)]


@pytest.mark.parametrize("retry_after", [True, False], ids=["Retry-After", "ratelimit-reset"])
def test_429_waits_what_the_server_asks_then_succeeds(serve, make_client, fake_clock, retry_after) -> None:
    sim, server = serve(devices_list_rpm=2, retry_after=retry_after)
    _share_clock(sim, fake_clock)
    client = make_client(server, pacing=False)
    for _ in range(3):
        assert client.get_json(DEVICES, {"limit": 1})["items"]
    assert _statuses(sim) == [200, 200, 429, 200]
    assert client.stats.rate_limited == 1
    assert client.stats.retries == 1
    # The window frees its first slot 60 s after the first request: the client waited that long (plus jitter).
    assert len(fake_clock.sleeps) == 1
    assert 60 <= fake_clock.sleeps[0] <= 61
    assert client.stats.backoff_wait_seconds == pytest.approx(fake_clock.sleeps[0])


def test_429_burst_without_any_hint_backs_off_exponentially(serve, make_client, fake_clock) -> None:
    sim, server = serve(retry_after=False, rate_limit_headers=False)
    client = make_client(server, pacing=False, backoff_initial_seconds=1.0)
    sim.faults.rate_limit_burst = 2
    assert client.get_json(DEVICES, {"limit": 1})["items"]
    assert _statuses(sim) == [429, 429, 200]
    first, second = fake_clock.sleeps
    assert 1 <= first <= 2 and 2 <= second <= 3


def test_429_burst_with_retry_after(serve, make_client, fake_clock) -> None:
    sim, server = serve(retry_after=True)
    client = make_client(server, pacing=False)
    sim.faults.rate_limit_burst = 2
    assert client.get_json(DEVICES, {"limit": 1})["items"]
    assert _statuses(sim) == [429, 429, 200]
    assert all(1 <= wait <= 1.1 for wait in fake_clock.sleeps)  # Retry-After: 1, not the backoff
    assert client.stats.rate_limited == 2


def test_5xx_burst_then_success(serve, make_client, fake_clock) -> None:
    sim, server = serve()
    client = make_client(server)
    sim.faults.error_burst = 3
    assert client.get_json(DEVICES, {"limit": 2})["items"]
    assert _statuses(sim) == [503, 503, 503, 200]
    assert client.stats.server_errors == 3
    assert client.stats.retries == 3
    assert fake_clock.sleeps == sorted(fake_clock.sleeps)  # exponential
    assert fake_clock.sleeps[-1] >= 4


def test_5xx_retries_run_out_with_the_servers_message(serve, make_client, fake_clock) -> None:
    sim, server = serve()
    sim.faults.error_rate = 1.0
    sim.faults.error_statuses = (500,)
    sim.faults.retry_info_seconds = 5
    client = make_client(server, max_attempts=3, breaker_failures=10)
    with pytest.raises(ServerError) as info:
        client.get_json(DEVICES)
    error = info.value
    assert isinstance(error, GreenLakeUnavailableError)
    assert error.status_code == 500 and error.retry_hint == 5
    assert "attempt 3 of 3" in str(error) and "Internal Server Error" in str(error)
    assert len(api_requests(sim)) == 3
    assert all(wait >= 5 for wait in fake_clock.sleeps)  # the body's retry_info hint was honoured


def test_dropped_connections_are_retried(serve, make_client) -> None:
    sim, server = serve(devices=120, seed=5)
    sim.faults.drop_rate = 0.3
    client = make_client(server, breaker_failures=50)
    pages = client.list_devices(page_size=10)
    ids = {item["id"] for page in pages for item in page.items}
    assert ids == {d["id"] for d in sim.devices()}
    assert pages.result.complete
    dropped = [r for r in settled_log(sim) if r.fault == "drop"]
    assert dropped and client.stats.network_errors == len(dropped)


def test_truncated_bodies_are_retried(serve, make_client) -> None:
    sim, server = serve(devices=120, seed=6)
    sim.faults.truncate_rate = 0.3
    client = make_client(server, breaker_failures=50)
    pages = client.list_devices(page_size=10)
    ids = {item["id"] for page in pages for item in page.items}
    assert ids == {d["id"] for d in sim.devices()}
    truncated = [r for r in settled_log(sim) if r.fault == "truncate"]
    assert truncated and client.stats.network_errors == len(truncated)


def test_connection_refused_becomes_unavailable_after_retries(make_client, fake_clock) -> None:
    class Dead:
        base_url = "http://127.0.0.1:9"  # discard port: nothing listens
        token_url = "http://127.0.0.1:9/as/token.oauth2"

    client = make_client(Dead(), max_attempts=3)
    with pytest.raises(NetworkError) as info:
        client.get_json(DEVICES)
    assert "ConnectError" in str(info.value) and "token endpoint" in str(info.value)
    assert len(fake_clock.sleeps) == 2


def test_circuit_breaker_opens_fails_fast_and_recovers_half_open(serve, make_client, fake_clock) -> None:
    sim, server = serve()
    client = make_client(server, max_attempts=10, breaker_failures=5, breaker_reset_seconds=60)
    sim.faults.error_rate = 1.0
    with pytest.raises(CircuitOpenError) as info:
        client.get_json(DEVICES)
    assert len(api_requests(sim)) == 5  # five failed attempts opened it; the sixth was refused
    assert "5 consecutive failures" in str(info.value)
    assert info.value.retry_at.tzinfo is not None

    with pytest.raises(CircuitOpenError):
        client.get_json(DEVICES)  # fails fast: nothing sent
    assert len(api_requests(sim)) == 5
    assert client.stats.breaker_rejections == 2

    fake_clock.advance(60)  # half-open: one probe; it fails, so the breaker opens again at once
    with pytest.raises(CircuitOpenError):
        client.get_json(DEVICES)
    assert len(api_requests(sim)) == 6

    sim.faults.error_rate = 0.0
    fake_clock.advance(60)
    assert client.get_json(DEVICES, {"limit": 1})["items"]  # the probe succeeds and closes the breaker
    assert client.breaker.state == "closed"
    assert client.get_json(DEVICES, {"limit": 1})["items"]


def test_4xx_do_not_trip_the_breaker(serve, make_client) -> None:
    from glp_pipeline.greenlake.errors import NotFoundError

    _, server = serve()
    client = make_client(server, breaker_failures=2)
    for _ in range(4):
        with pytest.raises(NotFoundError):
            client.get_device("00000000-0000-4000-8000-000000000000")
    assert client.breaker.state == "closed"
    assert client.stats.retries == 0


def test_pacing_keeps_a_small_budget_without_any_429(serve, make_client, fake_clock) -> None:
    sim, server = serve(devices=60, devices_list_rpm=3)
    _share_clock(sim, fake_clock)
    client = make_client(server, endpoint_rpm={"GET /devices/v1/devices": 3})
    pages = client.list_devices(page_size=10)
    assert len({item["id"] for page in pages for item in page.items}) == 60
    assert _statuses(sim) == [200] * 7  # 60 items in pages of 10 that overlap by one
    assert client.stats.rate_limited == 0
    assert client.stats.pacing_wait_seconds == pytest.approx(120, abs=1)  # 3 now, 3 at +60 s, 1 at +120 s


def test_without_pacing_the_same_listing_meets_429s(serve, make_client, fake_clock) -> None:
    sim, server = serve(devices=60, devices_list_rpm=3)
    _share_clock(sim, fake_clock)
    client = make_client(server, pacing=False)
    pages = client.list_devices(page_size=10)
    assert len({item["id"] for page in pages for item in page.items}) == 60
    assert client.stats.rate_limited >= 1  # the control: it is the pacing that avoids them


def test_pacing_learns_from_ratelimit_remaining(serve, make_client, fake_clock) -> None:
    # The client believes the published 160/min; the server allows 3. `ratelimit-remaining: 0` teaches it.
    sim, server = serve(devices=60, devices_list_rpm=3)
    _share_clock(sim, fake_clock)
    client = make_client(server)
    pages = client.list_devices(page_size=10)
    assert len({item["id"] for page in pages for item in page.items}) == 60
    assert 429 not in _statuses(sim)
    assert client.stats.pacing_wait_seconds >= 59


def test_invalid_json_in_a_200_is_retried(fake_clock) -> None:
    """A 200 whose body is not JSON (a proxy page, a cut body) is retried like a 5xx.

    The simulator cannot send that, so this one test uses httpx's transport layer; the client's own code
    runs unchanged.
    """
    from glp_pipeline.greenlake import ClientConfig, GreenLakeClient

    answers = iter([b'{"items": [', b"<html>gateway</html>", b'{"items": [], "total": 0}'])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("token.oauth2"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 900})
        return httpx.Response(200, content=next(answers))

    http = httpx.Client(base_url="http://glp.invalid", transport=httpx.MockTransport(handler))
    config = ClientConfig(
        base_url="http://glp.invalid",
        token_url="http://glp.invalid/as/token.oauth2",
        client_id="c",
        client_secret="s",
    )
    client = GreenLakeClient(config, http_client=http, clock=fake_clock, sleep=fake_clock.sleep)
    assert client.get_json(DEVICES) == {"items": [], "total": 0}
    assert client.stats.retries == 2 and client.stats.network_errors == 2


def test_request_is_the_same_machinery_for_writes(serve, make_client) -> None:
    """The general `request` path: a POST is repeated after a 429, never after a 5xx (it may have acted)."""
    from glp_pipeline.greenlake.errors import ApiError

    sim, server = serve()
    client = make_client(server)
    body = {"network": [], "compute": [], "storage": []}

    sim.faults.error_burst = 1
    with pytest.raises(ServerError):
        client.request("POST", DEVICES, json=body)
    assert len(api_requests(sim)) == 1

    sim.faults.rate_limit_burst = 1
    with pytest.raises(ApiError) as info:  # an add of no device: 400 after the retried 429
        client.request("POST", DEVICES, json=body)
    assert [r.status for r in api_requests(sim)][1:] == [429, 400]
    assert info.value.status_code == 400

    sim.faults.error_burst = 1  # PATCH (merge-patch) is idempotent: retried after a 5xx
    with pytest.raises(ApiError):
        client.request(
            "PATCH",
            DEVICES,
            params={"id": ["5b1e2c44-0c55-5a7f-9d0e-1a2b3c4d5e6f"]},
            json={"tags": {"site": None}},
            headers={"Content-Type": "application/merge-patch+json"},
        )
    assert [r.status for r in api_requests(sim)][3:] == [503, 400]  # v1 has no tags
    assert api_requests(sim)[-1].query == {"id": ["5b1e2c44-0c55-5a7f-9d0e-1a2b3c4d5e6f"]}
