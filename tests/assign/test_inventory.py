"""A plan against a real inventory: the marts loaded from the simulator, read through the query layer."""

from __future__ import annotations

import pytest

from glp_pipeline.assign import plan as p
from glp_pipeline.assign import workbook as wb
from glp_pipeline.queries.assignment import devices_by_serial, subscriptions_by_key
from glp_pipeline.simulator.catalog import REGIONS


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=300, subscriptions=80, seed=21)


def _applications(sim) -> tuple[p.Application, ...]:
    ids = sorted({d["application"]["id"] for d in sim.devices() if d.get("application")})
    return tuple(p.Application(i, f"App {n}", REGIONS) for n, i in enumerate(ids))


def test_devices_and_subscriptions_are_found_by_serial_and_key_in_any_case(db):
    device = next(d for d in db.sim.devices() if d.get("subscription"))
    subscription = db.sim.subscriptions()[0]
    found = devices_by_serial(db.url, [device["serialNumber"].lower(), "NO-SUCH-SERIAL"])
    assert list(found) == [device["serialNumber"].upper()]
    row = found[device["serialNumber"].upper()]
    assert row["device_id"] == device["id"]
    assert [s["id"] for s in row["subscriptions"]] == [s["id"] for s in device["subscription"]]
    keys = subscriptions_by_key(db.url, [subscription["key"].lower()])
    assert keys[subscription["key"].upper()]["subscription_id"] == subscription["id"]
    assert devices_by_serial(db.url, []) == {}


def test_a_plan_from_the_database_matches_the_simulator(db):
    unassigned = [d for d in db.sim.devices() if not d.get("application")][:3]
    target = _applications(db.sim)[0]
    rows = [
        wb.SheetRow(n, {wb.SERIAL: d["serialNumber"], wb.APPLICATION: target.name, wb.REGION: "eu-west"})
        for n, d in enumerate(unassigned, start=2)
    ]
    rows.append(wb.SheetRow(9, {wb.SERIAL: "NOTINGL123", wb.MAC: "00-11-22-33-44-55"}))
    sheet = wb.Sheet(rows=rows, columns=[wb.SERIAL, wb.APPLICATION, wb.REGION, wb.MAC])
    inventory = p.load_inventory(db.url, sheet, _applications(db.sim))
    plan = p.build_plan(sheet, inventory)
    assert plan.errors == []
    assert {(c.kind, c.device_id) for c in plan.changes} == {
        *((p.APPLICATION, d["id"]) for d in unassigned),
        (p.ADD, None),
    }
