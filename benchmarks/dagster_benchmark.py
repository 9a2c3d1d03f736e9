"""Benchmark: the same full pipeline (sync + dbt build) run directly and through Dagster.

    uv run python benchmarks/dagster_benchmark.py               # 100,000 devices + 50,000 subscriptions
    uv run python benchmarks/dagster_benchmark.py --scale 10000:5000

Both runs start from an empty database on the same embedded PostgreSQL and read the same simulator (its own
process, unpaced). "direct" is `run_sync` + `transform.build` in this process; "dagster" is the `sync_full`
job executed in process against a Dagster instance with PostgreSQL storage (what `glp demo` runs first):
Dagster's own bookkeeping and the asset checks (dbt runs in the op's process, through dbt's Python API, as
in the direct path). Prints wall times and Dagster's overhead in percent.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

from sync_benchmark import SimulatorProcess, simulator_settings

from glp_pipeline.database import EmbeddedPostgres
from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.orchestration import materialize_all, prepare_dagster_home
from glp_pipeline.settings import get_settings
from glp_pipeline.sync import run_sync
from glp_pipeline.transform import build


def _fresh_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", default="100000:50000", help="DEVICES:SUBSCRIPTIONS")
    args = parser.parse_args()
    devices, subscriptions = map(int, args.scale.split(":"))

    with tempfile.TemporaryDirectory(prefix="glp-dagster-bench-") as tmp:
        embedded = EmbeddedPostgres(Path(tmp) / "pg")
        admin_url = embedded.start().rsplit("/", 1)[0] + "/postgres"
        sim = SimulatorProcess(devices, subscriptions, 50)
        try:
            common = {
                "GLP_BASE_URL": sim.base_url,
                "GLP_TOKEN_URL": sim.token_url,
                "GLP_CLIENT_ID": sim.client_id,
                "GLP_CLIENT_SECRET": sim.client_secret,
                "GLP_PACING": "false",
            }
            # direct
            url = _fresh_database(admin_url, "direct")
            settings = simulator_settings(sim, Path(tmp) / "direct-home", url)
            started = time.monotonic()
            with GreenLakeClient.from_settings(settings) as client:
                run_sync(settings, client, mode="full", url=url)
            synced = time.monotonic()
            build(settings, url=url)
            direct = time.monotonic() - started
            direct_steps = {"sync": synced - started, "dbt build": direct - (synced - started)}
            _settle(url)

            # through Dagster
            url = _fresh_database(admin_url, "dagster")
            home = Path(tmp) / "dagster-home"
            os.environ.update(common | {"GLP_HOME": str(home), "DATABASE_URL": url})
            get_settings.cache_clear()
            os.environ.update(prepare_dagster_home(get_settings(), url))
            started = time.monotonic()
            run_id = materialize_all(mode="full")
            dagster = time.monotonic() - started
            dagster_steps = _step_durations(run_id)
        finally:
            sim.close()
            embedded.stop()

    print(f"{devices:,} devices + {subscriptions:,} subscriptions, full sync + dbt build")
    print(f"  direct:  {direct:6.1f} s")
    print(f"  dagster: {dagster:6.1f} s")
    print(f"  Dagster overhead: {100 * (dagster - direct) / direct:+.0f} %")
    print("  direct steps:  " + ", ".join(f"{k} {v:.1f} s" for k, v in direct_steps.items()))
    print("  dagster steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in dagster_steps.items()))
    print(f"  dagster outside its steps: {dagster - sum(dagster_steps.values()):.1f} s")


def _settle(url: str) -> None:
    """Let PostgreSQL finish the work a load leaves behind (autovacuum of the new rows, a checkpoint of
    their WAL) before the other path is timed, so it does not run in that path's time."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
        conn.execute("checkpoint")


def _step_durations(run_id: str) -> dict[str, float]:
    """Wall time of each step of a Dagster run, from its event log (start to success or failure)."""
    from dagster import DagsterEventType, DagsterInstance

    instance = DagsterInstance.get()
    started: dict[str, float] = {}
    durations: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            started[event.step_key] = record.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            durations[event.step_key] = record.timestamp - started.get(event.step_key, record.timestamp)
    return durations


if __name__ == "__main__":
    main()
