"""The code location's shape: the asset graph against a committed snapshot, and a load from a fresh clone.

The snapshot (`asset_graph.json`) lists every asset with its group, upstream assets, checks, kinds and
freshness window, and the jobs, schedules and sensors; nothing volatile. A change of lineage fails the test;
when the change is intended, rewrite the file with `UPDATE_SNAPSHOTS=1 uv run pytest tests/defs/test_graph.py`
and review its diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).with_name("asset_graph.json")
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"  # read at import: the autouse fixture clears the env


def _hours(policy: dg.FreshnessPolicy | None) -> float | None:
    if policy is None:
        return None
    return policy.fail_window.to_timedelta().total_seconds() / 3600


def graph_snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "upstream": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(check.name for check in node.check_keys),
            "kinds": sorted(node.kinds),
            "freshness_fail_hours": _hours(node.freshness_policy),
            "materializable": node.is_materializable,
        }
    repository = defs.get_repository_def()
    jobs = {}
    for job in sorted(repository.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        config = dg.validate_run_config(job, None)["ops"]
        jobs[job.name] = {
            "assets": len(job.asset_layer.executable_asset_keys),
            "checks": len(job.asset_layer.asset_graph.asset_check_keys),
            "ingest_mode": config["greenlake_ingest"]["config"]["mode"],
            "tags": dict(sorted(job.tags.items())),
        }
    schedules = {
        s.name: {
            "job": s.job_name,
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "default_status": s.default_status.value,
        }
        for s in sorted(repository.schedule_defs, key=lambda s: s.name)
    }
    sensors = {
        s.name: {
            "type": type(s).__name__,
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "default_status": s.default_status.value,
        }
        for s in sorted(repository.sensor_defs, key=lambda s: s.name)
    }
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def test_asset_graph_matches_the_snapshot(glp_defs):
    current = graph_snapshot(glp_defs.defs)
    text = json.dumps(current, indent=2, sort_keys=True) + "\n"
    if UPDATE:
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.exists(), f"no {SNAPSHOT.name}: write it with UPDATE_SNAPSHOTS=1"
    assert json.loads(SNAPSHOT.read_text()) == current, f"asset graph changed; see {SNAPSHOT.name}"


def test_one_connected_graph_with_no_stubs(glp_defs):
    graph = glp_defs.defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    assert all(graph.get(key).is_materializable for key in keys), "no external or stub assets"
    assert all(parent in keys for key in keys for parent in graph.get(key).parent_keys)
    roots = {key.to_user_string() for key in keys if not graph.get(key).parent_keys}
    assert roots == {"greenlake/devices", "greenlake/subscriptions", "glp/sync_history"}


def test_definitions_load_on_a_fresh_clone_without_a_database(tmp_path):
    """A new GLP_HOME (no manifest), no DATABASE_URL: the load parses dbt and starts no PostgreSQL."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLP_", "DATABASE_URL", "SYNC_"))}
    env["GLP_HOME"] = str(home)
    code = (
        "from glp_pipeline.defs.definitions import defs\n"
        "print(len(defs.resolve_asset_graph().get_all_asset_keys()))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter running a fixed snippet
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip().splitlines()[-1]) > 20
    assert (home / "dbt" / "target" / "manifest.json").exists()
    assert not (home / "pgdata").exists(), "loading must not start the embedded PostgreSQL"
