"""Dagster's home, storage and processes, as `glp` manages them.

Dagster keeps its runs, event logs and schedule state in PostgreSQL through dagster-postgres, in the same
database as the data (the embedded one by default), under a `DAGSTER_HOME` inside `GLP_HOME`. The
`dagster.yaml` written there holds no secret: the storage URL is read from the environment variable
`GLP_DAGSTER_PG_URL`, which `glp` sets for the Dagster processes it starts. The URL uses the psycopg2
driver explicitly, because SQLAlchemy 2.1 would otherwise pick psycopg 3, which dagster-postgres's
`NOTIFY` statements do not work with (see stack notes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from glp_pipeline.transform import dbt_environment

if TYPE_CHECKING:
    from glp_pipeline.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
PG_URL_VARIABLE = "GLP_DAGSTER_PG_URL"

DAGSTER_YAML = f"""\
# Written by glp: Dagster's storage lives in GLP Sync's PostgreSQL. The URL comes from the environment
# ({PG_URL_VARIABLE}), so no credential is stored in this file.
storage:
  postgres:
    postgres_url:
      env: {PG_URL_VARIABLE}
run_retries:
  enabled: true
  max_retries: 3
# Freshness policies are evaluated only when enabled; one sync at a time (the ingest op's pool).
freshness:
  enabled: true
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def dagster_storage_url(url: str) -> str:
    """The database URL in the SQLAlchemy + psycopg2 form dagster-postgres needs (socket hosts as `host=`)."""
    env = dbt_environment(url)
    user = quote(env["GLP_DB_USER"], safe="")
    password = env["DBT_ENV_SECRET_GLP_DB_PASSWORD"]
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@"
    database = quote(env["GLP_DB_NAME"], safe="")
    host, port = env["GLP_DB_HOST"], env["GLP_DB_PORT"]
    if host.startswith("/"):
        query = urlencode({"host": host, "port": port, "sslmode": env["GLP_DB_SSLMODE"]})
        return f"postgresql+psycopg2://{auth}/{database}?{query}"
    query = urlencode({"sslmode": env["GLP_DB_SSLMODE"]})
    return f"postgresql+psycopg2://{auth}{host}:{port}/{database}?{query}"


def prepare_dagster_home(settings: Settings, url: str) -> dict[str, str]:
    """Write `dagster.yaml` into the Dagster home and return the environment Dagster processes need."""
    home = settings.dagster_home_dir
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)
    return {
        "DAGSTER_HOME": str(home),
        PG_URL_VARIABLE: dagster_storage_url(url),
        "DATABASE_URL": url,
        "GLP_HOME": str(settings.glp_home),
        "DO_NOT_TRACK": "1",
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }


class ServiceProcess:
    """A long-running child process of the demo (Dagster, the dashboard), with a health URL to wait for and
    a clean stop: SIGINT to its process group (what Ctrl-C sends), then SIGKILL if it hangs."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], health_url: str, log_file: Path
    ) -> None:
        self.name, self.health_url = name, health_url
        bin_dir = Path(sys.executable).parent
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_file.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - our own venv's programs
            argv,
            env=os.environ | env | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OrchestrationError(
                    f"{self.name} exited with code {self.proc.returncode}; see {self._log.name}"
                )
            try:
                if httpx.get(self.health_url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise OrchestrationError(f"{self.name} did not answer within {timeout:.0f} s; see {self._log.name}")

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


def dagster_process(env: dict[str, str], host: str, port: int, log_file: Path) -> ServiceProcess:
    """`dagster dev` (webserver, daemon and code server) on the workspace file."""
    dagster = Path(sys.executable).parent / "dagster"
    argv = [str(dagster), "dev", "-w", str(WORKSPACE_FILE), "-h", host, "-p", str(port)]
    return ServiceProcess("dagster dev", argv, env, f"http://{host}:{port}/server_info", log_file)


def dashboard_process(env: dict[str, str], host: str, port: int, log_file: Path) -> ServiceProcess:
    """The Streamlit dashboard, headless."""
    argv = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO_ROOT / "streamlit_app" / "app.py"),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",  # no "Deploy" or developer menu for the admins who use it
    ]
    return ServiceProcess("the dashboard", argv, env, f"http://{host}:{port}/_stcore/health", log_file)


class OrchestrationError(RuntimeError):
    """A Dagster run failed; the message names the step and its error."""


def materialize_all(mode: str = "full") -> str:
    """Run the full (or incremental) job in this process, recorded in the Dagster instance of
    `DAGSTER_HOME` so the run shows in the UI, then (when Aruba Central is configured) the Central sync job,
    whose dbt models read GreenLake's marts too. Returns the (GreenLake) run id; raises OrchestrationError on
    failure.

    The environment (DAGSTER_HOME, GLP_DAGSTER_PG_URL, DATABASE_URL, GLP_*, ARUBA_*) must be set before the
    call: the code location reads the settings when it is first imported."""
    from glp_pipeline.defs.definitions import build_definitions
    from glp_pipeline.defs.ingest import INGEST_OP
    from glp_pipeline.defs.schedules import FULL_JOB, INCREMENTAL_JOB
    from glp_pipeline.settings import get_settings

    # Built now, from the environment as it is (not the module-level `defs` of an earlier import, whose
    # assets and dbt manifest may predate e.g. the Aruba settings).
    defs = build_definitions(get_settings())
    job = FULL_JOB if mode == "full" else INCREMENTAL_JOB
    run_id = _execute(defs, job, {INGEST_OP: {"config": {"mode": mode}}})
    if any(job.name == "aruba_sync" for job in defs.jobs):
        _execute(defs, "aruba_sync", {})
    return run_id


def _execute(defs: Any, job_name: str, ops: dict) -> str:
    from dagster import DagsterInstance

    job = defs.resolve_job_def(job_name)
    run_config = {
        "ops": ops,
        # The run's events are in the UI; the terminal gets warnings and errors only.
        "loggers": {"console": {"config": {"log_level": "WARNING"}}},
    }
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False)
    if not result.success:
        failures = [
            f"{event.step_key}: {(event.step_failure_data.error.message or '').strip().splitlines()[0]}"
            for event in result.get_step_failure_events()
            if event.step_failure_data and event.step_failure_data.error
        ]
        raise OrchestrationError("Dagster run failed: " + ("; ".join(failures) or "see the Dagster UI"))
    return result.run_id


def launch_sync(dagster_url: str, mode: str = "incremental") -> str:
    """Ask the running Dagster webserver to launch the incremental or full sync job (the very job its
    schedules run, so there is no second copy of the pipeline) and return the new run's id.

    Dagster queues the run and runs one sync at a time. Raises OrchestrationError, saying what to do, when
    the webserver does not answer or refuses the run.
    """
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    from glp_pipeline.defs.schedules import FULL_JOB, INCREMENTAL_JOB

    if mode not in ("incremental", "full"):
        raise ValueError(f"mode must be incremental or full, not {mode!r}")
    parts = urlsplit(dagster_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OrchestrationError(f"GLP_DAGSTER_URL must be an http(s) URL, not {dagster_url!r}.")
    try:
        client = DagsterGraphQLClient(
            parts.hostname,
            port_number=parts.port,
            use_https=parts.scheme == "https",
            path_prefix=parts.path.rstrip("/"),
            timeout=30,
        )
        return client.submit_job_execution(
            FULL_JOB if mode == "full" else INCREMENTAL_JOB, tags={"glp/trigger": "dashboard"}
        )
    except DagsterGraphQLClientError as exc:
        detail = exc.body if isinstance(exc.body, str) else (exc.args[0] if exc.args else type(exc).__name__)
        if "connect" in str(detail).lower() or "connect" in str(exc).lower():
            raise OrchestrationError(
                f"The Dagster webserver at {dagster_url} did not answer. Start it (`glp demo`, or "
                "`dagster dev -w workspace.yaml`) or set GLP_DAGSTER_URL to where it runs."
            ) from exc
        raise OrchestrationError(f"Dagster refused to launch the sync: {detail}") from exc


def run_link(dagster_url: str, run_id: str) -> str:
    """The page of a run in the Dagster UI."""
    return f"{dagster_url.rstrip('/')}/runs/{run_id}"
