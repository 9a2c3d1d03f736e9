"""The MCP server through the SDK's in-process client, on a real PostgreSQL loaded from the simulator."""

from __future__ import annotations

import pytest
from mcp import Client

from glp_pipeline.settings import get_settings
from mcp_server.server import MAX_PAGE_SIZE, build_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def db(synced_database):
    return synced_database(devices=150, subscriptions=40, seed=9)


@pytest.fixture
def server(db, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    return build_server()


def _live(sim):
    return [d for d in sim.devices()]


async def _call(server, tool: str, **arguments):
    async with Client(server) as client:
        result = await client.call_tool(tool, arguments)
    return result


async def test_every_tool_is_read_only_and_described(server):
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    names = {t.name for t in tools}
    assert {
        "search_devices",
        "get_device",
        "search_subscriptions",
        "inventory_overview",
        "sync_status",
    } <= names
    for tool in tools:
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False, (
            tool.name
        )
        assert tool.description and tool.output_schema, tool.name


async def test_search_devices_answers_from_the_database(server, db):
    devices = _live(db.sim)
    result = await _call(server, "search_devices", page_size=10)
    assert result.is_error is False
    assert result.structured_content["total"] == len(devices)
    assert len(result.structured_content["items"]) == 10

    switches = [d for d in devices if d["deviceType"] == "SWITCH"]
    result = await _call(server, "search_devices", device_type="SWITCH", page_size=MAX_PAGE_SIZE)
    assert {i["device_id"] for i in result.structured_content["items"]} == {d["id"] for d in switches}

    target = devices[7]
    result = await _call(server, "search_devices", text=target["serialNumber"])
    assert result.structured_content["items"][0]["serial_number"] == target["serialNumber"]


async def test_limits_are_bounded(server):
    result = await _call(server, "search_devices", page_size=MAX_PAGE_SIZE + 1)
    assert result.is_error is True
    result = await _call(server, "search_devices", sort="; drop table x")
    assert result.is_error is True and "Cannot sort by" in result.content[0].text


async def test_get_device_and_an_unknown_one(server, db):
    device = next(d for d in db.sim.devices() if d.get("subscription"))
    result = await _call(server, "get_device", device_id=device["id"])
    detail = result.structured_content
    assert detail["device"]["serial_number"] == device["serialNumber"]
    assert [s["subscription_id"] for s in detail["subscriptions"]] == [
        s["id"] for s in device["subscription"]
    ]
    assert detail["device"]["raw"]["id"] == device["id"]

    result = await _call(server, "get_device", device_id="00000000-0000-0000-0000-000000000000")
    assert result.is_error is True and "search_devices" in result.content[0].text


async def test_subscriptions_and_their_devices(server, db):
    subscription = next(
        s for s in db.sim.subscriptions() if any(
            link["id"] == s["id"] for d in db.sim.devices() for link in d.get("subscription") or []
        )
    )  # fmt: skip
    linked = {
        d["id"]
        for d in db.sim.devices()
        for link in d.get("subscription") or []
        if link["id"] == subscription["id"]
    }
    result = await _call(server, "subscription_devices", subscription_id=subscription["id"])
    assert {d["device_id"] for d in result.structured_content["devices"]} == linked
    result = await _call(server, "search_subscriptions", text=subscription["key"])
    assert result.structured_content["items"][0]["subscription_id"] == subscription["id"]


async def test_overview_trends_and_sync_status(server, db):
    overview = (await _call(server, "inventory_overview")).structured_content
    assert overview["devices"]["total"] == len(db.sim.devices())
    rows = (await _call(server, "devices_by_type_and_region")).structured_content["rows"]
    assert sum(r["total_devices"] for r in rows) == len(db.sim.devices())
    status = (await _call(server, "sync_status", limit=5)).structured_content
    assert {f["resource"] for f in status["freshness"]} == {"devices", "subscriptions"}
    assert all(f["stale"] is False for f in status["freshness"])
    assert {r["resource"] for r in status["recent_runs"]} == {"devices", "subscriptions"}
    values = (await _call(server, "filter_values")).structured_content
    assert "SWITCH" in values["device_types"]


async def test_a_database_that_is_down_is_a_tool_error_that_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://glp:x@127.0.0.1:9/glp")
    monkeypatch.setenv("GLP_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    result = await _call(build_server(), "inventory_overview")
    assert result.is_error is True
    text = result.content[0].text
    assert "PostgreSQL" in text or "database" in text.lower()
    assert "x@" not in text, "no credentials in errors"


async def test_glp_mcp_over_stdio_as_an_assistant_starts_it(db, tmp_path):
    """What the README's Claude Desktop / Claude Code / VS Code entries run: `glp mcp` on stdio."""
    import os
    import sys

    from mcp import StdioServerParameters

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLP_", "DATABASE_URL"))}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "glp_pipeline.cli", "mcp"],
        env=env | {"DATABASE_URL": db.url, "GLP_HOME": str(tmp_path / "home")},
    )
    async with Client(params) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("inventory_overview", {})
    assert "search_devices" in tools
    assert result.structured_content["devices"]["total"] == len(db.sim.devices())


async def test_resources_describe_the_schema_and_their_examples_run(server, db):
    import json
    import re

    import psycopg

    async with Client(server) as client:
        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        schema = json.loads((await client.read_resource("glp://schema")).contents[0].text)
        values = json.loads((await client.read_resource("glp://values")).contents[0].text)
        examples = (await client.read_resource("glp://examples")).contents[0].text
        prompts = {p.name for p in (await client.list_prompts()).prompts}
    assert {"glp://schema", "glp://values", "glp://examples"} <= uris
    views = {(t["schema"], t["name"]): t for t in schema}
    summary = views[("reporting", "device_summary")]
    assert summary["description"] and all(c["description"] for c in summary["columns"]), "dbt docs persisted"
    assert ("marts", "devices") in views and not any(s not in ("reporting", "marts") for s, _ in views)
    assert "SWITCH" in values["device_types"]
    queries = [q.strip() for q in re.findall(r"\n\n    (select .*?;)", examples, flags=re.S)]
    assert len(queries) == 4
    with psycopg.connect(db.url) as conn:
        for query in queries:
            conn.execute(" ".join(query.split())).fetchall()  # each example runs as written
    assert {"device_analysis", "expiry_review", "utilisation_report"} <= prompts


async def test_run_query_answers_and_refuses_with_a_reason(server, db):
    result = await _call(
        server,
        "run_query",
        sql="select device_type, count(*) as n from reporting.active_devices group by 1 order by 2 desc",
    )
    assert result.is_error is False, result.content
    counts = {r["device_type"]: r["n"] for r in result.structured_content["rows"]}
    assert sum(counts.values()) == len([d for d in db.sim.devices() if not d.get("archived")])
    for attack in (
        "delete from marts.devices",
        "select 1; drop table marts.devices",
        "select * from greenlake_raw.devices",
        "select pg_sleep(10)",
        "copy marts.devices to '/tmp/x'",
    ):
        refused = await _call(server, "run_query", sql=attack)
        assert refused.is_error is True, attack
        assert refused.content[0].text, attack
    capped = await _call(server, "run_query", sql="select device_id from marts.devices", max_rows=5)
    assert capped.structured_content["row_count"] == 5 and capped.structured_content["truncated"] is True
