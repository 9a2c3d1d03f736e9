"""The device-side MCP tools through the SDK's in-process client, on a real PostgreSQL loaded from the
simulator: what an assistant gets back, checked against the simulator's records, and what it may not ask."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from mcp import Client

from glp_pipeline.settings import get_settings
from glp_pipeline.sources.greenlake import parse_api_time
from mcp_server.server import MAX_PAGE_SIZE, build_server

pytestmark = pytest.mark.anyio

TOOLS = (
    "device_subscriptions",
    "unassigned_devices",
    "device_summary",
    "devices_by_location",
    "device_age_analysis",
    "model_distribution",
    "devices_by_tag",
    "tag_statistics",
    "recently_updated",
)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=180, subscriptions=50, seed=31)


@pytest.fixture
def server(db, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    return build_server()


async def _call(server, tool: str, **arguments):
    async with Client(server) as client:
        return await client.call_tool(tool, arguments)


async def _ok(server, tool: str, **arguments) -> dict:
    result = await _call(server, tool, **arguments)
    assert result.is_error is False, result.content[0].text
    return result.structured_content


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _assigned(device: dict) -> bool:
    return bool((device.get("application") or {}).get("id"))


async def test_the_device_tools_are_listed_read_only_described_and_bounded(server):
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    for name in TOOLS:
        tool = tools[name]
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False, name
        assert tool.annotations.idempotent_hint is True, name
        assert tool.description and tool.output_schema, name
        for parameter, schema in tool.input_schema["properties"].items():
            if schema.get("type") == "integer" and parameter != "page":
                assert schema.get("maximum"), f"{name}.{parameter} has no upper bound"


async def test_device_subscriptions_of_a_device_and_of_an_unknown_one(server, db):
    subscriptions = {s["id"]: s for s in db.sim.subscriptions()}
    device = next(
        d for d in db.sim.devices() if d.get("subscription") and d["subscription"][0]["id"] in subscriptions
    )
    result = await _ok(server, "device_subscriptions", device_id=device["id"])
    assert result["device"]["serial_number"] == device["serialNumber"]
    assert result["count"] == len(device["subscription"])
    first = result["subscriptions"][0]
    known = subscriptions[device["subscription"][0]["id"]]
    assert (first["subscription_key"], first["tier"], first["subscription_status"]) == (
        known["key"], known["tier"], known["subscriptionStatus"]
    )  # fmt: skip
    end = parse_api_time(known["endTime"])
    assert _time(first["ends_at"]) == end
    assert first["days_remaining"] == (end.date() - datetime.now(UTC).date()).days

    unknown = await _call(server, "device_subscriptions", device_id="00000000-0000-0000-0000-000000000000")
    assert unknown.is_error is True and "search_devices" in unknown.content[0].text
    empty = await _call(server, "device_subscriptions", device_id="")
    assert empty.is_error is True


async def test_unassigned_devices_page_and_total(server, db):
    expected = {d["id"] for d in db.sim.devices() if not _assigned(d)}
    result = await _ok(server, "unassigned_devices", page_size=MAX_PAGE_SIZE)
    assert result["total"] == len(expected) and result["pages"] == -(-len(expected) // MAX_PAGE_SIZE)
    seen = {i["device_id"] for i in result["items"]}
    if result["pages"] > 1:
        second = await _ok(server, "unassigned_devices", page=2, page_size=MAX_PAGE_SIZE)
        seen |= {i["device_id"] for i in second["items"]}
    assert seen == expected
    gateways = await _ok(server, "unassigned_devices", device_type="GATEWAY")
    assert gateways["total"] == sum(
        1 for d in db.sim.devices() if not _assigned(d) and d["deviceType"] == "GATEWAY"
    )
    too_big = await _call(server, "unassigned_devices", page_size=MAX_PAGE_SIZE + 1)
    assert too_big.is_error is True


async def test_device_summary_by_region_and_as_one_total(server, db):
    devices = db.sim.devices()
    regions = Counter(d["region"] for d in devices)
    result = await _ok(server, "device_summary", group_by=["region"])
    assert {r["region"]: r["total_devices"] for r in result["rows"]} == regions
    total = await _ok(server, "device_summary", group_by=[])
    assert total["rows"] == [total["totals"]]
    assert total["totals"]["assigned_devices"] == sum(_assigned(d) for d in devices)
    for arguments in ({"group_by": ["colour"]}, {"limit": 0}, {"limit": MAX_PAGE_SIZE + 1}):
        refused = await _call(server, "device_summary", **arguments)
        assert refused.is_error is True, arguments


async def test_devices_by_location_per_country_and_site(server, db):
    devices = db.sim.devices()
    countries = Counter(d["location"]["country"] for d in devices if d.get("location"))
    result = await _ok(server, "devices_by_location")
    assert {r["country"]: r["total_devices"] for r in result["rows"]} == countries
    assert result["no_location"]["total_devices"] == sum(1 for d in devices if not d.get("location"))
    sites = await _ok(server, "devices_by_location", level="site", limit=1)
    count = Counter(d["location"]["id"] for d in devices if d.get("location")).most_common(1)[0][1]
    assert sites["rows"][0]["total_devices"] == count and sites["locations"] >= 1
    assert {"country", "state", "city", "site", "site_id"} <= set(sites["rows"][0])
    for arguments in ({"level": "continent"}, {"limit": 0}):
        assert (await _call(server, "devices_by_location", **arguments)).is_error is True, arguments


async def test_device_age_analysis_per_type(server, db):
    devices = db.sim.devices()
    result = await _ok(server, "device_age_analysis", group_by="device_type")
    assert date.fromisoformat(result["as_of"]) == datetime.now(UTC).date()
    assert {r["device_type"]: r["total_devices"] for r in result["rows"]} == Counter(
        d["deviceType"] for d in devices
    )
    for row in result["rows"]:
        assert sum(row["age"].values()) == row["total_devices"]
        support = row["support"]
        assert (
            support["ended"] + support["ends_within_180_days"] + support["no_end_date"]
            <= row["total_devices"]
        )
        assert support["ends_within_90_days"] <= support["ends_within_180_days"]
    today = datetime.now(UTC)
    months = [
        today.year * 12 + today.month - (c.year * 12 + c.month)
        for c in map(_time, (d["createdAt"] for d in devices))
    ]
    assert result["totals"]["age"]["<1y"] == sum(m < 12 for m in months)
    assert result["totals"]["age"]["3-5y"] == sum(36 <= m < 60 for m in months)
    assert (await _call(server, "device_age_analysis", group_by="region")).is_error is True


async def test_model_distribution_and_its_shares(server, db):
    devices = db.sim.devices()
    result = await _ok(server, "model_distribution", limit=3)
    count = Counter(d["model"] for d in devices).most_common(1)[0][1]
    assert result["rows"][0]["total_devices"] == count and len(result["rows"]) == 3
    assert result["total_devices"] == len(devices)
    assert result["rows"][0]["share_pct"] == round(100 * count / len(devices), 1)
    everything = await _ok(server, "model_distribution", limit=MAX_PAGE_SIZE)
    assert abs(sum(r["share_pct"] for r in everything["rows"]) - 100) < 0.1 * len(everything["rows"])


async def test_devices_by_tag_and_tag_statistics(server, db):
    devices = db.sim.devices()
    stats = await _ok(server, "tag_statistics", limit=MAX_PAGE_SIZE, top_values=2)
    key_counts = Counter(k for d in devices for k in (d.get("tags") or {}))
    assert {k["tag_key"]: k["devices"] for k in stats["keys"] if k["devices"]} == key_counts
    assert all(len(k["top_values"]) <= 2 for k in stats["keys"])

    key = stats["keys"][0]["tag_key"]
    value = stats["keys"][0]["top_values"][0]["value"]
    tagged = await _ok(server, "devices_by_tag", tag_key=key, tag_value=value, page_size=MAX_PAGE_SIZE)
    expected = {d["id"] for d in devices if (d.get("tags") or {}).get(key) == value}
    assert {i["device_id"] for i in tagged["items"]} == expected and tagged["total"] == len(expected)
    assert "similar_keys" not in tagged

    other_case = await _ok(
        server, "devices_by_tag", tag_key=key.upper() if key != key.upper() else key.lower()
    )
    assert other_case["total"] == 0 and key in other_case["similar_keys"]
    assert (await _call(server, "devices_by_tag", tag_key="")).is_error is True
    assert (await _call(server, "tag_statistics", top_values=21)).is_error is True


async def test_recently_updated_devices_and_subscriptions(server, db):
    for kind, records in (("devices", db.sim.devices()), ("subscriptions", db.sim.subscriptions())):
        result = await _ok(server, "recently_updated", days=30, kind=kind, page_size=5)
        since = _time(result["since"])
        recent = sorted(
            (r for r in records if parse_api_time(r["updatedAt"]) >= since),
            key=lambda r: r["updatedAt"],
            reverse=True,
        )
        key = "device_id" if kind == "devices" else "subscription_id"
        assert result["updated"]["total"] == len(recent), kind
        assert [u[key] for u in result["updated"]["items"]] == [r["id"] for r in recent[:5]], kind
        assert result["removed"] == {"items": [], "total": 0, "page": 1, "pages": 1, "page_size": 5}
    for arguments in ({"days": 0}, {"days": 366}, {"kind": "applications"}, {"page": 0}):
        assert (await _call(server, "recently_updated", **arguments)).is_error is True, arguments
