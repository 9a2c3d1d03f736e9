"""Fixtures for the GreenLake simulator tests: real servers on loopback, spoken to over HTTP with httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from glp_pipeline.simulator import SimulatorConfig

from .support import NOW, Live, make_config, start_live


@pytest.fixture(scope="session")
def now() -> datetime:
    """The `now` every test simulator is anchored to."""
    return NOW


@pytest.fixture(scope="session")
def config() -> Callable[..., SimulatorConfig]:
    """`config(**overrides)`: the test defaults (300 devices, 60 subscriptions, seed 7, pinned now)."""
    return make_config


@pytest.fixture
def serve() -> Iterator[Callable[..., Live]]:
    """Start a simulator with `make_config(**overrides)`; stopped at the end of the test."""
    started: list[Live] = []

    def start(**overrides: Any) -> Live:
        live = start_live(make_config(**overrides))
        started.append(live)
        return live

    yield start
    for live in started:
        live.http.close()
        live.server.stop()


@pytest.fixture(scope="module")
def shared() -> Iterator[Live]:
    """A read-only simulator shared by a module: 1000 devices, 200 subscriptions, no rate limits."""
    live = start_live(make_config(devices=1000, subscriptions=200, rate_limits=False))
    yield live
    live.http.close()
    live.server.stop()
