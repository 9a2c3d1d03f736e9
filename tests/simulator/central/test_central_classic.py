"""Classic Central's monitoring lists: offset paging, envelopes, filters, and the clients' required params."""

from __future__ import annotations

import pytest

from .support import CentralLive

LISTS = [("/monitoring/v2/aps", "aps", "classic_aps"),
         ("/monitoring/v1/switches", "switches", "classic_switches"),
         ("/monitoring/v1/gateways", "gateways", "classic_gateways")]  # fmt: skip
CLIENTS = "/monitoring/v2/clients"
REQUIRED = {"timerange": "3H", "client_type": "WIRELESS", "client_status": "CONNECTED"}


@pytest.mark.parametrize(("path", "key", "truth"), LISTS)
def test_offset_paging_returns_every_device_once(
    shared_central: CentralLive, path: str, key: str, truth: str
) -> None:
    live = shared_central
    items = live.classic_all(path, key, limit=7, show_resource_details="true")
    assert items == getattr(live.sim, truth)()


def test_envelope_and_total_only_when_asked(shared_central: CentralLive) -> None:
    live = shared_central
    plain = live.get("/monitoring/v2/aps").json()
    assert set(plain) == {"aps", "count"}
    assert plain["count"] == len(plain["aps"]) == min(100, len(live.sim.classic_aps()))
    counted = live.get("/monitoring/v2/aps", calculate_total="true", limit=3, offset=2).json()
    assert (counted["count"], counted["total"]) == (3, len(live.sim.classic_aps()))
    assert counted["aps"] == live.sim.classic_aps()[2:5]


@pytest.mark.parametrize("params", [{"limit": 1001}, {"limit": 0}, {"offset": -1}, {"limit": "x"},
                                    {"calculate_total": "yes"}, {"sort": "+status"}])  # fmt: skip
def test_bad_paging_parameters_are_400(shared_central: CentralLive, params: dict[str, object]) -> None:
    response = shared_central.get("/monitoring/v1/switches", **params)
    assert response.status_code == 400
    assert response.json()["description"]


def test_unknown_parameters_are_ignored(shared_central: CentralLive) -> None:
    assert shared_central.get("/monitoring/v2/aps", no_such_thing="1").status_code == 200


def test_filters_and_sort(shared_central: CentralLive) -> None:
    live = shared_central
    aps = live.sim.classic_aps()
    site = aps[0]["site"]
    got = live.classic_all("/monitoring/v2/aps", "aps", site=site, status="Up")
    assert got == [a for a in aps if a["site"] == site and a["status"] == "Up"]
    assert live.classic_all("/monitoring/v2/aps", "aps", status="up") == []  # title case, as documented
    descending = live.classic_all("/monitoring/v2/aps", "aps", sort="-serial", limit=1000)
    assert [a["serial"] for a in descending] == sorted((a["serial"] for a in aps), reverse=True)
    one = live.get("/monitoring/v2/aps", serial=aps[3]["serial"].strip().lower()).json()
    assert one["aps"] == [aps[3]]


def test_switch_resource_details_only_on_request(shared_central: CentralLive) -> None:
    plain = shared_central.get("/monitoring/v1/switches", limit=1).json()["switches"][0]
    assert "cpu_utilization" not in plain
    detailed = shared_central.get("/monitoring/v1/switches", limit=1, show_resource_details="true")
    assert "cpu_utilization" in detailed.json()["switches"][0]


@pytest.mark.parametrize(
    ("client_type", "status"),
    [("WIRELESS", "CONNECTED"), ("WIRELESS", "FAILED_TO_CONNECT"), ("WIRED", "CONNECTED")],
)
def test_clients_paging_per_type_and_status(
    shared_central: CentralLive, client_type: str, status: str
) -> None:
    live = shared_central
    params = {"timerange": "1D", "client_type": client_type, "client_status": status}
    got = live.classic_all(CLIENTS, "clients", limit=250, **params)
    assert got == live.sim.classic_clients(client_type, status)
    assert got


@pytest.mark.parametrize("missing", ["timerange", "client_type", "client_status"])
def test_clients_require_their_three_parameters(shared_central: CentralLive, missing: str) -> None:
    params = {k: v for k, v in REQUIRED.items() if k != missing}
    response = shared_central.get(CLIENTS, **params)
    assert response.status_code == 400
    assert missing in response.json()["description"]


@pytest.mark.parametrize(
    "override",
    [{"timerange": "2H"}, {"client_type": "wireless"}, {"client_status": "FAILED"},
     {"client_type": "WIRED", "client_status": "FAILED_TO_CONNECT"}],
)  # fmt: skip
def test_clients_parameter_values_are_checked(shared_central: CentralLive, override: dict[str, str]) -> None:
    assert shared_central.get(CLIENTS, **{**REQUIRED, **override}).status_code == 400


def test_clients_filters_and_keyset_paging(shared_central: CentralLive) -> None:
    live = shared_central
    clients = live.sim.classic_clients("WIRELESS", "CONNECTED")
    guest = live.classic_all(CLIENTS, "clients", network="Guest", band="5", **REQUIRED)
    assert guest == [c for c in clients if c["network"] == "Guest" and c["band"] == 5.0]
    by_mac = sorted(clients, key=lambda c: c["macaddr"])
    page = live.get(CLIENTS, **REQUIRED, limit=10, offset=500, last_client_mac=by_mac[19]["macaddr"]).json()
    assert page["clients"] == by_mac[20:30]
    sorted_desc = live.classic_all(CLIENTS, "clients", sort="-macaddr", limit=1000, **REQUIRED)
    assert sorted_desc == sorted(clients, key=lambda c: c["macaddr"], reverse=True)
