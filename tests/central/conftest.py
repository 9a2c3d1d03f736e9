"""Fixtures of the Aruba Central tests: the Central simulator on loopback, clients on a fake clock, settings.

The simulator is the other helper's `glp_pipeline.simulator.central`; the clients talk to it over real HTTP
exactly as to Central. Waits (backoff, Retry-After, pacing) go through the GreenLake tests' `FakeClock`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from greenlake.conftest import FakeClock, settled_log  # tests/ is on sys.path (rootdir conftest)
from pydantic import SecretStr

from glp_pipeline.central import (
    CentralClient,
    CentralConfig,
    ClassicCentralClient,
    ClassicCentralConfig,
    MemoryTokenStore,
)
from glp_pipeline.settings import Settings

__all__ = ["FakeClock", "settled_log"]

SMALL = {"glp_devices": 120, "glp_subscriptions": 30, "central_only_devices": 10, "clients": 300, "seed": 7}


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def central() -> Iterator[Callable[..., tuple[Any, Any]]]:
    """`sim, server = central(**config)`: a Central simulator on loopback (small by default), stopped
    after the test."""
    from glp_pipeline.simulator.central import CentralSimulator, CentralSimulatorConfig

    servers = []

    def start(**config: Any) -> tuple[Any, Any]:
        sim = CentralSimulator(CentralSimulatorConfig(**{**SMALL, **config}))
        server = sim.start("127.0.0.1", 0)
        servers.append(server)
        return sim, server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def new_client(fake_clock: FakeClock) -> Iterator[Callable[..., CentralClient]]:
    """A New Central client for a served simulator, on the fake clock."""
    clients: list[CentralClient] = []

    def build(sim: Any, server: Any, **overrides: Any) -> CentralClient:
        values: dict[str, Any] = {
            "base_url": server.base_url,
            "token_url": f"{server.base_url}/as/token.oauth2",
            "client_id": sim.config.client_id,
            "client_secret": sim.config.client_secret,
            "request_timeout_seconds": 10.0,
        }
        values.update(overrides)
        client = CentralClient(
            CentralConfig(**values), clock=fake_clock, sleep=fake_clock.sleep, rng=random.Random(7)
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def classic_client(fake_clock: FakeClock) -> Iterator[Callable[..., ClassicCentralClient]]:
    """A Classic client for a served simulator, on the fake clock; `store=` shares a token store."""
    clients: list[ClassicCentralClient] = []

    def build(sim: Any, server: Any, *, store: Any = None, **overrides: Any) -> ClassicCentralClient:
        values: dict[str, Any] = {
            "base_url": server.base_url,
            "client_id": sim.config.classic_client_id,
            "client_secret": sim.config.classic_client_secret,
            "refresh_token": sim.config.classic_refresh_token,
            "request_timeout_seconds": 10.0,
        }
        values.update(overrides)
        client = ClassicCentralClient(
            ClassicCentralConfig(**values),
            token_store=store if store is not None else MemoryTokenStore(),
            clock=fake_clock,
            sleep=fake_clock.sleep,
            rng=random.Random(7),
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def aruba_settings(
    home: Path, server: Any, sim: Any, mode: str, url: str | None = None, **overrides: Any
) -> Settings:
    """Settings for a Central sync against the simulator in `mode`, fast retries, no GreenLake."""
    values: dict[str, Any] = {
        "glp_home": home,
        "glp_backoff_initial_seconds": 0.01,
        "glp_backoff_max_seconds": 0.05,
        "glp_breaker_reset_seconds": 0.5,
        "aruba_pacing": False,
    }
    if mode == "new":
        values |= {
            "aruba_base_url": server.base_url,
            "aruba_token_url": f"{server.base_url}/as/token.oauth2",
            "aruba_client_id": sim.config.client_id,
            "aruba_client_secret": SecretStr(sim.config.client_secret),
        }
    else:
        values |= {
            "aruba_classic_base_url": server.base_url,
            "aruba_classic_client_id": sim.config.classic_client_id,
            "aruba_classic_client_secret": SecretStr(sim.config.classic_client_secret),
            "aruba_classic_refresh_token": SecretStr(sim.config.classic_refresh_token),
        }
    if url is not None:
        values["database_url"] = SecretStr(url)
    return Settings(_env_file=None, **(values | overrides))
