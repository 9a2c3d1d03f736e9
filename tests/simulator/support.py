"""Helpers shared by the simulator tests: the pinned config and a served simulator with an HTTP client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig, SimulatorServer

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CREDENTIALS = {"client_id": "glp-sim-client", "client_secret": "glp-sim-secret"}
MERGE_PATCH = "application/merge-patch+json"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMEDOUT"}


def make_config(**overrides: Any) -> SimulatorConfig:
    """Test defaults; async operations finish by polls only (3), never by wall-clock time."""
    values: dict[str, Any] = {
        "devices": 300,
        "subscriptions": 60,
        "seed": 7,
        "now": NOW,
        "async_seconds_to_finish": None,
    }
    values.update(overrides)
    return SimulatorConfig(**values)


@dataclass
class Live:
    """A served simulator plus an httpx client pointed at it."""

    sim: GreenLakeSimulator
    server: SimulatorServer
    http: httpx.Client
    _token: str | None = field(default=None, repr=False)

    def fetch_token(self, **form: str) -> httpx.Response:
        data = {"grant_type": "client_credentials", **CREDENTIALS, **form}
        return self.http.post("/as/token.oauth2", data=data)

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.fetch_token()
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def get(self, path: str, **params: Any) -> httpx.Response:
        """An authenticated GET; keyword arguments become query parameters."""
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.get(path, params=params, headers=headers)

    def patch(
        self, path: str, ids: list[str], body: Any, *, content_type: str = MERGE_PATCH
    ) -> httpx.Response:
        """An authenticated PATCH with repeated `id` query parameters."""
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
        return self.http.patch(path, params={"id": ids}, content=orjson.dumps(body), headers=headers)

    def post(self, path: str, body: Any, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.post(path, json=body, params=params, headers=headers)

    def finish(self, response: httpx.Response, max_polls: int = 20) -> dict[str, Any]:
        """Poll the async operation a 202 points at until it ends; its last body."""
        assert response.status_code == 202, response.text
        location = response.headers["location"]
        for _ in range(max_polls):
            body = self.get(location).json()
            if body["status"] in TERMINAL:
                return body
        raise AssertionError(f"{location} did not end in {max_polls} polls")

    def list_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list endpoint, paging by the server's count until offset reaches total."""
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            response = self.get(path, offset=offset, **params)
            assert response.status_code == 200, response.text
            body = response.json()
            items.extend(body["items"])
            offset += body["count"]
            if offset >= body["total"] or body["count"] == 0:
                return items


def start_live(config: SimulatorConfig) -> Live:
    sim = GreenLakeSimulator(config)
    server = sim.start()
    return Live(sim, server, httpx.Client(base_url=server.base_url, timeout=15))
