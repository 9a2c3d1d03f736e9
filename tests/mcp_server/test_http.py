"""The streamable HTTP transport: a bearer token is required off loopback, and every request without it is
refused; DNS rebinding protection refuses a foreign Host."""

from __future__ import annotations

import socket
import time

import pytest
from starlette.testclient import TestClient

from glp_pipeline.settings import get_settings
from mcp_server.http import HEALTH_PATH, PATH, READY_PATH, http_app
from mcp_server.server import build_server

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def _client(host: str, token: str | None) -> TestClient:
    return TestClient(
        http_app(build_server(), host=host, port=8010, token=token), base_url=f"http://{host}:8010"
    )


def test_off_loopback_the_server_will_not_start_without_a_token():
    with pytest.raises(ValueError, match="GLP_MCP_TOKEN"):
        http_app(build_server(), host="0.0.0.0", port=8010, token=None)  # noqa: S104


def test_a_request_without_the_token_is_refused_and_with_it_served():
    with _client("0.0.0.0", "s3cret-token") as client:  # noqa: S104
        refused = client.post(PATH, json=INITIALIZE, headers=HEADERS)
        assert refused.status_code == 401
        assert "s3cret" not in refused.text
        wrong = client.post(PATH, json=INITIALIZE, headers=HEADERS | {"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        served = client.post(
            PATH, json=INITIALIZE, headers=HEADERS | {"authorization": "Bearer s3cret-token"}
        )
        assert served.status_code == 200, served.text
        assert "GLP Sync" in served.text


def test_loopback_without_a_token_is_served_but_a_foreign_host_header_is_not():
    with _client("127.0.0.1", None) as client:
        assert client.post(PATH, json=INITIALIZE, headers=HEADERS).status_code == 200
        rebinding = client.post(PATH, json=INITIALIZE, headers=HEADERS | {"host": "evil.example:8010"})
        assert rebinding.status_code in (400, 403, 421)


def test_service_names_in_glp_mcp_allowed_hosts_are_admitted_and_others_not():
    """Behind Compose or Kubernetes clients reach the server by its service name, not its bind address."""
    app = http_app(build_server(), host="0.0.0.0", port=8010, token="t0ken", allowed_hosts=("mcp",))  # noqa: S104
    auth = HEADERS | {"authorization": "Bearer t0ken"}
    with TestClient(app, base_url="http://0.0.0.0:8010") as client:
        assert client.post(PATH, json=INITIALIZE, headers=auth | {"host": "mcp:8010"}).status_code == 200
        other = client.post(PATH, json=INITIALIZE, headers=auth | {"host": "evil.example:8010"})
        assert other.status_code in (400, 403, 421)


def test_healthz_answers_without_the_token_and_reveals_nothing_while_mcp_still_needs_it(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://glp:db-pw-77@127.0.0.1:9/glp")
    with _client("0.0.0.0", "s3cret-token") as client:  # noqa: S104
        health = client.get(HEALTH_PATH)
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert client.post(PATH, json=INITIALIZE, headers=HEADERS).status_code == 401
        assert client.get("/healthz/../mcp").status_code in (401, 404)
        # a probe arrives with the pod's address as Host: no DNS rebinding check on the probes
        assert client.get(HEALTH_PATH, headers={"host": "10.1.2.3:8010"}).status_code == 200


def test_readyz_is_503_when_the_database_is_down_and_200_when_it_answers(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", "postgresql://glp:db-pw-77@127.0.0.1:9/glp")
    get_settings.cache_clear()
    with _client("0.0.0.0", "s3cret-token") as client:  # noqa: S104
        started = time.monotonic()
        down = client.get(READY_PATH)
        assert down.status_code == 503 and down.json() == {"status": "unavailable"}
        assert time.monotonic() - started < 3
        assert "db-pw-77" not in down.text and "127.0.0.1" not in down.text
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    with _client("0.0.0.0", "s3cret-token") as client:  # noqa: S104
        up = client.get(READY_PATH)
        assert up.status_code == 200 and up.json() == {"status": "ok"}


def test_readyz_gives_up_after_a_second_on_a_database_that_never_answers(monkeypatch):
    """A server that accepts the connection and says nothing: 503 after the 1-second budget, not libpq's."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        port = listener.getsockname()[1]
        monkeypatch.setenv("DATABASE_URL", f"postgresql://glp:pw@127.0.0.1:{port}/glp?sslmode=disable")
        get_settings.cache_clear()
        with _client("127.0.0.1", None) as client:
            started = time.monotonic()
            assert client.get(READY_PATH).status_code == 503
            assert time.monotonic() - started < 2.5
    finally:
        listener.close()
