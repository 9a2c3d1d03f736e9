"""Fixtures of the Dagster tests: the code location loaded once, the environment its ops read, a webhook.

The code location reads GLP_HOME when it loads (the dbt manifest lives there), so it is imported once per
session under a temporary GLP_HOME with nothing else of the developer's environment. Ops, schedules and
sensors read their settings when they run: each test sets them with `glp_env`.
"""

from __future__ import annotations

import importlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from glp_pipeline.settings import get_settings

from .support import apply_env, env_values


@pytest.fixture(scope="session")
def glp_defs(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """`glp_pipeline.defs.definitions`, loaded under a fresh GLP_HOME (so its first load runs dbt parse)."""
    home = tmp_path_factory.mktemp("defs-home")
    with pytest.MonkeyPatch.context() as mp:
        apply_env(mp, {"GLP_HOME": str(home)})
        mp.chdir(home)
        module = importlib.import_module("glp_pipeline.defs.definitions")
    get_settings.cache_clear()
    return module


@pytest.fixture
def glp_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., None]:
    """`glp_env(server, sim, url, GLP_X="...")`: the settings every op, schedule and sensor will read."""

    def apply(server=None, sim=None, url: str | None = None, **extra: str) -> None:
        apply_env(monkeypatch, env_values(tmp_path / "glp-home", server, sim, url, **extra))

    return apply


@pytest.fixture(scope="module")
def module_database(pg_admin_url: str) -> Iterator[str]:
    """A fresh database shared by the tests of one module."""
    name = f"glp_test_defs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield urlunsplit(urlsplit(pg_admin_url)._replace(path=f"/{name}"))
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture
def webhook() -> Iterator[SimpleNamespace]:
    """A Slack-like webhook on 127.0.0.1: `.url`, and `.received`, the JSON bodies POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/hooks/secret-token", received=received)
    server.shutdown()
    server.server_close()
