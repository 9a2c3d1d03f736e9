"""A served Central simulator plus an httpx client that knows both token flows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from glp_pipeline.simulator.central import CentralSimulator, CentralSimulatorConfig
from glp_pipeline.simulator.server import SimulatorServer

from ..support import NOW

NEW = "/network-monitoring/v1"


def make_config(**overrides: Any) -> CentralSimulatorConfig:
    """Test defaults: the GreenLake tests' seed and inventory size, pinned `now`, a small client count."""
    values: dict[str, Any] = {
        "seed": 7,
        "now": NOW,
        "glp_devices": 300,
        "glp_subscriptions": 60,
        "central_only_devices": 20,
        "clients": 2000,
    }
    values.update(overrides)
    return CentralSimulatorConfig(**values)


@dataclass
class CentralLive:
    """A served Central simulator and a client; tokens are fetched once and cached."""

    sim: CentralSimulator
    server: SimulatorServer
    http: httpx.Client
    _new: str | None = field(default=None, repr=False)
    _classic: str | None = field(default=None, repr=False)

    def fetch_new_token(self, **form: str) -> httpx.Response:
        config = self.sim.config
        data = {"grant_type": "client_credentials", "client_id": config.client_id,
                "client_secret": config.client_secret, **form}  # fmt: skip
        return self.http.post("/as/token.oauth2", data=data)

    def refresh_classic(self, refresh_token: str, **params: str) -> httpx.Response:
        config = self.sim.config
        query = {"client_id": config.classic_client_id, "client_secret": config.classic_client_secret,
                 "grant_type": "refresh_token", "refresh_token": refresh_token, **params}  # fmt: skip
        return self.http.post("/oauth2/token", params=query)

    @property
    def new_token(self) -> str:
        if self._new is None:
            response = self.fetch_new_token()
            assert response.status_code == 200, response.text
            self._new = response.json()["access_token"]
        return self._new

    @property
    def classic_token(self) -> str:
        if self._classic is None:
            response = self.refresh_classic(self.sim.valid_classic_refresh_token())
            assert response.status_code == 200, response.text
            self._classic = response.json()["access_token"]
        return self._classic

    def get(self, path: str, **params: Any) -> httpx.Response:
        """A GET with the token of the generation the path belongs to."""
        token = self.classic_token if path.startswith("/monitoring/") else self.new_token
        return self.http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})

    def new_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a New Central list, following `next` until it is null."""
        items: list[dict[str, Any]] = []
        page: str | None = None
        for _ in range(10_000):
            response = self.get(path, **params, **({"next": page} if page else {}))
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["count"] == len(body["items"])
            items.extend(body["items"])
            page = body["next"]
            if page is None:
                return items
        raise AssertionError("next never became null")

    def classic_all(self, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a Classic list, by offset until a short page."""
        items: list[dict[str, Any]] = []
        limit = int(params.pop("limit", 100))
        while True:
            response = self.get(path, offset=len(items), limit=limit, **params)
            assert response.status_code == 200, response.text
            page = response.json()[key]
            items.extend(page)
            if len(page) < limit:
                return items


def start_central(config: CentralSimulatorConfig) -> CentralLive:
    sim = CentralSimulator(config)
    server = sim.start()
    return CentralLive(sim, server, httpx.Client(base_url=server.base_url, timeout=15))
