"""Tokens over real HTTP: caching, early refresh, refresh after a 401, single flight, bad credentials."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from glp_pipeline.greenlake import ClientConfig, GreenLakeClient
from glp_pipeline.greenlake.errors import AuthenticationError, GreenLakeError, ServerError

from .conftest import CLIENT_ID, CLIENT_SECRET, api_requests, token_requests

DEVICES = "/devices/v1/devices"


def test_token_is_fetched_once_and_reused(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    for _ in range(5):
        client.get_json(DEVICES, {"limit": 5})
    assert len(token_requests(sim)) == 1
    assert client.stats.token_fetches == 1
    assert client.stats.requests == 5


def test_token_is_refreshed_before_it_expires(serve, make_client, fake_clock) -> None:
    sim, server = serve(token_ttl_seconds=120)
    client = make_client(server)
    client.get_json(DEVICES, {"limit": 1})
    first_expiry = client.tokens.expires_at
    fake_clock.advance(80)  # margin for 120 s is 30..33 s: still fresh
    client.get_json(DEVICES, {"limit": 1})
    assert len(token_requests(sim)) == 1
    fake_clock.advance(10)  # 90 s in: inside the refresh margin, before the 120 s expiry
    client.get_json(DEVICES, {"limit": 1})
    assert len(token_requests(sim)) == 2
    assert client.tokens.expires_at > first_expiry
    assert all(r.status == 200 for r in api_requests(sim))  # refreshed early: the API never said 401
    assert client.stats.auth_refreshes == 0


def test_a_401_invalidates_refreshes_and_repeats_once(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server)
    client.get_json(DEVICES, {"limit": 1})
    sim.expire_tokens()
    body = client.get_json(DEVICES, {"limit": 1})
    assert body["items"]
    statuses = [r.status for r in api_requests(sim, DEVICES)]
    assert statuses == [200, 401, 200]
    assert len(token_requests(sim)) == 2
    assert client.stats.auth_refreshes == 1
    assert client.stats.retries == 0  # the 401 repeat is not a backoff retry


def test_concurrent_callers_share_one_token_request(serve, make_client) -> None:
    sim, server = serve()

    def slow_token_endpoint(request: httpx.Request) -> None:
        if request.url.path.endswith("token.oauth2"):
            time.sleep(0.2)  # hold the fetch open so every thread arrives while it is in flight

    http = httpx.Client(base_url=server.base_url, event_hooks={"request": [slow_token_endpoint]})
    client = make_client(server, http_client=http)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            barrier.wait()
            client.get_json(DEVICES, {"limit": 1})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    http.close()
    assert not errors
    assert len(token_requests(sim)) == 1
    assert client.stats.token_fetches == 1
    assert len(api_requests(sim, DEVICES)) == 8


def test_bad_credentials_fail_at_once_with_an_actionable_message(serve, make_client, caplog) -> None:
    sim, server = serve()
    wrong = "wrong-" + CLIENT_SECRET
    client = make_client(server, client_secret=wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as info:
        client.get_json(DEVICES)
    message = str(info.value)
    assert "invalid_client" in message
    assert "GLP_CLIENT_ID" in message and "GLP_CLIENT_SECRET" in message
    assert server.token_url in message
    assert wrong not in message and CLIENT_SECRET not in message
    assert wrong not in caplog.text
    assert len(token_requests(sim)) == 1  # no retries on bad credentials
    assert api_requests(sim) == []


def test_workspace_token_url_and_basic_auth(serve, make_client) -> None:
    sim, server = serve()
    client = make_client(server, token_url=server.workspace_token_url, token_auth_method="basic")
    assert client.get_json(DEVICES, {"limit": 1})["items"]
    assert token_requests(sim)[0].path == httpx.URL(server.workspace_token_url).path


def test_token_endpoint_failures_are_retried_with_backoff(serve, make_client, fake_clock) -> None:
    sim, server = serve()
    sim.faults.token_error_rate = 1.0
    client = make_client(server, max_attempts=4)
    with pytest.raises(ServerError) as info:
        client.get_json(DEVICES)
    assert "token endpoint" in str(info.value)
    assert len(token_requests(sim)) == 4  # retried by the token manager...
    assert api_requests(sim) == []  # ...and not again by the API retry loop around it
    assert len(fake_clock.sleeps) == 3
    sim.faults.token_error_rate = 0.0
    assert client.get_json(DEVICES, {"limit": 1})["items"]


def test_no_secret_or_token_in_repr_str_logs_or_errors(serve, make_client, caplog) -> None:
    sim, server = serve()
    caplog.set_level(logging.DEBUG)
    client = make_client(server)
    client.get_json(DEVICES, {"limit": 1})
    token = client.tokens.get_token()
    sim.faults.error_burst = 10
    with pytest.raises(GreenLakeError) as info:
        client.get_json(DEVICES, {"limit": 1})
    texts = [
        repr(client),
        str(client),
        repr(client.config),
        str(client.config),
        repr(client.tokens),
        caplog.text,
    ]
    texts += [str(info.value), repr(info.value)]
    for text in texts:
        assert CLIENT_SECRET not in text
        assert token not in text
    assert "**********" in repr(client.config)


def test_missing_credentials_are_reported_by_name() -> None:
    from glp_pipeline.settings import Settings

    with pytest.raises(AuthenticationError, match="GLP_CLIENT_ID and GLP_CLIENT_SECRET"):
        GreenLakeClient.from_settings(Settings(_env_file=None))
    with pytest.raises(AuthenticationError, match="GLP_CLIENT_ID and GLP_CLIENT_SECRET"):
        ClientConfig(
            base_url="http://127.0.0.1:9", token_url="http://127.0.0.1:9/t", client_id="", client_secret=""
        )


def test_from_settings_maps_every_knob(serve) -> None:
    from pydantic import SecretStr

    from glp_pipeline.settings import Settings

    _, server = serve()
    settings = Settings(
        _env_file=None,
        glp_client_id=CLIENT_ID,
        glp_client_secret=SecretStr(CLIENT_SECRET),
        glp_base_url=server.base_url,
        glp_token_url=server.token_url,
        glp_devices_rpm=7,
        glp_max_attempts=3,
        glp_pacing=False,
    )
    with GreenLakeClient.from_settings(settings, devices_page_size=500) as client:
        assert client.config.max_attempts == 3
        assert client.config.devices_page_size == 500
        assert client.pacer.budget("GET /devices/v1/devices") == 7
        assert client.pacer.enabled is False
        assert client.get_json(DEVICES, {"limit": 2})["items"]
