"""`filter` and `filter-tags` over HTTP, checked against the simulator's ground truth."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from .support import Live

DEVICES, SUBSCRIPTIONS = "/devices/v1/devices", "/subscriptions/v1/subscriptions"
Record = dict[str, Any]


def served_ids(live: Live, path: str, **params: str) -> list[str]:
    return [item["id"] for item in live.list_all(path, **params)]


def expected_ids(records: list[Record], predicate: Callable[[Record], bool]) -> list[str]:
    return [record["id"] for record in records if predicate(record)]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def devices(shared: Live) -> list[Record]:
    return shared.sim.devices()


@pytest.fixture(scope="module")
def subscriptions(shared: Live) -> list[Record]:
    return shared.sim.subscriptions()


@pytest.mark.parametrize(
    ("text", "predicate"),
    [
        ("deviceType eq 'SWITCH'", lambda d: d["deviceType"] == "SWITCH"),
        ("deviceType ne 'IAP'", lambda d: d["deviceType"] != "IAP"),
        ("archived eq true", lambda d: d["archived"] is True),
        ("isFlex eq true and category eq 'COMPUTE'", lambda d: d["isFlex"] and d["category"] == "COMPUTE"),
        ("region eq null", lambda d: d["region"] is None),
        ("manufacturedDate eq null", lambda d: d["manufacturedDate"] is None),
        ("management eq 'MSP'", lambda d: d["management"] == "MSP"),
        ("not deviceType eq 'IAP'", lambda d: d["deviceType"] != "IAP"),
        ("assignedState eq 'ASSIGNED_TO_SERVICE' and (deviceType eq 'IAP' or deviceType eq 'AP')",
         lambda d: d["assignedState"] == "ASSIGNED_TO_SERVICE" and d["deviceType"] in ("IAP", "AP")),
        ("deviceType eq 'GATEWAY' or deviceType eq 'SENSOR' and archived eq false",
         lambda d: d["deviceType"] == "GATEWAY" or (d["deviceType"] == "SENSOR" and not d["archived"])),
        ("deviceType eq 'WIFI7_AP'", lambda d: d["deviceType"] == "WIFI7_AP"),
        ("secondaryName eq 'Büro 3. OG'", lambda d: d["secondaryName"] == "Büro 3. OG"),
        ("location/city eq '東京'", lambda d: (d["location"] or {}).get("city") == "東京"),
    ],
)  # fmt: skip
def test_device_filters_match_ground_truth(
    shared: Live, devices: list[Record], text: str, predicate: Callable[[Record], bool]
) -> None:
    expected = expected_ids(devices, predicate)
    assert expected, "the filter must match something to prove anything"
    assert served_ids(shared, DEVICES, filter=text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "deviceType in 'COMPUTE', 'STORAGE'",
        "deviceType in ('COMPUTE','STORAGE')",
        "deviceType in ['COMPUTE', 'STORAGE']",
    ],
)
def test_in_accepts_all_three_documented_forms(shared: Live, devices: list[Record], text: str) -> None:
    expected = expected_ids(devices, lambda d: d["deviceType"] in ("COMPUTE", "STORAGE"))
    assert served_ids(shared, DEVICES, filter=text) == expected


def test_nested_and_derived_properties(shared: Live, devices: list[Record]) -> None:
    app_id = next(d["application"]["id"] for d in devices if d["category"] == "COMPUTE" and d["application"])
    expected = expected_ids(devices, lambda d: (d["application"] or {}).get("id") == app_id)
    assert served_ids(shared, DEVICES, filter=f"application/id eq '{app_id}'") == expected
    workspace = shared.sim.config.workspace_id
    expected = expected_ids(devices, lambda d: (d["inUseWorkspace"] or {}).get("id") == workspace)
    assert served_ids(shared, DEVICES, filter=f"inUseWorkspaceId eq '{workspace}'") == expected
    sub_id = next(link["id"] for d in devices for link in d["subscription"] or [])
    expected = expected_ids(devices, lambda d: any(s["id"] == sub_id for s in d["subscription"] or []))
    assert served_ids(shared, DEVICES, filter=f"subscription/id eq '{sub_id}'") == expected


def test_timestamps_compare_as_instants(shared: Live, devices: list[Record]) -> None:
    pivot = sorted(d["updatedAt"] for d in devices)[400]
    expected = expected_ids(devices, lambda d: d["updatedAt"] > pivot)
    assert served_ids(shared, DEVICES, filter=f"updatedAt gt '{pivot}'") == expected
    assert len(served_ids(shared, DEVICES, filter=f"updatedAt ge '{pivot}'")) == len(expected) + 1
    # The same instant written with a +02:00 offset selects the same devices.
    shifted = (ts(pivot) + timedelta(hours=2)).replace(tzinfo=None).isoformat(
        timespec="milliseconds"
    ) + "+02:00"
    assert served_ids(shared, DEVICES, filter=f"updatedAt gt '{shifted}'") == expected
    end = max(d["warranty"]["currentSupportLevel"]["endDate"] for d in devices if d["warranty"])
    assert served_ids(shared, DEVICES, filter=f"currentSupportLevelEndDate gt '{end}'") == []
    expected = expected_ids(devices, lambda d: d["warranty"] is not None)
    assert served_ids(shared, DEVICES, filter=f"currentSupportLevelEndDate le '{end}'") == expected


def test_subscription_filters(shared: Live, subscriptions: list[Record], now: datetime) -> None:
    expected = expected_ids(subscriptions, lambda s: int(s["quantity"]) > 20)
    assert expected
    assert served_ids(shared, SUBSCRIPTIONS, filter="quantity gt '20'") == expected
    assert served_ids(shared, SUBSCRIPTIONS, filter="quantity gt 20") == expected
    soon = (now + timedelta(days=90)).isoformat().replace("+00:00", "Z")
    started = now.isoformat().replace("+00:00", "Z")
    expected = expected_ids(subscriptions, lambda s: now <= ts(s["endTime"]) <= ts(soon))
    assert expected
    text = f"endTime ge '{started}' and endTime le '{soon}'"
    assert served_ids(shared, SUBSCRIPTIONS, filter=text) == expected
    expected = expected_ids(subscriptions, lambda s: s["subscriptionStatus"] == "LOCKED")
    assert served_ids(shared, SUBSCRIPTIONS, filter="subscriptionStatus eq 'LOCKED'") == expected
    expected = expected_ids(subscriptions, lambda s: s["isEval"] and s["productType"] == "DEVICE")
    assert (
        served_ids(shared, SUBSCRIPTIONS, filter="isEval eq true and not productType ne 'DEVICE'") == expected
    )


def test_filter_tags(shared: Live, devices: list[Record]) -> None:
    def tag(record: Record, key: str) -> str | None:
        return (record["tags"] or {}).get(key)

    expected = expected_ids(devices, lambda d: tag(d, "env") == "prod")
    assert expected
    assert served_ids(shared, DEVICES, **{"filter-tags": "'env' eq 'prod'"}) == expected
    assert served_ids(shared, DEVICES, **{"filter-tags": "'ENV' eq 'prod'"}) == expected  # keys ignore case
    expected = expected_ids(devices, lambda d: tag(d, "site") in ("hq", "lab"))
    assert served_ids(shared, DEVICES, **{"filter-tags": "'site' in 'hq', 'lab'"}) == expected
    expected = expected_ids(devices, lambda d: tag(d, "env") != "prod")
    assert served_ids(shared, DEVICES, **{"filter-tags": "not 'env' eq 'prod'"}) == expected
    expected = expected_ids(devices, lambda d: tag(d, "env") == "prod" and d["deviceType"] == "SWITCH")
    both = {"filter-tags": "'env' eq 'prod'", "filter": "deviceType eq 'SWITCH'"}
    assert served_ids(shared, DEVICES, **both) == expected


@pytest.mark.parametrize(
    ("params", "fragments"),
    [
        ({"filter": "colour eq 'red'"}, ["filter", "'colour'", "position 0"]),
        ({"filter": "deviceType eq 'IAP' and"}, ["filter", "expected a property name", "end of input"]),
        ({"filter": "deviceType eq IAP"}, ["position 14", "single quotes"]),
        ({"filter": "updatedAt gt 'last week'"}, ["'last week'", "timestamp"]),
        ({"filter-tags": "'env' gt 'a'"}, ["filter-tags", "eq, ne and in"]),
    ],
)
def test_bad_filters_are_400_with_an_actionable_message(
    shared: Live, params: dict[str, str], fragments: list[str]
) -> None:
    response = shared.get(DEVICES, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "HPE_GL_ERROR_BAD_REQUEST"
    for fragment in fragments:
        assert fragment in body["message"]
    issue = body["errorDetails"][0]["issues"][0]
    assert issue["subject"] == next(iter(params))


def test_unknown_subscription_filter_property_lists_the_allowed_ones(shared: Live) -> None:
    response = shared.get(SUBSCRIPTIONS, filter="serialNumber eq 'X'")
    assert response.status_code == 400
    assert "subscriptionStatus" in response.json()["message"]
