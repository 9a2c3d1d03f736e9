"""The Central inventory: deterministic, overlapping the GreenLake simulator's serials as the truth says."""

from __future__ import annotations

from collections import Counter

import pytest

from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig
from glp_pipeline.simulator.central import CentralSimulator, normalise_serial

from ..support import NOW
from .support import make_config


@pytest.fixture(scope="module")
def sim() -> CentralSimulator:
    return CentralSimulator(make_config())


def test_same_seed_same_data_and_another_seed_differs(sim: CentralSimulator) -> None:
    again = CentralSimulator(make_config())
    assert again.devices() == sim.devices()
    assert again.clients() == sim.clients()
    assert again.classic_aps() == sim.classic_aps()
    assert again.classic_clients() == sim.classic_clients()
    assert again.sites() == sim.sites()
    assert again.cross_truth == sim.cross_truth
    other = CentralSimulator(make_config(seed=8))
    assert {d["serialNumber"] for d in other.devices()} != {d["serialNumber"] for d in sim.devices()}


def test_greenlake_side_is_the_greenlake_simulators(sim: CentralSimulator) -> None:
    glp = GreenLakeSimulator(SimulatorConfig(seed=7, devices=300, subscriptions=60, now=NOW))
    assert sim.greenlake_devices() == glp.devices()


def test_overlap_matches_the_ground_truth(sim: CentralSimulator) -> None:
    glp = GreenLakeSimulator(SimulatorConfig(seed=7, devices=300, subscriptions=60, now=NOW)).devices()
    glp_serials = {normalise_serial(d["serialNumber"]) for d in glp}
    central = {normalise_serial(d["serialNumber"]) for d in sim.devices()}
    truth = sim.cross_truth
    assert len(central) == len(sim.devices())  # unique after normalising
    assert truth.both == central & glp_serials
    assert truth.central_only == central - glp_serials
    assert truth.greenlake_only == glp_serials - central
    assert len(truth.central_only) == 20
    assert len(truth.both) > 150
    network = {"IAP", "AP", "WIFI7_AP", "SWITCH", "GATEWAY", "CONTROLLER"}
    glp_types = {normalise_serial(d["serialNumber"]): d["deviceType"] for d in glp}
    assert {glp_types[s] for s in truth.both} <= network
    assert {"COMPUTE", "STORAGE"} <= {glp_types[s] for s in truth.greenlake_only}
    assert truth.greenlake_only_network  # some Aruba gear is not in Central
    assert truth.greenlake_only_network <= truth.greenlake_only
    assert all(glp_types[s] in network for s in truth.greenlake_only_network)


def test_mismatches_are_real_differences(sim: CentralSimulator) -> None:
    truth = sim.cross_truth
    assert truth.model_mismatches
    assert truth.name_mismatches
    glp = {normalise_serial(d["serialNumber"]): d for d in sim.greenlake_devices()}
    central = {normalise_serial(d["serialNumber"]): d for d in sim.devices()}
    for serial in truth.both:
        theirs, ours = glp[serial], central[serial]
        assert (serial in truth.model_mismatches) == (theirs["model"] != ours["model"])
        named = theirs["deviceName"] is not None
        assert (serial in truth.name_mismatches) == (named and theirs["deviceName"] != ours["deviceName"])
    for serial, (theirs, ours) in truth.model_mismatches.items():
        assert (glp[serial]["model"], central[serial]["model"]) == (theirs, ours)


def test_some_serials_need_normalising(sim: CentralSimulator) -> None:
    serials = [d["serialNumber"] for d in sim.devices()]
    assert any(s != s.strip() for s in serials)
    assert any(s.strip() != s.strip().upper() for s in serials)
    assert all(d["id"] == normalise_serial(d["serialNumber"]) for d in sim.devices())


def test_shapes_and_status_casing(sim: CentralSimulator) -> None:
    devices = sim.devices()
    assert {d["deviceType"] for d in devices} == {"ACCESS_POINT", "SWITCH", "GATEWAY"}
    assert len(devices) == len(sim.aps()) + len(sim.switches()) + len(sim.gateways())
    assert {d["status"] for d in devices} == {"ONLINE", "OFFLINE"}
    assert {d["status"] for d in sim.aps()} == {"ONLINE", "OFFLINE"}
    assert {d["status"] for d in sim.switches()} == {"Online", "Offline"}
    assert {d["status"] for d in sim.gateways()} <= {"Online", "Offline"}
    assert {d["status"] for d in sim.classic_aps()} == {"Up", "Down"}
    assert all(d["lastSeenAt"] is None for d in devices if d["status"] == "ONLINE")
    assert [a["serial"] for a in sim.classic_aps()] == [a["serialNumber"] for a in sim.aps()]
    assert [s["serial"] for s in sim.classic_switches()] == [s["serialNumber"] for s in sim.switches()]
    assert [g["serial"] for g in sim.classic_gateways()] == [g["serialNumber"] for g in sim.gateways()]
    sites = sim.sites()
    assert 20 <= len(sites) <= 60
    assert len({s["siteId"] for s in sites}) == len({s["siteName"] for s in sites}) == len(sites)
    assert {d["siteId"] for d in devices} <= {s["siteId"] for s in sites}


def test_clients_are_spread_and_varied(sim: CentralSimulator) -> None:
    clients = sim.clients()
    assert len(clients) == 2000
    assert len({c["macAddress"] for c in clients}) == 2000
    by_serial = {d["serialNumber"]: d for d in sim.devices()}
    for client in clients:
        device = by_serial[client["connectedDeviceSerial"]]
        expected = "SWITCH" if client["clientConnectionType"] == "Wired" else "ACCESS_POINT"
        assert device["deviceType"] == expected
        assert client["siteId"] == device["siteId"]
    statuses = Counter(c["status"] for c in clients)
    assert set(statuses) == {"Connected", "Failed", "Connecting", "Disconnected", "Blocked"}
    assert statuses["Connected"] > len(clients) / 2
    wireless = [c for c in clients if c["clientConnectionType"] == "Wireless"]
    assert {c["wirelessBand"] for c in wireless} == {"2.4GHz", "5GHz", "6GHz"}
    assert len({c["wlanName"] for c in wireless}) >= 4
    assert len({c["vlanId"] for c in clients}) >= 4
    assert len({c["clientOperatingSystem"] for c in clients}) >= 5
    assert len({c["clientManufacturer"] for c in clients}) >= 8
    assert all(5 <= c["snr"] <= 60 for c in wireless)
    assert len({c["siteId"] for c in clients}) > 10
    connected = Counter(c["connectedDeviceSerial"] for c in clients if c["status"] == "Connected")
    assert all(ap["clientCount"] == connected[ap["serialNumber"]] for ap in sim.aps())


def test_classic_clients_are_the_connected_and_failed_ones(sim: CentralSimulator) -> None:
    clients = sim.clients()
    classic = sim.classic_clients()
    assert {c["macaddr"] for c in classic} == {
        c["macAddress"] for c in clients if c["status"] in ("Connected", "Failed")
    }
    failed = sim.classic_clients("WIRELESS", "FAILED_TO_CONNECT")
    assert failed
    assert all(c["failure_stage"] for c in failed)
    assert sim.classic_clients("WIRED", "FAILED_TO_CONNECT") == []
    wired = sim.classic_clients("WIRED", "CONNECTED")
    assert wired
    assert all(c["client_type"] == "WIRED" for c in wired)
    assert all(0 <= c["health"] <= 100 for c in classic)
