"""Shared fixtures: a real PostgreSQL, a fresh database per test, and the GreenLake simulator on loopback.

PostgreSQL is `TEST_DATABASE_URL` when set (any server where the user may CREATE DATABASE), otherwise an
embedded PostgreSQL 18 started once per test session in a temporary directory and deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from glp_pipeline.database import EmbeddedPostgres, to_libpq
from glp_pipeline.settings import Settings, get_settings

ENV_PREFIXES = ("GLP_", "DATABASE_URL", "ARUBA_")


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
