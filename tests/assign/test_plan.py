"""Rows and plans: what a spreadsheet asks for, checked row by row against an inventory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from glp_pipeline.assign import plan as p
from glp_pipeline.assign import workbook as wb
from glp_pipeline.assign.rows import normalize_mac, parse_tags

NOW = datetime(2026, 11, 26, tzinfo=UTC)
CENTRAL = p.Application("app-central", "Aruba Central", ("us-west", "eu-central"))
COMPUTE_OPS = p.Application("app-compute", "Compute Ops Management", ("us-west",))


def _device(serial, device_type="IAP", **extra):
    return {
        "device_id": f"id-{serial}",
        "serial_number": serial,
        "device_type": device_type,
        "mac_address": "94:60:D5:00:00:01",
        "part_number": "R4W02A",
        "application_id": None,
        "region": None,
        "is_archived": False,
        "tags": {},
        "subscriptions": [],
    } | extra


def _subscription(key, subscription_type="CENTRAL_AP", available=10, **extra):
    return {
        "subscription_id": f"sub-{key}",
        "subscription_key": key,
        "subscription_type": subscription_type,
        "product_type": "DEVICE",
        "subscription_status": "STARTED",
        "available_quantity": available,
        "ends_at": NOW + timedelta(days=300),
        "is_removed": False,
    } | extra


INVENTORY = p.Inventory(
    devices={
        "AP1": _device("AP1"),
        "AP2": _device("AP2", application_id="app-central", region="us-west", subscriptions=[
            {"id": "sub-OLDKEY", "key": "OLDKEY"}], tags={"Site": "hq", "floor": "3"}),
        "SW1": _device("SW1", "SWITCH"),
        "SW2": _device("SW2", "SWITCH"),
        "AP3": _device("AP3"),
        "AP4": _device("AP4"),
        "ARCH1": _device("ARCH1", is_archived=True),
        "ODD1": _device("ODD1", "WIFI7_AP"),
    },
    subscriptions={
        "APKEY": _subscription("APKEY"),
        "ONELEFT": _subscription("ONELEFT", available=1),
        "ENDED": _subscription("ENDED", subscription_status="ENDED"),
        "SUPPORT": _subscription("SUPPORT", product_type="SUPPORT"),
        "OLDKEY": _subscription("OLDKEY"),
    },
    applications=(CENTRAL, COMPUTE_OPS),
)  # fmt: skip


def _plan(*rows: dict[str, str]) -> p.Plan:
    sheet = wb.Sheet(rows=[wb.SheetRow(n, cells) for n, cells in enumerate(rows, start=2)], columns=[])
    return p.build_plan(sheet, INVENTORY, now=NOW)


def _row(serial, **cells):
    names = {"app": wb.APPLICATION, "region": wb.REGION, "key": wb.SUBSCRIPTION, "tags": wb.TAGS,
             "archive": wb.ARCHIVE, "mac": wb.MAC, "part": wb.PART, "type": wb.DEVICE_TYPE}  # fmt: skip
    return {wb.SERIAL: serial} | {names[k]: v for k, v in cells.items()}


def _errors(plan):
    """All error messages of each (row, column), joined."""
    found: dict[tuple[int, str | None], str] = {}
    for issue in plan.errors:
        key = (issue.row, issue.column)
        found[key] = f"{found[key]} | {issue.message}" if key in found else issue.message
    return found


def test_a_full_row_becomes_ordered_changes_with_before_and_after():
    plan = _plan(_row("ap1", app="Aruba Central", region="us-west", key="apkey", tags="site=hq; -old"))
    assert plan.errors == []
    assert [c.kind for c in plan.ordered()] == [p.APPLICATION, p.SUBSCRIPTION, p.TAGS]
    application, subscription, tags = plan.ordered()
    assert application.device_id == "id-AP1"
    assert (application.before, application.after) == (
        None,
        {"application_id": "app-central", "region": "us-west"},
    )
    assert subscription.after == {"id": "sub-APKEY", "key": "APKEY"}
    assert (tags.before, tags.after) == ({"site": None}, {"site": "hq"}), (
        "removing an absent tag is no change"
    )
    assert plan.can_apply


def test_changing_an_existing_application_subscription_and_tags():
    plan = _plan(_row("AP2", app="app-central", region="eu-central", key="APKEY", tags="SITE=lab; -floor"))
    by_kind = {c.kind: c for c in plan.changes}
    assert by_kind[p.APPLICATION].before == {"application_id": "app-central", "region": "us-west"}
    assert by_kind[p.APPLICATION].after["region"] == "eu-central"
    assert by_kind[p.SUBSCRIPTION].before == [{"id": "sub-OLDKEY", "key": "OLDKEY"}]
    assert by_kind[p.TAGS].before == {"Site": "hq", "floor": "3"}
    assert by_kind[p.TAGS].after == {"Site": "lab", "floor": None}, "the existing key's spelling is kept"


def test_what_is_already_so_is_no_change():
    plan = _plan(_row("AP2", app="Aruba Central", region="us-west", key="OLDKEY", tags="site=hq"))
    assert plan.changes == [] and plan.unchanged == ["AP2"]
    assert not plan.can_apply


def test_removing_application_and_subscription():
    plan = _plan(_row("AP2", app="-", key="-"))
    assert [c.kind for c in plan.ordered()] == [p.UNASSIGN, p.REMOVE_SUBSCRIPTION]
    assert plan.ordered()[0].before == {"application_id": "app-central", "region": "us-west"}


def test_devices_to_add_need_a_mac_or_a_part_number_and_type():
    plan = _plan(
        _row("NEW1", mac="94-60-d5-aa-bb-cc", app="Aruba Central", region="us-west"),
        _row("NEW2", part="P52534-B21", type="compute"),
        _row("NEW3", part="P52534-B21"),
        _row("NEW4"),
        _row("NEW5", type="NETWORK"),
    )
    adds = {c.serial_number: c.after for c in plan.changes if c.kind == p.ADD}
    assert adds == {
        "NEW1": {"kind": "NETWORK", "serialNumber": "NEW1", "macAddress": "94:60:D5:AA:BB:CC"},
        "NEW2": {"kind": "COMPUTE", "serialNumber": "NEW2", "partNumber": "P52534-B21"},
    }
    assert any(
        c.kind == p.APPLICATION and c.serial_number == "NEW1" and c.device_id is None for c in plan.changes
    )
    errors = _errors(plan)
    assert "COMPUTE or STORAGE" in errors[(4, wb.DEVICE_TYPE)]
    assert "not in the workspace" in errors[(5, wb.SERIAL)]
    assert "needs a MAC Address" in errors[(6, wb.MAC)]
    assert not plan.can_apply, "one bad row blocks the whole file"


def test_every_bad_row_is_reported_not_just_the_first():
    plan = _plan(
        _row("AP1", app="Nope", region="us-west"),
        _row("AP1", key="APKEY"),
        _row("SW1", key="APKEY"),
        _row("AP2", key="ENDED"),
        _row("ODD1", key="SUPPORT"),
        _row("ARCH1", tags="a=1"),
        _row("bad serial!", mac="xyz"),
        _row("SW2", app="Compute Ops Management", region="eu-central"),
        _row("AP3", key="NOKEY", archive="maybe"),
        _row("AP4", tags="ok=1; Ok=2; bad#char=1"),
    )
    errors = _errors(plan)
    assert "Unknown application 'Nope'" in errors[(2, wb.APPLICATION)]
    assert "Aruba Central" in errors[(2, wb.APPLICATION)], "the message lists the choices"
    assert "also in row 2" in errors[(3, wb.SERIAL)]
    assert "for AP, IAP devices, not SWITCH" in errors[(4, wb.SUBSCRIPTION)]
    assert "has ended" in errors[(5, wb.SUBSCRIPTION)]
    assert "only DEVICE subscriptions" in errors[(6, wb.SUBSCRIPTION)]
    assert "is archived" in errors[(7, wb.ARCHIVE)]
    assert "not a serial number" in errors[(8, wb.SERIAL)]
    assert "not a MAC address" in errors[(8, wb.MAC)]
    assert "not offered in region 'eu-central'" in errors[(9, wb.REGION)]
    assert "NOKEY is not in the workspace" in errors[(10, wb.SUBSCRIPTION)]
    assert "yes or no" in errors[(10, wb.ARCHIVE)]
    assert "given twice" in errors[(11, wb.TAGS)]
    assert len(plan.errors) >= 13
    assert plan.changes == [], "rows with errors plan nothing"


def test_a_subscription_runs_out_within_the_file():
    plan = _plan(_row("AP1", key="ONELEFT"), _row("AP2", key="ONELEFT"))
    assert [c.serial_number for c in plan.changes if c.kind == p.SUBSCRIPTION] == ["AP1"]
    assert "used up by earlier rows" in _errors(plan)[(3, wb.SUBSCRIPTION)]


def test_unknown_device_types_are_data_with_a_warning():
    plan = _plan(_row("ODD1", key="APKEY"))
    assert plan.errors == [] and [c.kind for c in plan.changes] == [p.SUBSCRIPTION]
    assert any(i.severity == "warning" and "Cannot check" in i.message for i in plan.issues)


def test_unarchive_comes_first_and_archive_last():
    plan = _plan(_row("ARCH1", archive="no", tags="a=1"), _row("AP1", archive="yes", key="APKEY"))
    assert [(c.kind, c.serial_number) for c in plan.ordered()] == [
        (p.UNARCHIVE, "ARCH1"),
        (p.SUBSCRIPTION, "AP1"),
        (p.TAGS, "ARCH1"),
        (p.ARCHIVE, "AP1"),
    ]


@pytest.mark.parametrize(
    ("text", "mac"),
    [
        ("94:60:d5:12:34:56", "94:60:D5:12:34:56"),
        ("94-60-D5-12-34-56", "94:60:D5:12:34:56"),
        ("9460.d512.3456", "94:60:D5:12:34:56"),
        ("9460d5123456", "94:60:D5:12:34:56"),
        ("94:60:d5:12:34", None),
        ("94:60:d5:12:34:5g", None),
    ],
)
def test_mac_notations(text, mac):
    assert normalize_mac(text) == mac


def test_tag_rules():
    tags, errors = parse_tags("site=hq; empty=; -gone; k=v=w")
    assert tags == {"site": "hq", "empty": "", "gone": None, "k": "v=w"} and errors == []
    _, errors = parse_tags("noequals; " + "x" * 129 + "=1; a=" + "v" * 257)
    assert len(errors) == 3
    _, errors = parse_tags("; ".join(f"k{i}=v" for i in range(26)))
    assert errors == ["More than 25 tags for one device."]
