"""Both Central clients against the Central simulator over real HTTP: paging to the end, tokens (client
credentials; Classic's rotating refresh token), errors, retries and pacing. Waits use the fake clock."""

from __future__ import annotations

import logging

import httpx
import pytest

from glp_pipeline.central import MemoryTokenStore, RefreshTokenRejectedError, UnknownQueryParameterError
from glp_pipeline.central.config import CLASSIC_APS_PATH, NEW_APS_PATH, NEW_CLIENTS_PATH
from glp_pipeline.greenlake.errors import (
    AuthenticationError,
    BadRequestError,
    PacingBudgetError,
    ServerError,
)
from glp_pipeline.simulator.ratelimit import SlidingWindowLimiter

from .conftest import settled_log


def _api(sim, prefix: str) -> list:
    return [r for r in settled_log(sim) if r.path.startswith(prefix)]


def _token_posts(sim, path: str) -> list:
    return [r for r in settled_log(sim) if r.path == path]


# --- New Central ------------------------------------------------------------------------------------


def test_new_lists_follow_next_to_the_end(central, new_client) -> None:
    sim, server = central(page_cap=5)  # the server hands out at most 5 per page, whatever limit says
    client = new_client(sim, server, page_size=7)

    for name, truth in (("devices", sim.devices()), ("aps", sim.aps()), ("switches", sim.switches())):
        pages = getattr(client, f"list_{name}")()
        ids = [item["id"] for page in pages for item in page.items]
        assert sorted(ids) == sorted(r["id"] for r in truth), name
        assert pages.result.complete and pages.result.total_verified
        assert pages.result.total == len(truth)
        assert pages.result.pages == -(-len(truth) // 5)  # every page the server has, no more

    asked = [r.query.get("next", ["1"])[0] for r in _api(sim, "/network-monitoring/v1/devices")]
    assert asked == [str(n) for n in range(1, len(asked) + 1)]
    assert client.stats.token_requests == 1, "one token serves every page"


def test_new_clients_use_the_configured_filter(central, new_client) -> None:
    sim, server = central()
    client = new_client(sim, server)
    pages = client.list_clients()
    got = {item["id"] for page in pages for item in page.items}
    assert got == {c["id"] for c in sim.clients() if c["status"] in ("Connected", "Failed")}
    assert _api(sim, NEW_CLIENTS_PATH)[0].query["filter"] == ["status in ('Connected', 'Failed')"]

    every_status = "status in ('Connected', 'Failed', 'Connecting', 'Disconnected', 'Blocked')"
    everything = new_client(sim, server, clients_filter=every_status)
    assert sum(len(p.items) for p in everything.list_clients()) == len(sim.clients())


def test_unknown_query_parameter_is_a_clear_client_bug(central, new_client) -> None:
    sim, server = central()
    client = new_client(sim, server)
    with pytest.raises(UnknownQueryParameterError) as info:
        list(client.list_clients(bogus_scope="x"))
    error = info.value
    assert error.parameter == "bogus-scope"
    assert error.status_code == 400 and isinstance(error, BadRequestError)
    message = str(error)
    assert "'bogus-scope'" in message and "bug in GLP Sync's Central client" in message
    assert "unsupported" in message or "does not support" in message
    assert len(_api(sim, NEW_CLIENTS_PATH)) == 1, "a client bug is not retried"


def test_unknown_parameter_through_get_json(central, new_client) -> None:
    sim, server = central()
    with pytest.raises(UnknownQueryParameterError, match="'offset'"):
        new_client(sim, server).get_json(NEW_APS_PATH, {"offset": 0})


def test_other_400s_stay_bad_requests_with_the_servers_message(central, new_client) -> None:
    sim, server = central()
    with pytest.raises(BadRequestError) as info:
        list(new_client(sim, server).list_aps(filter="status eq 'ONLINE' or model eq 'AP-515'"))
    assert not isinstance(info.value, UnknownQueryParameterError)
    assert "only 'and' may combine conditions" in str(info.value)
    assert "HPE_GL_NETWORK_MONITORING_INVALID_INPUT" in str(info.value)


def test_new_429_and_5xx_are_retried(central, new_client, fake_clock) -> None:
    sim, server = central()
    client = new_client(sim, server, page_size=50)
    sim.faults.rate_limit_burst = 2
    sim.faults.error_burst = 0
    assert len([i for p in client.list_gateways() for i in p.items]) == len(sim.gateways())
    sim.faults.error_burst = 2
    assert len([i for p in client.list_switches() for i in p.items]) == len(sim.switches())
    statuses = [r.status for r in _api(sim, "/network-monitoring/")]
    assert statuses[:3] == [429, 429, 200] and statuses.count(503) == 2
    assert client.stats.rate_limited == 2 and client.stats.server_errors == 2
    assert client.stats.retries == 4
    assert all(wait < 5 for wait in fake_clock.sleeps), "the server asked for ~1 s, not the backoff cap"


def test_new_5xx_retries_run_out_with_a_clear_error(central, new_client) -> None:
    sim, server = central()
    sim.faults.error_rate = 1.0
    sim.faults.error_statuses = (500,)
    client = new_client(sim, server, max_attempts=3, breaker_failures=10)
    with pytest.raises(ServerError) as info:
        list(client.list_devices())
    assert "Aruba Central GET /network-monitoring/v1/devices (attempt 3 of 3) answered 500" in str(info.value)


def test_new_paces_under_the_hourly_budget(central, new_client, fake_clock) -> None:
    sim, server = central(new_rate_limit_per_hour=3)
    sim.limiter = SlidingWindowLimiter(clock=fake_clock)  # the server counts on the test's clock too
    client = new_client(sim, server, requests_per_hour=3, page_size=50, max_budget_wait_seconds=4000)
    for _ in range(2):
        list(client.list_gateways())
        list(client.list_switches())
    assert all(r.status == 200 for r in _api(sim, "/network-monitoring/"))
    assert client.stats.pacing_wait_seconds >= 3600, "the fourth call waited for the hour window"


@pytest.mark.parametrize("reset_format", ["rfc3339", "seconds", "epoch"])
def test_new_spent_hour_fails_at_once_rather_than_sleeping(central, new_client, reset_format) -> None:
    sim, server = central(new_rate_limit_per_hour=2, rate_limit_reset_format=reset_format)
    client = new_client(sim, server, page_size=100)
    list(client.list_switches())
    list(client.list_gateways())  # the answer says: 0 left for about an hour
    with pytest.raises(PacingBudgetError, match="Aruba Central said its rate-limit window is spent"):
        list(client.list_aps())
    assert len(_api(sim, "/network-monitoring/")) == 2, "nothing sent into a spent window"


def test_new_bad_credentials_name_the_settings(central, new_client) -> None:
    sim, server = central()
    client = new_client(sim, server, client_secret="wrong-secret-123")
    with pytest.raises(AuthenticationError) as info:
        list(client.list_devices())
    assert "ARUBA_CLIENT_ID / ARUBA_CLIENT_SECRET" in str(info.value)
    assert "wrong-secret-123" not in str(info.value)


def test_a_classic_token_is_refused_by_new_central(central, new_client, classic_client) -> None:
    sim, server = central()
    classic = classic_client(sim, server)
    list(classic.list_gateways())
    token = classic.tokens.get_token()
    response = httpx.get(
        f"{server.base_url}{NEW_APS_PATH}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert response.status_code == 401


# --- Classic Central --------------------------------------------------------------------------------


def test_classic_lists_page_by_offset_to_the_end(central, classic_client) -> None:
    sim, server = central(rate_limits=False)
    client = classic_client(sim, server, page_size=9)
    for name, key, truth in (
        ("aps", "serial", sim.classic_aps()),
        ("switches", "serial", sim.classic_switches()),
        ("gateways", "serial", sim.classic_gateways()),
    ):
        pages = getattr(client, f"list_{name}")()
        items = {item[key]: item for page in pages for item in page.items}
        assert items == {r[key]: r for r in truth}, name
        assert pages.result.total_verified and pages.result.count == len(truth)
    queries = _api(sim, CLASSIC_APS_PATH)
    assert all(r.query["calculate_total"] == ["true"] for r in queries)
    kinds = (("WIRELESS", "CONNECTED"), ("WIRED", "CONNECTED"), ("WIRELESS", "FAILED_TO_CONNECT"))
    for kind in kinds:
        macs = {item["macaddr"] for page in client.list_clients(*kind) for item in page.items}
        assert macs == {c["macaddr"] for c in sim.classic_clients(*kind)}, kind


def test_classic_refresh_rotates_and_the_new_pair_is_used_next_time(central, classic_client) -> None:
    sim, server = central()
    seed = sim.config.classic_refresh_token
    store = MemoryTokenStore()
    first = classic_client(sim, server, store=store)
    list(first.list_gateways())

    stored = store.tokens
    assert stored is not None and stored.rotations == 1
    assert stored.refresh_token != seed and stored.access_token
    # The server refuses the refresh token it replaced.
    refused = httpx.post(
        f"{server.base_url}/oauth2/token",
        params={
            "client_id": sim.config.classic_client_id,
            "client_secret": sim.config.classic_client_secret,
            "grant_type": "refresh_token",
            "refresh_token": seed,
        },
        timeout=5,
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"

    # A later client (a later run) starts from the stored pair: it reuses the access token ...
    second = classic_client(sim, server, store=store)
    list(second.list_gateways())
    assert second.stats.token_requests == 0
    # ... and, once that expires, refreshes with the stored refresh token, not the environment's.
    sim.expire_tokens()
    third = classic_client(sim, server, store=store)
    list(third.list_gateways())
    assert store.tokens.rotations == 2 and store.tokens.refresh_token != stored.refresh_token
    assert third.stats.auth_refreshes == 1 and third.stats.token_requests == 1


def test_classic_invalid_token_refreshes_once_and_repeats(central, classic_client) -> None:
    sim, server = central()
    client = classic_client(sim, server)
    list(client.list_gateways())
    sim.expire_tokens()
    assert len([i for p in client.list_gateways() for i in p.items]) == len(sim.classic_gateways())
    assert client.stats.auth_refreshes == 1 and client.stats.token_requests == 2
    statuses = [r.status for r in _api(sim, "/monitoring/v1/gateways")]
    assert statuses == [200, 401, 200]


def test_classic_refused_refresh_token_says_what_to_do_and_leaks_nothing(central, classic_client) -> None:
    sim, server = central()
    list(classic_client(sim, server).list_gateways())  # rotates the configured token away
    stale = classic_client(sim, server, store=MemoryTokenStore())
    with pytest.raises(RefreshTokenRejectedError) as info:
        list(stale.list_gateways())
    message = str(info.value)
    assert "ARUBA_CLASSIC_REFRESH_TOKEN" in message and "invalid_grant" in message
    assert sim.config.classic_refresh_token not in message
    assert sim.config.classic_client_secret not in message


def test_a_new_environment_token_restarts_the_chain(central, classic_client) -> None:
    sim, server = central()
    store = MemoryTokenStore()
    list(classic_client(sim, server, store=store).list_gateways())
    pasted = sim.refresh_tokens.issue()  # a person created a new token in the API gateway
    sim.expire_tokens()
    client = classic_client(sim, server, store=store, refresh_token=pasted)
    list(client.list_gateways())
    assert store.tokens.rotations == 1, "the chain started again from the pasted token"
    assert not sim.refresh_tokens.is_valid(pasted)


def test_classic_secrets_stay_out_of_httpx_logs(central, classic_client, caplog) -> None:
    sim, server = central()
    with caplog.at_level(logging.INFO, logger="httpx"):
        list(classic_client(sim, server).list_gateways())
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "/oauth2/token" in text, "httpx logged the token request"
    assert sim.config.classic_refresh_token not in text
    assert sim.config.classic_client_secret not in text


def test_classic_per_second_429_waits_a_second_and_retries(central, classic_client, fake_clock) -> None:
    sim, server = central(classic_per_second=2)
    sim.classic_limiter.second = SlidingWindowLimiter(clock=fake_clock)
    client = classic_client(sim, server, pacing=False, page_size=5)
    assert len([i for p in client.list_gateways() for i in p.items]) == len(sim.classic_gateways())
    statuses = [r.status for r in _api(sim, "/monitoring/v1/gateways")]
    assert 429 in statuses and statuses[-1] == 200
    assert client.stats.rate_limited == statuses.count(429)
    assert all(1 <= wait <= 1.2 for wait in fake_clock.sleeps)


def test_classic_pacing_stays_under_seven_per_second(central, classic_client, fake_clock) -> None:
    sim, server = central()
    sim.classic_limiter.second = SlidingWindowLimiter(clock=fake_clock)
    client = classic_client(sim, server, page_size=3)
    list(client.list_aps())
    requests = _api(sim, "/monitoring/")
    assert len(requests) > 14 and all(r.status == 200 for r in requests)
    assert client.stats.pacing_wait_seconds >= len(requests) // 7 - 1


def test_classic_spent_day_fails_at_once(central, classic_client) -> None:
    sim, server = central(classic_per_day=3)
    client = classic_client(sim, server, pacing=False, page_size=5)
    with pytest.raises(PacingBudgetError) as info:
        list(client.list_aps())
    assert "daily API allowance is spent" in str(info.value) and "00:00 UTC" in str(info.value)
    assert [r.status for r in _api(sim, "/monitoring/")] == [200, 200, 200, 429], "not retried"


def test_classic_5xx_is_retried(central, classic_client) -> None:
    sim, server = central()
    client = classic_client(sim, server)
    list(client.list_gateways())  # token first
    sim.faults.error_burst = 2
    assert len([i for p in client.list_gateways() for i in p.items]) == len(sim.classic_gateways())
    assert [r.status for r in _api(sim, "/monitoring/")][-3:] == [503, 503, 200]


def test_classic_bad_request_reads_the_monitoring_body(central, classic_client) -> None:
    sim, server = central()
    client = classic_client(sim, server)
    with pytest.raises(BadRequestError, match="client_type must be WIRELESS or WIRED"):
        list(client.list_clients("BLUETOOTH"))
