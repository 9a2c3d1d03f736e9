"""Fixtures of the GreenLake client tests: a fake clock, and the simulator served on loopback."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from glp_pipeline.greenlake import ClientConfig, GreenLakeClient

CLIENT_ID = "glp-sync-test-client"
CLIENT_SECRET = "s3cr3t-Do-Not-Leak-9f8e7d"


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it (or a test advances it).

    Passed as both `clock=` and `sleep=` to the client, it makes every wait (backoff, Retry-After, pacing)
    instantaneous and recorded, so tests assert on the waits instead of spending them.
    """

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[Any, Any]]]:
    """Start a GreenLake simulator on loopback: `sim, server = serve(devices=...)`; stopped afterwards."""
    from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig

    stack = contextlib.ExitStack()

    def start(**config: Any) -> tuple[Any, Any]:
        config.setdefault("devices", 120)
        config.setdefault("subscriptions", 30)
        config.setdefault("client_id", CLIENT_ID)
        config.setdefault("client_secret", CLIENT_SECRET)
        config.setdefault("async_seconds_to_finish", None)  # async operations end by polls, not wall time
        sim = GreenLakeSimulator(SimulatorConfig(**config))
        server = stack.enter_context(sim.serve(host="127.0.0.1", port=0))
        return sim, server

    with stack:
        yield start


@pytest.fixture
def make_client(fake_clock: FakeClock) -> Iterator[Callable[..., GreenLakeClient]]:
    """A client for a served simulator, on the fake clock (every wait recorded in `fake_clock.sleeps`)."""
    clients: list[GreenLakeClient] = []

    def build(server: Any, *, http_client: httpx.Client | None = None, **overrides: Any) -> GreenLakeClient:
        values: dict[str, Any] = {
            "base_url": server.base_url,
            "token_url": server.token_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "request_timeout_seconds": 10.0,
        }
        values.update(overrides)
        client = GreenLakeClient(
            ClientConfig(**values),
            http_client=http_client,
            clock=fake_clock,
            sleep=fake_clock.sleep,
            rng=random.Random(7),
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


def settled_log(sim: Any) -> list[Any]:
    """The simulator's request log once it stops growing.

    The simulator records a request after its response has gone out, so the client can hold the answer a
    moment before the record exists; wait until the log has been still for 30 ms (at most 2 s).
    """
    deadline = time.monotonic() + 2.0
    size = len(sim.request_log)
    while time.monotonic() < deadline:
        time.sleep(0.03)
        if len(sim.request_log) == size:
            break
        size = len(sim.request_log)
    return list(sim.request_log)


def token_requests(sim: Any) -> list[Any]:
    """Records of the simulator's request log that hit a token endpoint."""
    return [r for r in settled_log(sim) if _is_token_path(r.path)]


def api_requests(sim: Any, path_prefix: str = "/") -> list[Any]:
    """Records of API (non-token) requests whose path starts with `path_prefix`."""
    return [r for r in settled_log(sim) if not _is_token_path(r.path) and r.path.startswith(path_prefix)]


def _is_token_path(path: str) -> bool:
    return path.endswith("/token") or path.endswith("/token.oauth2")
