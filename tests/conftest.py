"""Shared fixtures: a real PostgreSQL, a fresh database per test, and the GreenLake simulator on loopback.

PostgreSQL is `TEST_DATABASE_URL` when set (any server where the user may CREATE DATABASE), otherwise an
embedded PostgreSQL 18 started once per test session in a temporary directory and deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from glp_pipeline.database import EmbeddedPostgres, to_libpq
from glp_pipeline.settings import Settings, get_settings

ENV_PREFIXES = ("GLP_", "DATABASE_URL", "ARUBA_", "ANTHROPIC_", "OPENAI_")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test sees the developer's credentials, database or .env file."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield to_libpq(external)
        return
    # Not under pytest's basetemp: pytest keeps that private (0700) and prunes old ones, while the server
    # may run as another OS user (the wheel does so when we are root).
    root = Path(tempfile.mkdtemp(prefix="glp-test-pg-"))
    embedded = EmbeddedPostgres(root / "pgdata")
    url = embedded.start()
    parts = urlsplit(url)
    yield urlunsplit(parts._replace(path="/postgres"))
    embedded.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    name = f"glp_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    parts = urlsplit(pg_admin_url)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def glp_home() -> Iterator[Path]:
    """A GLP_HOME outside pytest's basetemp: an embedded PostgreSQL started there runs as another OS user
    (when we are root), and pytest keeps its basetemp private (0700)."""
    home = Path(tempfile.mkdtemp(prefix="glp-test-home-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def make_simulator() -> Iterator[Callable]:
    """Start GreenLake simulators on loopback: `sim, server = make_simulator(devices=..., ...)`."""
    from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig

    running = []

    def start(**config):
        sim = GreenLakeSimulator(SimulatorConfig(**config))
        server = sim.start("127.0.0.1", 0)
        running.append(server)
        return sim, server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Settings pointing at a simulator (and optionally a database), fast retries, no .env file."""

    def build(server=None, sim=None, url: str | None = None, **overrides) -> Settings:
        values: dict = {
            "glp_home": tmp_path / "glp-home",
            "glp_backoff_initial_seconds": 0.01,
            "glp_backoff_max_seconds": 0.05,
            "glp_breaker_reset_seconds": 0.5,
        }
        if server is not None:
            values |= {"glp_base_url": server.base_url, "glp_token_url": server.token_url}
        if sim is not None:
            values |= {
                "glp_client_id": sim.config.client_id,
                "glp_client_secret": SecretStr(sim.config.client_secret),
            }
        if url is not None:
            values["database_url"] = SecretStr(url)
        values |= overrides
        return Settings(_env_file=None, **values)

    return build


# --- `glp demo`, served once for the tests that need it (it takes about a minute to start) ---


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "stops_served_demo: the test ends the shared `glp demo`, so it runs after its other users"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that stop the shared demo run after its other users, so that one demo serves them all."""
    stoppers = [item for item in items if item.get_closest_marker("stops_served_demo")]
    rest = [item for item in items if not item.get_closest_marker("stops_served_demo")]
    users = [n for n, item in enumerate(rest) if "demo_launcher" in getattr(item, "fixturenames", ())]
    if stoppers and users:
        at = users[-1] + 1
        items[:] = rest[:at] + stoppers + rest[at:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServedDemo:
    """A `glp demo` subprocess serving the Dagster UI and the dashboard, with its own GLP_HOME."""

    proc: subprocess.Popen
    home: Path
    env: dict[str, str]
    port: int
    dashboard_port: int
    log: IO[str]
    output: str | None = field(default=None)

    def glp(self, *args: str) -> subprocess.CompletedProcess:
        """Run `glp ...` with the demo's environment (same GLP_HOME)."""
        return subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "glp_pipeline.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )

    def read_output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait_until_served(self, timeout: float = 240) -> None:
        """Until the Dagster UI and then the dashboard answer (the demo first loads and transforms)."""
        deadline = time.monotonic() + timeout
        for what, url in (
            ("the Dagster UI", f"http://127.0.0.1:{self.port}/server_info"),
            ("the dashboard", f"http://127.0.0.1:{self.dashboard_port}/_stcore/health"),
        ):
            while True:
                assert self.proc.poll() is None, f"glp demo exited:\n{self.read_output()}"
                assert time.monotonic() < deadline, f"{what} never answered:\n{self.read_output()}"
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(1)

    def interrupt(self, timeout: float = 90) -> str:
        """Ctrl-C, as a user would; returns everything the demo printed. Idempotent."""
        if self.output is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                self.output = self.read_output()
                self.log.close()
        return self.output


class DemoLauncher:
    """Starts `glp demo` when a test first needs it, and again only if a test stopped it."""

    def __init__(self) -> None:
        self.started: list[ServedDemo] = []
        self.failed: str | None = None

    def running(self) -> ServedDemo:
        if self.failed:
            pytest.fail(f"the shared glp demo did not start: {self.failed}")
        if self.started and self.started[-1].output is None and self.started[-1].proc.poll() is None:
            return self.started[-1]
        home = Path(tempfile.mkdtemp(prefix="glp-test-home-"))  # outside pytest's basetemp, as glp_home
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GLP_", "DATABASE_URL", "DAGSTER_"))}
        env["GLP_HOME"] = str(home)
        port, dashboard_port = _free_port(), _free_port()
        log = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed by interrupt()
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [
                sys.executable,
                "-m",
                "glp_pipeline.cli",
                "demo",
                "--devices",
                "200",
                "--subscriptions",
                "40",
                "--port",
                str(port),
                "--dashboard-port",
                str(dashboard_port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        demo = ServedDemo(proc, home, env, port, dashboard_port, log)
        self.started.append(demo)
        try:
            demo.wait_until_served()
        except AssertionError as e:
            self.failed = str(e)
            demo.interrupt()
            raise
        return demo

    def stop_all(self) -> None:
        for demo in self.started:
            demo.interrupt()
            if demo.proc.returncode not in (0, 130):  # a clean stop also stops its PostgreSQL
                subprocess.run(
                    [sys.executable, "-m", "glp_pipeline.cli", "db", "stop"],
                    env=demo.env,
                    capture_output=True,
                    check=False,
                )
            shutil.rmtree(demo.home, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_launcher() -> Iterator[DemoLauncher]:
    """Starts the shared demo on `.running()` (as `served_demo` does); stops it when the session ends."""
    launcher = DemoLauncher()
    yield launcher
    launcher.stop_all()


@pytest.fixture
def served_demo(demo_launcher: DemoLauncher) -> ServedDemo:
    """`glp demo --devices 200 --subscriptions 40` serving Dagster and the dashboard on free ports, shared by
    the tests that use it (a test that stops it is marked `stops_served_demo` and runs last)."""
    return demo_launcher.running()


@dataclass
class SyncedDatabase:
    """A database loaded from a running simulator by a full sync and a `dbt build`."""

    url: str
    sim: object  # GreenLakeSimulator
    server: object  # its running server
    settings: Settings


@pytest.fixture(scope="session")
def synced_database(pg_admin_url: str, tmp_path_factory) -> Iterator[Callable[..., SyncedDatabase]]:
    """A factory for module fixtures: `synced_database(devices=300, subscriptions=80, seed=3)` makes a new
    database, syncs a new simulator into it and builds the marts; everything is dropped at the end."""
    from glp_pipeline.greenlake import GreenLakeClient
    from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig
    from glp_pipeline.sync import run_sync
    from glp_pipeline.transform import build

    made: list[tuple[str, object]] = []

    def make(**simulator: object) -> SyncedDatabase:
        name = f"glp_test_synced_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        url = urlunsplit(urlsplit(pg_admin_url)._replace(path=f"/{name}"))
        sim = GreenLakeSimulator(SimulatorConfig(**simulator))  # type: ignore[arg-type]
        server = sim.start("127.0.0.1", 0)
        made.append((name, server))
        settings = Settings(
            _env_file=None,
            glp_home=tmp_path_factory.mktemp("synced-home"),
            glp_base_url=server.base_url,
            glp_token_url=server.token_url,
            glp_client_id=sim.config.client_id,
            glp_client_secret=SecretStr(sim.config.client_secret),
            database_url=SecretStr(url),
        )
        with GreenLakeClient.from_settings(settings) as client:
            run_sync(settings, client, mode="full", url=url)
        build(settings, url=url)
        return SyncedDatabase(url, sim, server, settings)

    yield make
    for name, server in made:
        server.stop()  # type: ignore[attr-defined]
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
