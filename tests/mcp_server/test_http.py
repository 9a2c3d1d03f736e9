"""The streamable HTTP transport: a bearer token is required off loopback, and every request without it is
refused; DNS rebinding protection refuses a foreign Host."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mcp_server.http import PATH, http_app
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
