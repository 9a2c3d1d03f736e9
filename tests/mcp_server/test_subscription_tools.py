"""The subscription and sync tools through the SDK's in-memory client, on a real PostgreSQL loaded from the
simulator; answers are checked against ground truth from the simulator's records."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from mcp import Client
from pydantic import SecretStr

from glp_pipeline.greenlake import GreenLakeClient
from glp_pipeline.settings import get_settings
from glp_pipeline.sources.greenlake import parse_api_time
from glp_pipeline.sync import SyncError, run_sync
from mcp_server.server import build_server

pytestmark = pytest.mark.anyio

NEW_TOOLS = {
    "get_subscription",
    "expiring_subscriptions",
    "subscription_summary",
    "license_utilization",
    "subscriptions_by_tier",
    "evaluation_subscriptions",
    "renewal_forecast",
    "sync_history",
    "sync_metrics",
}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def db(synced_database):
    """90 subscriptions (so that one evaluation has ended), then a sync refused for bad credentials."""
    built = synced_database(devices=150, subscriptions=90, seed=4)
    bad = built.settings.model_copy(update={"glp_client_secret": SecretStr("not-the-secret")})
    with pytest.raises(SyncError) as failure, GreenLakeClient.from_settings(bad) as client:
        run_sync(bad, client, mode="full", url=built.url)
    built.error = str(failure.value)
    built.linked = Counter(
        sub_id
        for device in built.sim.devices()
        for sub_id in {link["id"] for link in device.get("subscription") or []}
    )
    return built


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


def _end(sub: dict) -> datetime:
    return parse_api_time(sub["endTime"])


def _used(sub: dict) -> int:
    return int(sub["quantity"]) - int(sub["availableQuantity"])


async def test_the_tools_are_listed_read_only_with_bounded_parameters(server):
    async with Client(server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) >= NEW_TOOLS
    for name in NEW_TOOLS:
        tool = tools[name]
        assert tool.annotations.read_only_hint is True and tool.annotations.idempotent_hint is True, name
        assert tool.description and tool.output_schema, name
    assert tools["renewal_forecast"].input_schema["properties"]["months"]["maximum"] == 36
    assert tools["license_utilization"].input_schema["properties"]["page_size"]["maximum"] == 100


async def test_get_subscription_by_id_and_key_and_an_unknown_one(server, db):
    sub = max(db.sim.subscriptions(), key=lambda s: (db.linked[s["id"]], s["id"]))
    detail = await _ok(server, "get_subscription", subscription_id=sub["id"])
    assert detail["subscription"]["subscription_key"] == sub["key"]
    assert detail["subscription"]["ends_at"] == _end(sub).isoformat().replace("+00:00", "Z")
    assert detail["days_remaining"] == (_end(sub).date() - datetime.now(UTC).date()).days
    assert detail["licences"]["used"] == _used(sub)
    assert detail["licences"]["quantity"] == int(sub["quantity"])
    assert detail["linked_devices"] == db.linked[sub["id"]] > 0
    assert detail["tags"] == (sub.get("tags") or {})
    by_key = await _ok(server, "get_subscription", subscription_key=sub["key"])
    assert by_key["subscription"]["subscription_id"] == sub["id"]

    unknown = await _call(server, "get_subscription", subscription_id="00000000-0000-0000-0000-000000000000")
    assert unknown.is_error is True and "search_subscriptions" in unknown.content[0].text
    neither = await _call(server, "get_subscription")
    assert neither.is_error is True and "subscription_key" in neither.content[0].text


async def test_expiring_subscriptions_pages_and_totals(server, db):
    now = datetime.now(UTC)
    truth = sorted(
        (s for s in db.sim.subscriptions() if now <= _end(s) < now + timedelta(days=90)),
        key=lambda s: (_end(s), s["id"]),
    )
    first = await _ok(server, "expiring_subscriptions", days=90, page_size=5)
    second = await _ok(server, "expiring_subscriptions", days=90, page_size=5, page=2)
    assert first["total"] == len(truth) > 5
    assert [i["subscription_id"] for i in first["items"] + second["items"]] == [s["id"] for s in truth[:10]]
    assert first["totals"] == {
        "subscriptions": len(truth),
        "licences": sum(int(s["quantity"]) for s in truth),
        "licences_in_use": sum(_used(s) for s in truth),
        "devices_covered": sum(db.linked[s["id"]] for s in truth),
    }
    assert all(0 <= i["days_remaining"] <= 90 for i in first["items"])

    too_far = await _call(server, "expiring_subscriptions", days=5000)
    assert too_far.is_error is True
    too_big = await _call(server, "expiring_subscriptions", page_size=101)
    assert too_big.is_error is True


async def test_evaluation_subscriptions(server, db):
    now = datetime.now(UTC)
    evals = [s for s in db.sim.subscriptions() if s["isEval"]]
    live = {s["id"] for s in evals if _end(s) >= now}
    assert live and len(live) < len(evals), "the data holds live and ended evaluations"
    current = await _ok(server, "evaluation_subscriptions")
    assert {i["subscription_id"] for i in current["items"]} == live
    everything = await _ok(server, "evaluation_subscriptions", include_ended=True)
    assert {i["subscription_id"] for i in everything["items"]} == {s["id"] for s in evals}
    assert everything["totals"]["devices_covered"] == sum(db.linked[s["id"]] for s in evals)


async def test_license_utilization_and_the_summaries(server, db):
    subs = db.sim.subscriptions()
    low = await _ok(server, "license_utilization", max_pct=10, page_size=100)
    expected = {
        s["id"] for s in subs if int(s["quantity"]) and round(100.0 * _used(s) / int(s["quantity"]), 1) <= 10
    }
    assert {i["subscription_id"] for i in low["items"]} == expected
    top = await _ok(server, "license_utilization", sort="linked_devices", descending=True, page_size=3)
    assert [i["linked_devices"] for i in top["items"]] == sorted(
        (db.linked[s["id"]] for s in subs), reverse=True
    )[:3]
    refused = await _call(server, "license_utilization", min_pct=80, max_pct=20)
    assert refused.is_error is True and "swap them" in refused.content[0].text
    assert (await _call(server, "license_utilization", sort="nonsense")).is_error is True

    summary = (await _ok(server, "subscription_summary"))["rows"]
    assert sum(r["subscriptions"] for r in summary) == len(subs)
    assert sum(r["used_quantity"] for r in summary) == sum(_used(s) for s in subs)
    tiers = (await _ok(server, "subscriptions_by_tier"))["rows"]
    started = [s for s in subs if s["subscriptionStatus"] == "STARTED"]
    assert {(r["tier"], r["subscription_type"]): r["total_quantity"] for r in tiers} == {
        key: sum(int(s["quantity"]) for s in started if (s["tier"], s["subscriptionType"]) == key)
        for key in {(s["tier"], s["subscriptionType"]) for s in started}
    }


async def test_renewal_forecast(server, db):
    now = datetime.now(UTC)
    forecast = await _ok(server, "renewal_forecast", months=6, group_by="sku")
    assert len(forecast["months"]) == 6
    assert forecast["months"][0]["month"] == now.date().replace(day=1).isoformat()
    last = forecast["months"][-1]["month"]
    horizon = datetime.fromisoformat(last).replace(tzinfo=UTC) + timedelta(days=31)
    horizon = horizon.replace(day=1)
    ending = [s for s in db.sim.subscriptions() if now <= _end(s) < horizon]
    assert forecast["totals"]["subscriptions_ending"] == len(ending)
    assert forecast["totals"]["licences_in_use"] == sum(_used(s) for s in ending)
    by_sku = Counter()
    for month in forecast["months"]:
        for group in month["groups"]:
            by_sku[group["sku"]] += group["subscriptions_ending"]
    assert by_sku == Counter(s["sku"] for s in ending)

    for bad in ({"months": 0}, {"months": 37}, {"group_by": "region"}):
        assert (await _call(server, "renewal_forecast", **bad)).is_error is True, bad


async def test_sync_history_and_metrics_count_the_failed_sync(server, db):
    history = await _ok(server, "sync_history")
    assert history["count"] == 4
    assert [r["sync_status"] for r in history["runs"]] == ["failed", "failed", "success", "success"]
    assert history["runs"][0]["error_message"] == db.error
    failed = await _ok(server, "sync_history", resource="subscriptions", status="failed")
    assert [(r["resource"], r["sync_status"]) for r in failed["runs"]] == [("subscriptions", "failed")]

    metrics = {m["resource"]: m for m in (await _ok(server, "sync_metrics", days=7))["resources"]}
    assert metrics["devices"]["runs"] == 2 and metrics["devices"]["failures"] == 1
    assert metrics["devices"]["success_rate_pct"] == 50.0
    assert metrics["devices"]["records_loaded"] == len(db.sim.devices())
    assert metrics["subscriptions"]["records_loaded"] == len(db.sim.subscriptions())
    assert metrics["subscriptions"]["last_error_message"] == db.error
    assert metrics["devices"]["last_success_at"] is not None

    assert (await _call(server, "sync_metrics", days=0)).is_error is True
    assert (await _call(server, "sync_history", limit=101)).is_error is True
    status = await _ok(server, "sync_status")
    assert status["recent_runs"], "the existing tool stays"
