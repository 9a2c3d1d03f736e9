"""Applying a bulk assignment end to end: a CSV, the plan, the journal, real HTTP to the simulator, undo."""

from __future__ import annotations

import csv
import io
from typing import Any

import psycopg
import pytest

from glp_pipeline.assign import apply, workflow
from glp_pipeline.assign import journal as j
from glp_pipeline.assign import plan as p
from glp_pipeline.greenlake import GreenLakeClient

FAST = {  # the client polls async operations without waiting seconds, and is not paced
    "async_poll_min_seconds": 0.0,
    "async_poll_default_seconds": 0.01,
    "backoff_initial_seconds": 0.01,
    "backoff_max_seconds": 0.2,
    "pacing": False,
}
SIMULATOR = {
    "devices": 120,
    "subscriptions": 40,
    "seed": 31,
    "async_polls_to_finish": 2,
    "async_seconds_to_finish": None,
    "async_poll_interval_seconds": 0,
}


@pytest.fixture
def db(synced_database):
    """A fresh workspace and database per test: these tests change GreenLake."""
    return synced_database(**SIMULATOR)


def _client(db, **overrides: Any) -> GreenLakeClient:
    return GreenLakeClient.from_settings(db.settings, **(FAST | overrides))


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=sorted({k for r in rows for k in r}, key=str))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _state(sim) -> dict[str, dict[str, Any]]:
    """What an assignment can change, per serial number, as the simulator now has it."""
    return {
        d["serialNumber"]: {
            "application": (d.get("application") or {}).get("id"),
            "region": d.get("region"),
            "subscriptions": [s["id"] for s in d.get("subscription") or []],
            "tags": dict(d.get("tags") or {}),
            "archived": bool(d.get("archived")),
        }
        for d in sim.devices()
    }


def _scenario(db) -> tuple[bytes, dict[str, Any]]:
    """A file touching several devices in every way, and what each device should look like after."""
    sim = db.sim
    devices = sim.devices()
    managers = sim.service_managers()
    network = next(m for m in managers if "Networking" in m["name"])
    region = network["regions"][0]
    aps = [d for d in devices if d["deviceType"] in ("IAP", "AP") and not d.get("archived")]
    ap_key = next(
        s for s in sim.subscriptions()
        if s["subscriptionType"] == "CENTRAL_AP" and s["subscriptionStatus"] == "STARTED"
        and int(s["availableQuantity"]) >= 2
    )  # fmt: skip
    moved, subscribed, tagged, archived = aps[0], aps[1], aps[2], aps[3]
    rows = [
        {"Serial Number": moved["serialNumber"], "Application": network["name"], "Region": region},
        {"Serial Number": subscribed["serialNumber"], "Subscription Key": ap_key["key"]},
        {"Serial Number": tagged["serialNumber"], "Tags": "site=lab; owner=netops"},
        {"Serial Number": archived["serialNumber"], "Archive": "yes"},
        {"Serial Number": "NEWAP00001", "MAC Address": "94-60-d5-aa-00-01", "Application": network["name"],
         "Region": region},
    ]  # fmt: skip
    expected = {
        moved["serialNumber"]: {"application": network["id"], "region": region},
        subscribed["serialNumber"]: {"subscriptions": [ap_key["id"]]},
        tagged["serialNumber"]: {"tags": dict(tagged.get("tags") or {}) | {"site": "lab", "owner": "netops"}},
        archived["serialNumber"]: {"archived": True},
        "NEWAP00001": {"application": network["id"], "region": region},
    }
    return _csv(rows), expected


def _run(db, data: bytes, client: GreenLakeClient, **kw: Any) -> tuple[dict, list[j.JournalledChange]]:
    prepared = workflow.prepare(data, "assign.csv", db.url, db.settings, client)
    assert prepared.plan.errors == [], prepared.plan.errors
    run_id = workflow.start(db.url, prepared, "tester")
    with psycopg.connect(db.url, autocommit=True) as conn:
        run = apply.apply_run(client, conn, run_id, **kw)
        return run, j.operations(conn, run_id)


def test_greenlake_changes_exactly_as_planned_and_undo_puts_it_back(db):
    data, expected = _scenario(db)
    before = _state(db.sim)
    with _client(db) as client:
        run, operations = _run(db, data, client)
    assert run["status"] == j.FINISHED and run["failed"] == 0, operations
    assert {o.status for o in operations} == {j.SUCCEEDED}
    assert all(o.operation_id for o in operations), "every operation's async-operation id is journalled"

    after = _state(db.sim)
    for serial, fields in expected.items():
        assert {k: after[serial][k] for k in fields} == fields, serial
    untouched = set(before) - set(expected)
    assert {s: after[s] for s in untouched} == {s: before[s] for s in untouched}, "nothing else changed"

    with _client(db) as client:
        undo_id, notes = workflow.undo(db.url, run["run_id"], "tester")
        assert undo_id is not None and "NEWAP00001" in notes[0]
        with psycopg.connect(db.url, autocommit=True) as conn:
            undone = apply.apply_run(client, conn, undo_id)
    assert undone["status"] == j.FINISHED and undone["failed"] == 0
    restored = _state(db.sim)
    assert {s: restored[s] for s in before} == before, "undo restores every device it can"
    assert restored["NEWAP00001"]["application"] is None, "the added device stays, unassigned again"


def test_partial_failures_are_reported_per_device(db):
    data, expected = _scenario(db)
    moved_serial = next(iter(expected))
    with _client(db) as client:
        prepared = workflow.prepare(data, "assign.csv", db.url, db.settings, client)
        run_id = workflow.start(db.url, prepared, "tester")
        gone = next(d["id"] for d in db.sim.devices() if d["serialNumber"] == moved_serial)
        with db.sim.inventory.lock:  # someone removes the device in GreenLake after the plan was made
            db.sim.inventory.collection("devices").delete(gone)
        with psycopg.connect(db.url, autocommit=True) as conn:
            run = apply.apply_run(client, conn, run_id)
            operations = {o.change.serial_number: o for o in j.operations(conn, run_id)}
    assert run["status"] == j.FINISHED
    assert operations[moved_serial].status == j.FAILED
    assert operations[moved_serial].error_code == "HPE_GL_ERROR_NOT_FOUND"
    others = [o for s, o in operations.items() if s != moved_serial]
    assert others and {o.status for o in others} == {j.SUCCEEDED}
    assert run["failed"] == 1


def test_rate_limited_writes_are_retried_and_the_run_completes(db):
    data, expected = _scenario(db)
    db.sim.faults.rate_limit_burst = 4  # the next four API calls answer 429
    with _client(db) as client:
        run, operations = _run(db, data, client)
        assert client.stats.rate_limited >= 4
    assert run["status"] == j.FINISHED and {o.status for o in operations} == {j.SUCCEEDED}
    after = _state(db.sim)
    for serial, fields in expected.items():
        assert {k: after[serial][k] for k in fields} == fields


def test_progress_is_reported_with_counts(db):
    data, _ = _scenario(db)
    seen: list[tuple[str, int, int]] = []
    with _client(db) as client:
        run, _ = _run(db, data, client, on_progress=lambda pr: seen.append((pr.stage, pr.done, pr.total)))
    assert seen[-1][1:] == (run["changes"], run["changes"])
    stages = [s for s, _, _ in seen]
    assert stages.index(p.ADD) < stages.index(p.APPLICATION) < stages.index(p.ARCHIVE)
