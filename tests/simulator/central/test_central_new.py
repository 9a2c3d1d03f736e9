"""New Central's network-monitoring lists: next paging, limits, the filter subset, sort, unknown params."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .support import NEW, CentralLive

Central = Callable[..., CentralLive]
ENDPOINTS = ("devices", "aps", "switches", "gateways", "clients")


def _truth(live: CentralLive, name: str) -> list[dict[str, Any]]:
    return getattr(live.sim, name)()


@pytest.mark.parametrize("name", ENDPOINTS)
def test_next_paging_returns_every_item_exactly_once(shared_central: CentralLive, name: str) -> None:
    live = shared_central
    expected = _truth(live, name)
    extra = {"filter": "status in ('Connected', 'Failed', 'Connecting', 'Disconnected', 'Blocked')"}
    items = live.new_all(f"{NEW}/{name}", limit=37, **(extra if name == "clients" else {}))
    assert [item["id"] for item in items] == [record["id"] for record in expected]
    assert items == expected


def test_envelope_and_last_page(shared_central: CentralLive) -> None:
    total = len(shared_central.sim.devices())
    first = shared_central.get(f"{NEW}/devices", limit=100).json()
    assert set(first) == {"items", "count", "total", "next"}
    assert (first["count"], first["total"], first["next"]) == (100, total, "2")
    last_page = -(-total // 100)
    last = shared_central.get(f"{NEW}/devices", limit=100, next=str(last_page)).json()
    assert last["count"] == total - (last_page - 1) * 100
    assert last["next"] is None
    beyond = shared_central.get(f"{NEW}/devices", limit=100, next=str(last_page + 1)).json()
    assert (beyond["items"], beyond["next"], beyond["total"]) == ([], None, total)


@pytest.mark.parametrize(("name", "default"), [("devices", 1000), ("aps", 20), ("gateways", 20),
                                               ("switches", 1000), ("clients", 100)])  # fmt: skip
def test_default_limits(shared_central: CentralLive, name: str, default: int) -> None:
    body = shared_central.get(f"{NEW}/{name}").json()
    assert body["count"] == min(default, body["total"])


@pytest.mark.parametrize(
    ("name", "limit"),
    [("devices", 1001), ("devices", -1), ("aps", 5000), ("clients", 0), ("switches", "ten")],
)
def test_limit_out_of_range_is_a_400(shared_central: CentralLive, name: str, limit: Any) -> None:
    response = shared_central.get(f"{NEW}/{name}", limit=limit)
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "HPE_GL_NETWORK_MONITORING_INVALID_INPUT"
    assert "limit" in body["message"]


def test_limit_zero_is_legal_where_documented(shared_central: CentralLive) -> None:
    body = shared_central.get(f"{NEW}/devices", limit=0).json()
    assert (body["items"], body["next"]) == ([], None)
    assert body["total"] == len(shared_central.sim.devices())


@pytest.mark.parametrize("page", ["0", "-1", "two"])
def test_bad_next_is_a_400(shared_central: CentralLive, page: str) -> None:
    assert shared_central.get(f"{NEW}/devices", next=page).status_code == 400


@pytest.mark.parametrize("param", ["offset", "select", "pageSize", "site-id"])
def test_unknown_query_parameter_is_a_400_with_the_envelope(shared_central: CentralLive, param: str) -> None:
    response = shared_central.get(f"{NEW}/devices", **{param: "1"})
    assert response.status_code == 400
    body = response.json()
    assert {"httpStatusCode", "errorCode", "message", "debugId"} <= set(body)
    assert body["httpStatusCode"] == 400
    assert body["message"] == f"Unknown query parameter: {param}"


@pytest.mark.parametrize(
    "expression",
    [
        "status eq 'ONLINE' or status eq 'OFFLINE'",
        "not status eq 'ONLINE'",
        "status ne 'ONLINE'",
        "model gt 'A'",
        "partNumber eq 'JL658A'",  # not a documented filter field
        "status eq ONLINE",  # unquoted
        "siteName eq '" + "x" * 260 + "'",  # over 256 characters
    ],
)
def test_filters_new_central_refuses(shared_central: CentralLive, expression: str) -> None:
    response = shared_central.get(f"{NEW}/devices", filter=expression)
    assert response.status_code == 400, expression
    assert response.json()["message"].startswith("invalid filter")


def test_and_filters_with_eq_and_in(shared_central: CentralLive) -> None:
    live = shared_central
    devices = live.sim.devices()
    site = devices[0]["siteId"]
    expression = f"siteId eq '{site}' and deviceType in ('ACCESS_POINT', 'SWITCH') and status eq 'ONLINE'"
    got = live.new_all(f"{NEW}/devices", filter=expression)
    expected = [
        d for d in devices
        if d["siteId"] == site and d["deviceType"] in ("ACCESS_POINT", "SWITCH") and d["status"] == "ONLINE"
    ]  # fmt: skip
    assert got == expected
    assert got


def test_status_casing_differs_per_endpoint(shared_central: CentralLive) -> None:
    live = shared_central
    assert live.get(f"{NEW}/switches", filter="status eq 'ONLINE'").json()["total"] == 0
    online = live.get(f"{NEW}/switches", filter="status eq 'Online'").json()
    assert online["total"] == sum(s["status"] == "Online" for s in live.sim.switches())
    assert live.get(f"{NEW}/aps", filter="status eq 'Online'").json()["total"] == 0


def test_sort(shared_central: CentralLive) -> None:
    live = shared_central
    by_name = live.new_all(f"{NEW}/devices", sort="deviceName desc")
    assert [d["deviceName"] for d in by_name] == sorted((d["deviceName"] for d in by_name), reverse=True)
    two_keys = live.new_all(f"{NEW}/devices", sort="siteName asc, serialNumber")
    keys = [(d["siteName"], d["serialNumber"]) for d in two_keys]
    assert keys == sorted(keys)
    assert live.get(f"{NEW}/devices", sort="status").status_code == 400  # not a documented sort field
    assert live.get(f"{NEW}/devices", sort="deviceName sideways").status_code == 400


def test_v1alpha1_is_an_alias(shared_central: CentralLive) -> None:
    for name in ENDPOINTS:
        old = shared_central.get(f"/network-monitoring/v1alpha1/{name}", limit=50).json()
        new = shared_central.get(f"{NEW}/{name}", limit=50).json()
        assert old == new
    assert shared_central.get("/network-monitoring/v1alpha1/devices", bogus=1).status_code == 400


def test_clients_default_to_connected_unless_filtered(shared_central: CentralLive) -> None:
    live = shared_central
    clients = live.sim.clients()
    default = live.new_all(f"{NEW}/clients", limit=1000)
    assert default == [c for c in clients if c["status"] == "Connected"]
    wired = live.new_all(f"{NEW}/clients", limit=1000, filter="clientConnectionType eq 'Wired'")
    assert wired == [c for c in clients if c["clientConnectionType"] == "Wired"]
    assert {c["status"] for c in wired} > {"Connected"}
    vlan = live.new_all(f"{NEW}/clients", limit=1000, filter="vlanId eq 200 and status eq 'Failed'")
    assert vlan == [c for c in clients if c["vlanId"] == "200" and c["status"] == "Failed"]


def test_clients_scope_parameters(shared_central: CentralLive) -> None:
    live = shared_central
    clients = [c for c in live.sim.clients() if c["status"] == "Connected"]
    site = clients[0]["siteId"]
    assert live.new_all(f"{NEW}/clients", **{"site-id": site}) == [c for c in clients if c["siteId"] == site]
    serial = clients[0]["connectedDeviceSerial"]
    by_device = live.new_all(f"{NEW}/clients", **{"serial-number": f" {serial.lower()} "})
    assert by_device == [c for c in clients if c["connectedDeviceSerial"] == serial]
    window = {"start-at": "2026-02-27T00:00:00Z", "end-at": "2026-03-01T00:00:00Z"}
    assert live.get(f"{NEW}/clients", **window).status_code == 200
    too_long = {"start-at": "2026-02-01T00:00:00Z", "end-at": "2026-03-01T00:00:00Z"}
    assert live.get(f"{NEW}/clients", **too_long).status_code == 400
    assert live.get(f"{NEW}/clients", **too_long, **{"site-id": site}).status_code == 200
    assert live.get(f"{NEW}/clients", **{"start-at": "yesterday"}).status_code == 400


def test_detail_paths(shared_central: CentralLive) -> None:
    live = shared_central
    ap = live.sim.aps()[0]
    assert live.get(f"{NEW}/aps/{ap['serialNumber'].strip().lower()}").json() == ap
    client = live.sim.clients()[0]
    assert live.get(f"{NEW}/clients/{client['macAddress'].upper()}").json() == client
    missing = live.get(f"{NEW}/switches/NOPE0000")
    assert missing.status_code == 404
    assert missing.json()["httpStatusCode"] == 404


def test_page_cap_keeps_next_paging_complete(central: Central) -> None:
    live = central(page_cap=25, rate_limits=False)
    body = live.get(f"{NEW}/switches", limit=1000).json()
    assert body["count"] == 25
    assert body["next"] == "2"
    assert live.new_all(f"{NEW}/switches", limit=1000) == live.sim.switches()


def test_omit_total_fault(central: Central) -> None:
    live = central()
    live.sim.faults.omit_total = True
    assert "total" not in live.get(f"{NEW}/devices", limit=5).json()
