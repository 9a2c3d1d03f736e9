"""Helpers of the Dagster tests: the environment the code location reads, and database queries."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from glp_pipeline.settings import get_settings

ENV_PREFIXES = ("GLP_", "DATABASE_URL", "SYNC_", "DAGSTER_HOME", "ARUBA_")


def _clear(mp: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            mp.delenv(name, raising=False)


def env_values(home: Path, server=None, sim=None, url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a sync against a simulator and a database, with fast retries and no pacing."""
    values = {
        "GLP_HOME": str(home),
        "GLP_PACING": "false",
        "GLP_BACKOFF_INITIAL_SECONDS": "0.01",
        "GLP_BACKOFF_MAX_SECONDS": "0.05",
        "GLP_BREAKER_RESET_SECONDS": "0.5",
    }
    if server is not None:
        values |= {"GLP_BASE_URL": server.base_url, "GLP_TOKEN_URL": server.token_url}
    if sim is not None:
        values |= {"GLP_CLIENT_ID": sim.config.client_id, "GLP_CLIENT_SECRET": sim.config.client_secret}
    if url is not None:
        values["DATABASE_URL"] = url
    return values | extra


def apply_env(mp: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    _clear(mp)
    for name, value in values.items():
        mp.setenv(name, value)
    get_settings.cache_clear()


def query(url: str, text: str, *params: object) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(text, params).fetchall()
