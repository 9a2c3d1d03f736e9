"""The generated inventory: complete, realistic, awkward where real data is awkward, and deterministic."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import orjson
import pytest

from glp_pipeline.simulator import GreenLakeSimulator, SimulatorConfig
from glp_pipeline.simulator.schema import DEVICE_FIELDS, SUBSCRIPTION_FIELDS

DOCUMENTED_DEVICE_TYPES = {
    "ALS", "AP", "BLE", "COMPUTE", "CONTROLLER", "DHCI_COMPUTE", "DHCI_STORAGE", "EINAR", "EINR", "GATEWAY",
    "IAP", "LTE_MODEM", "MC", "STORAGE", "SWITCH", "NW_THIRD_PARTY", "PCE", "SD_WAN_GW", "OPSRAMP_SAAS",
    "SD_SAAS", "SENSOR", "BRIDGES", "UNKNOWN",
}  # fmt: skip
DOCUMENTED_SUBSCRIPTION_STATUSES = {"STARTED", "ENDED", "SUSPENDED", "CANCELLED", "LOCKED", "NONE"}
COMPATIBLE = {"IAP": "CENTRAL_AP", "AP": "CENTRAL_AP", "SWITCH": "CENTRAL_SWITCH", "GATEWAY": "CENTRAL_GW",
              "COMPUTE": "CENTRAL_COMPUTE", "STORAGE": "CENTRAL_STORAGE",
              "SENSOR": "UXI_SENSOR_CLOUD"}  # fmt: skip
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def inventory(config: Callable[..., SimulatorConfig]) -> tuple[list[dict], list[dict]]:
    sim = GreenLakeSimulator(config(devices=3000, subscriptions=400))
    return sim.devices(), sim.subscriptions()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_same_seed_and_now_give_the_same_data(config: Callable[..., SimulatorConfig]) -> None:
    first = GreenLakeSimulator(config(devices=200, subscriptions=40))
    second = GreenLakeSimulator(config(devices=200, subscriptions=40))
    other = GreenLakeSimulator(config(devices=200, subscriptions=40, seed=8))
    assert orjson.dumps(first.devices()) == orjson.dumps(second.devices())
    assert orjson.dumps(first.subscriptions()) == orjson.dumps(second.subscriptions())
    assert first.config.workspace_id == second.config.workspace_id
    assert {d["serialNumber"] for d in first.devices()}.isdisjoint(
        {d["serialNumber"] for d in other.devices()}
    )
    assert first.config.workspace_id != other.config.workspace_id


def test_every_documented_field_is_present(inventory: tuple[list[dict], list[dict]]) -> None:
    devices, subscriptions = inventory
    assert all(tuple(d) == DEVICE_FIELDS for d in devices)
    assert all(tuple(s) == SUBSCRIPTION_FIELDS for s in subscriptions)
    assert all(d["type"] == "devices/device" for d in devices)
    assert all(s["type"] == "subscriptions/subscription" for s in subscriptions)
    # nullable fields are sometimes null and sometimes not
    for name in (
        "region",
        "deviceName",
        "secondaryName",
        "application",
        "location",
        "warranty",
        "contact",
        "manufacturedDate",
        "tenantWorkspaceId",
        "management",
        "billingTier",
        "subscriptionCategory",
        "dedicatedPlatformWorkspace",
        "inUseWorkspace",
        "macAddress",
        "tags",
        "subscription",
    ):
        values = [d[name] for d in devices]
        assert None in values, name
        assert any(v is not None for v in values), name


def test_identifiers_are_unique_and_well_formed(inventory: tuple[list[dict], list[dict]]) -> None:
    devices, subscriptions = inventory
    assert len({d["id"] for d in devices}) == len(devices)
    assert len({d["serialNumber"] for d in devices}) == len(devices)
    macs = [d["macAddress"] for d in devices if d["macAddress"]]
    assert len(set(macs)) == len(macs)
    assert all(re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", mac) for mac in macs)
    assert len({s["key"] for s in subscriptions}) == len(subscriptions)
    uuid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    assert all(uuid.match(d["id"]) for d in devices)


def test_unknown_and_rare_enum_values_are_present(inventory: tuple[list[dict], list[dict]]) -> None:
    devices, subscriptions = inventory
    types = Counter(d["deviceType"] for d in devices)
    assert {"IAP", "AP", "SWITCH", "GATEWAY", "COMPUTE", "STORAGE", "SENSOR"} <= set(types)
    assert {"CONTROLLER", "DHCI_STORAGE", "UNKNOWN"} <= set(types)
    assert set(types) - DOCUMENTED_DEVICE_TYPES, "some device types must be outside the documented enum"
    assert types["IAP"] > types["AP"]  # real Aruba APs mostly report IAP
    states = {d["assignedState"] for d in devices}
    assert "ASSIGNED_TO_ACTIVATE_CONFIG" in states
    statuses = {s["subscriptionStatus"] for s in subscriptions}
    assert "LOCKED" in statuses
    assert statuses - DOCUMENTED_SUBSCRIPTION_STATUSES, "some statuses must be outside the documented enum"


def test_assignment_is_consistent(inventory: tuple[list[dict], list[dict]]) -> None:
    devices, _ = inventory
    for device in devices:
        if device["assignedState"] == "UNASSIGNED":
            assert device["application"] is None
            assert device["region"] is None
        if device["assignedState"] == "ASSIGNED_TO_SERVICE":
            assert device["application"]["resourceUri"].endswith(device["application"]["id"])
            assert device["region"]


def test_subscription_links_are_realistic(inventory: tuple[list[dict], list[dict]]) -> None:
    devices, subscriptions = inventory
    by_id = {s["id"]: s for s in subscriptions}
    counts = Counter(len(d["subscription"] or []) for d in devices)
    assert counts[0] > 0
    assert counts[1] > counts[2] > 0
    dangling = 0
    for device in devices:
        for link in device["subscription"] or []:
            assert set(link) == {"id", "resourceUri", "key", "tier", "startTime", "endTime"}
            sub = by_id.get(link["id"])
            if sub is None:
                dangling += 1
                continue
            assert link["key"] == sub["key"]
            if device["deviceType"] in COMPATIBLE:
                assert sub["subscriptionType"] == COMPATIBLE[device["deviceType"]]
    assert dangling > 0, "a few devices must reference a subscription the list does not have"


def test_quantities_are_strings_including_zero(inventory: tuple[list[dict], list[dict]]) -> None:
    devices, subscriptions = inventory
    used = Counter(link["id"] for d in devices for link in d["subscription"] or [])
    assert all(
        isinstance(s["quantity"], str) and isinstance(s["availableQuantity"], str) for s in subscriptions
    )
    assert any(s["availableQuantity"] == "0" for s in subscriptions)
    assert any(s["quantity"] == "0" for s in subscriptions)
    for sub in subscriptions:
        assert int(sub["quantity"]) == int(sub["availableQuantity"]) + used[sub["id"]]


def test_end_dates_cover_expiring_windows(inventory: tuple[list[dict], list[dict]], now: datetime) -> None:
    _, subscriptions = inventory
    ends = [parse(s["endTime"]) - now for s in subscriptions]
    assert any(e < timedelta(0) for e in ends)
    for low, high in ((0, 30), (30, 60), (60, 90)):
        assert any(timedelta(days=low) < e <= timedelta(days=high) for e in ends), (low, high)
    assert any(e > timedelta(days=365) for e in ends)


def test_timestamps_have_milliseconds_and_z_and_precede_now(
    inventory: tuple[list[dict], list[dict]], now: datetime
) -> None:
    devices, subscriptions = inventory
    for record in devices + subscriptions:
        assert TIMESTAMP.match(record["createdAt"]) and TIMESTAMP.match(record["updatedAt"])
        assert parse(record["createdAt"]) <= parse(record["updatedAt"]) <= now


def test_names_and_tags_are_varied(inventory: tuple[list[dict], list[dict]]) -> None:
    devices, subscriptions = inventory
    names = [d["deviceName"] for d in devices if d["deviceName"]] + [
        d["secondaryName"] for d in devices if d["secondaryName"]
    ]
    assert any(name.startswith("Zürich") for name in names)
    assert any("東京" in name for name in names)
    tags = [d["tags"] for d in devices]
    assert None in tags and {} in tags
    assert max(len(t or {}) for t in tags) >= 15
    assert any(s["tags"] for s in subscriptions)


def test_large_inventory_generates(now: datetime) -> None:
    sim = GreenLakeSimulator(SimulatorConfig(devices=100_000, subscriptions=50_000, now=now))
    assert len(sim.inventory.collection("devices")) == 100_000
    assert len(sim.inventory.collection("subscriptions")) == 50_000
    devices = sim.inventory.collection("devices").all()
    assert len({d["serialNumber"] for d in devices}) == 100_000
