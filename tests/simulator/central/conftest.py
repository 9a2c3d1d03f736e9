"""Fixtures for the Central simulator tests: real servers on loopback, spoken to with httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .support import CentralLive, make_config, start_central


@pytest.fixture
def central() -> Iterator[Callable[..., CentralLive]]:
    """Start a Central simulator with `make_config(**overrides)`; stopped at the end of the test."""
    started: list[CentralLive] = []

    def start(**overrides: Any) -> CentralLive:
        live = start_central(make_config(**overrides))
        started.append(live)
        return live

    yield start
    for live in started:
        live.http.close()
        live.server.stop()


@pytest.fixture(scope="module")
def shared_central() -> Iterator[CentralLive]:
    """A read-only Central simulator shared by a module, without rate limits."""
    live = start_central(make_config(rate_limits=False))
    yield live
    live.http.close()
    live.server.stop()
